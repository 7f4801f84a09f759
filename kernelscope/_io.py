"""Safe file writes and reads.

Writes: a temporary file beside the target, renamed over the target. A reader
never sees a half-written file, a failed write leaves the old file (or none)
and no temporary behind, and two writers of the same target each use their own
temporary, so they cannot clobber each other's. Saving over a file keeps its
permissions; saving to a symlink writes through the link to its target (as
editors do). A temporary is named ``.<target name>.<pid>.<host>.<random>.tmp``
(``<host>``: 8 hex digits of this machine's name): the next save of the same
target deletes those that this machine's dead processes left (a ``kill -9``
during a save), and only those; a folder shared with other machines keeps
theirs, since their PIDs cannot be checked from here.

Reads: :func:`open_regular_file` refuses FIFOs, devices and folders without
blocking on them, and :func:`read_exactly` reads a known number of bytes.

>>> from kernelscope._io import atomic_write_text
>>> atomic_write_text("notes.txt", "hello\\n")  # doctest: +SKIP
"""

from __future__ import annotations

import os
import pathlib
import re
import stat
import socket
import tempfile
import zlib
from typing import IO, Callable

__all__ = ["atomic_write", "atomic_write_bytes", "atomic_write_text", "open_regular_file", "read_exactly"]


def _read_umask() -> int:
    # os.umask can only be read by setting it; done once, at import, before any writer thread runs
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _read_umask()
_HOST = f"{zlib.crc32(socket.gethostname().encode()):08x}"


def _check_target(path) -> tuple:
    path = pathlib.Path(os.fspath(path))
    if path.is_dir():
        raise IsADirectoryError(21, "Is a directory, not a file", str(path))
    # write through a symlink (and chains of them) to the file it names, so the link survives
    real = pathlib.Path(os.path.realpath(path)) if path.is_symlink() else path
    folder = real.absolute().parent
    if not folder.is_dir():
        raise FileNotFoundError(2, "The folder to write into does not exist", str(folder))
    return real, folder


def _target_mode(path: pathlib.Path) -> int:
    """The target's permission bits when it exists (kept), else what ``open(path, "w")`` would give."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return 0o666 & ~_UMASK


def _process_is_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OSError):
        return False  # alive, owned by another user (or unknown): keep its file
    return False


def _remove_stale_temporaries(path: pathlib.Path, folder: pathlib.Path) -> None:
    """Delete ``.<name>.<pid>.<host>.<random>.tmp`` files of this target left by this host's dead processes.

    A PID can be reused, so a temporary of a dead writer may survive until the
    reusing process ends; files of live processes, other targets and other
    naming schemes are never touched.
    """
    pattern = re.compile(rf"\.{re.escape(path.name)}\.(\d+)\.{_HOST}\.[A-Za-z0-9_]+\.tmp")
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        found = pattern.fullmatch(entry.name)
        if found and int(found.group(1)) != os.getpid() and _process_is_gone(int(found.group(1))):
            try:
                if entry.is_file(follow_symlinks=False):
                    os.remove(entry.path)
            except OSError:
                pass  # another process cleaned it first, or the folder is read-only: harmless


def _named_error(err: OSError, path: pathlib.Path) -> OSError:
    """The same kind of OSError (same errno), naming the target instead of the temporary."""
    if err.errno is None:
        return err
    return type(err)(err.errno, f"Could not save '{path}': {err.strerror or os.strerror(err.errno)}", str(path))


def atomic_write(path, write: Callable[[IO], None], mode: str = "wb", encoding: str | None = None,
                 newline: str | None = None, fsync: bool = False) -> pathlib.Path:
    """Call ``write(handle)`` on a temporary file next to ``path``, then rename it onto ``path``.

    Parameters
    ----------
    path : str or PathLike
        The file to create or replace (a symlink is written through); its folder must exist.
    write : callable
        Receives the open temporary file (binary for ``mode="wb"``, text for ``"w"``).
    mode : "wb" or "w"
    encoding, newline : passed to ``open`` in text mode.
    fsync : bool
        Flush the data to disk before the rename (durability across a power cut).

    Returns
    -------
    pathlib.Path of the written file (the symlink's target for a symlink). A new
    file gets the permissions a plain ``open(path, "w")`` would give (``0o666``
    minus the umask); a replaced file keeps its own.

    Raises
    ------
    IsADirectoryError, FileNotFoundError
        ``path`` is a folder, or its folder does not exist (both name the path).
    OSError
        The system refused the write (full disk, read-only folder...): same errno, naming ``path``.
    """
    if mode not in ("wb", "w"):
        raise ValueError(f'`mode` must be "wb" or "w". Received: mode={mode!r}.')
    path, folder = _check_target(path)
    _remove_stale_temporaries(path, folder)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.{_HOST}.", suffix=".tmp", dir=folder)
    except OSError as err:
        raise _named_error(err, path) from err
    try:
        os.chmod(tmp, _target_mode(path))
        with os.fdopen(fd, mode, encoding=encoding, newline=newline) as handle:
            fd = None  # owned by the file object from here on
            write(handle)
            if fsync:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as err:
        if fd is not None:
            os.close(fd)
        if os.path.exists(tmp):
            os.remove(tmp)
        if isinstance(err, OSError) and err.errno is not None and err.filename != str(path):
            raise _named_error(err, path) from err
        raise
    return path


def atomic_write_bytes(path, data: bytes, fsync: bool = False) -> pathlib.Path:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_write`)."""
    return atomic_write(path, lambda handle: handle.write(data), fsync=fsync)


def atomic_write_text(path, text: str, encoding: str = "utf-8", fsync: bool = False) -> pathlib.Path:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_write`)."""
    return atomic_write(path, lambda handle: handle.write(text), mode="w", encoding=encoding, fsync=fsync)


def open_regular_file(path, what: str = "the file") -> IO[bytes]:
    """Open ``path`` for binary reading if it is a regular file (after following symlinks).

    A FIFO, a device (``/dev/zero``), a socket or a folder is refused with a
    ValueError naming it, without blocking on it or reading from it: the file is
    opened non-blocking and checked with ``fstat`` before any read.
    """
    path = os.fspath(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except IsADirectoryError:
        raise ValueError(f"'{path}' is a directory; {what} must be a regular file.") from None
    try:
        kind = os.fstat(fd).st_mode
        if not stat.S_ISREG(kind):
            shown = "a directory" if stat.S_ISDIR(kind) else "not a regular file (a FIFO, device or socket)"
            raise ValueError(f"'{path}' is {shown}; {what} must be a regular file.")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_exactly(handle: IO[bytes], size: int, path, what: str) -> bytes:
    """``size`` bytes from ``handle``, or a ValueError saying ``what`` in ``path`` is truncated."""
    data = handle.read(size)
    if len(data) != size:
        raise ValueError(f"'{path}' is truncated: {what} should have {size} bytes but only {len(data)} remain.")
    return data
