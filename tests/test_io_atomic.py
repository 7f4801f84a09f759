"""Atomic saves (issue 12 items 3, 4, 16): permissions kept, symlinks written through, stale temporaries of dead
writers cleaned, and errors that name the file being saved."""

import errno
import os
import stat
import subprocess
import sys

import numpy as np
import pytest

import kernelscope as ks
from kernelscope import _io
from kernelscope.saving import keras_file as saving_impl

L = ks.layers


def tiny():
    return ks.Sequential([ks.Input((3,)), L.Dense(2)])


def dead_pid():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


# ------------------------------------------------------------------ item 4: permissions and symlinks
def test_saving_over_a_file_keeps_its_permissions(tmp_path):
    path = tmp_path / "private.keras"
    tiny().save(path)
    os.chmod(path, 0o600)
    tiny().save(path)
    assert mode(path) == 0o600
    os.chmod(path, 0o640)
    _io.atomic_write_text(path, "x")
    assert mode(path) == 0o640


def test_new_files_get_the_umask_permissions(tmp_path):
    path = tmp_path / "fresh.txt"
    _io.atomic_write_text(path, "x")
    assert mode(path) == 0o666 & ~_io._UMASK


def test_saving_to_a_symlink_writes_through_it(tmp_path):
    (tmp_path / "store").mkdir()
    target = tmp_path / "store" / "real.keras"
    tiny().save(target)
    os.chmod(target, 0o600)
    link = tmp_path / "latest.keras"
    link.symlink_to(target)
    model = tiny()
    model.save(link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert mode(target) == 0o600
    np.testing.assert_array_equal(ks.models.load_model(target).get_weights()[0], model.get_weights()[0])
    assert sorted(os.listdir(tmp_path / "store")) == ["real.keras"]  # the temporary was made beside the target


def test_csv_logger_append_keeps_permissions(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("epoch,loss\n0,1.0\n")
    os.chmod(path, 0o640)
    model = tiny()
    model.compile("sgd", "mse")
    model.fit(np.ones((4, 3)), np.zeros((4, 2)), epochs=1, verbose=0,
              callbacks=[ks.callbacks.CSVLogger(str(path), append=True)])
    assert mode(path) == 0o640 and path.read_text().count("\n") == 3


# ------------------------------------------------------------------ item 3: stale temporaries
def test_stale_temporaries_of_dead_writers_are_cleaned_on_the_next_save(tmp_path):
    path = tmp_path / "model.keras"
    dead = dead_pid()
    host = _io._HOST
    stale = tmp_path / f".model.keras.{dead}.{host}.ab_c12.tmp"
    live = tmp_path / f".model.keras.{os.getppid()}.{host}.xyz123.tmp"  # our parent process is alive
    other_target = tmp_path / f".other.keras.{dead}.{host}.ab_c12.tmp"
    other_host = tmp_path / f".model.keras.{dead}.{int(host, 16) ^ 1:08x}.ab_c12.tmp"  # a PID we cannot check
    old_scheme = tmp_path / ".model.keras.k3j_9x2a.tmp"  # no PID: cannot tell who owns it
    for file in (stale, live, other_target, other_host, old_scheme):
        file.write_bytes(b"half a model")
    tiny().save(path)
    assert not stale.exists()
    assert live.exists() and other_target.exists() and other_host.exists() and old_scheme.exists()
    ks.models.load_model(path)


def test_the_temporary_name_carries_the_pid(tmp_path):
    seen = []

    def spy(handle):
        seen.extend(os.listdir(tmp_path))
        handle.write(b"ok")

    _io.atomic_write(tmp_path / "f.bin", spy)
    assert seen[0].startswith(f".f.bin.{os.getpid()}.{_io._HOST}.") and seen[0].endswith(".tmp")


def test_a_save_killed_midway_leaves_a_temporary_that_the_next_save_removes(tmp_path):
    path = tmp_path / "m.keras"
    code = ("import os, sys, kernelscope as ks\nfrom kernelscope import _io\n"
            "def die(handle):\n    handle.write(b'partial')\n    handle.flush()\n    os._exit(9)\n"
            "_io.atomic_write(sys.argv[1], die)\n")
    subprocess.run([sys.executable, "-c", code, str(path)], timeout=120)
    left = [name for name in os.listdir(tmp_path) if name.endswith(".tmp")]
    assert len(left) == 1 and not path.exists()  # what kill -9 leaves
    tiny().save(path)
    assert os.listdir(tmp_path) == ["m.keras"]


# ------------------------------------------------------------------ item 16: errors name the target
def test_full_disk_error_names_the_target(tmp_path, monkeypatch):
    def full(*args):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(saving_impl, "_write_archive", full)
    path = tmp_path / "big.keras"
    with pytest.raises(OSError, match=r"Could not save '.*big\.keras': No space left on device") as info:
        tiny().save(path)
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(path)
    assert os.listdir(tmp_path) == []


def test_read_only_folder_error_names_the_target(tmp_path, monkeypatch):
    # chmod cannot make a folder read-only for root (the tests may run as root): refuse like the kernel would
    def refuse(prefix, suffix, dir):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.path.join(dir, prefix + "x" + suffix))

    monkeypatch.setattr(_io.tempfile, "mkstemp", refuse)
    with pytest.raises(PermissionError, match=r"Could not save '.*ro\.keras': Permission denied") as info:
        tiny().save(tmp_path / "ro.keras")
    assert info.value.filename == str(tmp_path / "ro.keras")


def test_real_read_only_folder_when_not_root(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    os.chmod(folder, 0o500)
    try:
        if os.access(folder, os.W_OK):  # root: the kernel allows the write, which must then just work
            tiny().save(folder / "m.keras")
            assert (folder / "m.keras").exists()
        else:
            with pytest.raises(PermissionError, match=r"Could not save '.*m\.keras'"):
                tiny().save(folder / "m.keras")
    finally:
        os.chmod(folder, 0o700)
