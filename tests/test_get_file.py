"""ks.utils.get_file against a local http.server on 127.0.0.1 and file:// URLs (no internet)."""

import hashlib
import io
import os
import tarfile
import zipfile

import pytest

import kernelscope as ks


@pytest.fixture
def server(local_http_server):
    """Serves tmp_path/served (tests/conftest.py): folder, base URL, the paths asked for."""
    return local_http_server


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERNELSCOPE_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_download_then_cache_under_the_kernelscope_home(server, home, capsys):
    folder, url, requests = server
    (folder / "cat.jpg").write_bytes(b"meow" * 50)
    sha = hashlib.sha256(b"meow" * 50).hexdigest()
    path = ks.utils.get_file("cat.jpg", url + "cat.jpg", file_hash=sha)
    assert path == str(home / "datasets" / "cat.jpg")
    assert open(path, "rb").read() == b"meow" * 50
    assert capsys.readouterr().out == f"Downloading data from {url}cat.jpg\n"
    assert ks.utils.get_file("cat.jpg", url + "cat.jpg", file_hash=sha) == path
    assert requests == ["/cat.jpg"]  # the second call used the cache
    assert sorted(os.listdir(home / "datasets")) == ["cat.jpg"]  # no temporary left behind


def test_fname_from_origin_cache_subdir_and_cache_dir(server, tmp_path, home):
    folder, url, _ = server
    (folder / "dog.png").write_bytes(b"woof")
    assert ks.utils.get_file(origin=url + "dog.png?x=1") == str(home / "datasets" / "dog.png")
    path = ks.utils.get_file("d.png", url + "dog.png", cache_subdir="images", cache_dir=tmp_path / "mine")
    assert path == str(tmp_path / "mine" / "images" / "d.png")


def test_file_url_and_md5(tmp_path, home):
    source = tmp_path / "weights.bin"
    source.write_bytes(b"w" * 10)
    md5 = hashlib.md5(b"w" * 10).hexdigest()
    assert open(ks.utils.get_file("w.bin", source.as_uri(), md5_hash=md5), "rb").read() == b"w" * 10
    assert ks.utils.get_file("w2.bin", source.as_uri(), file_hash=md5, hash_algorithm="md5")


def test_hash_mismatch_leaves_nothing_and_bad_cache_is_downloaded_again(server, home, capsys):
    folder, url, requests = server
    (folder / "a.bin").write_bytes(b"good")
    with pytest.raises(ValueError, match=r"Incomplete or corrupted file detected from .*a\.bin: checksum mismatch: "
                                         r"expected SHA-256 0{64}"):
        ks.utils.get_file("a.bin", url + "a.bin", file_hash="0" * 64)
    assert os.listdir(home / "datasets") == []
    (home / "datasets" / "a.bin").write_bytes(b"truncat")
    ks.utils.get_file("a.bin", url + "a.bin", file_hash=hashlib.sha256(b"good").hexdigest())
    assert (home / "datasets" / "a.bin").read_bytes() == b"good"
    assert "the sha256 file hash does not match" in capsys.readouterr().out
    ks.utils.get_file("a.bin", url + "a.bin", force_download=True)
    assert requests == ["/a.bin"] * 3


def test_fetch_failures_name_the_url(server, home, tmp_path):
    _, url, _ = server
    with pytest.raises(OSError, match=r"URL fetch failure on http://127\.0\.0\.1:\d+/missing\.bin: 404 -- "):
        ks.utils.get_file("missing.bin", url + "missing.bin")
    with pytest.raises(OSError, match=r"URL fetch failure on file://.*nowhere\.bin"):
        ks.utils.get_file("n.bin", (tmp_path / "nowhere.bin").as_uri())
    assert os.listdir(home / "datasets") == []


def _tar_bytes(members):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for info, data in members:
            archive.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def _file_member(name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def _link_member(name, target, kind=tarfile.SYMTYPE):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info, None


def test_extract_tar_and_zip_named_as_keras(server, home):
    folder, url, _ = server
    (folder / "pics.tar.gz").write_bytes(_tar_bytes([_file_member("pics/a.txt", b"A"),
                                                     _link_member("pics/b.txt", "a.txt")]))
    out = ks.utils.get_file("pics.tar.gz", url + "pics.tar.gz", extract=True)
    assert out == str(home / "datasets" / "pics_extracted")
    assert open(os.path.join(out, "pics", "b.txt")).read() == "A"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("z/one.txt", "1")
    (folder / "z.zip").write_bytes(buffer.getvalue())
    out = ks.utils.get_file(origin=url + "z.zip", extract=True)  # no fname: <name>_archive, extracted to <name>
    assert out == str(home / "datasets" / "z.zip") and os.path.isfile(home / "datasets" / "z.zip_archive")
    assert open(os.path.join(out, "z", "one.txt")).read() == "1"
    assert ks.utils.get_file("t.tar.gz", url + "pics.tar.gz", untar=True).endswith("t_extracted")


@pytest.mark.parametrize("member", [
    _file_member("../evil.txt", b"x"),
    _file_member("/tmp/evil.txt", b"x"),
    _link_member("up", "../../outside"),
    _link_member("hard", "/etc/passwd", tarfile.LNKTYPE),
])
def test_unsafe_tar_members_are_refused(server, home, member):
    folder, url, _ = server
    (folder / "bad.tar.gz").write_bytes(_tar_bytes([_file_member("ok.txt", b"fine"), member]))
    with pytest.raises(ValueError, match=rf"Refusing to extract .*bad\.tar\.gz: its member '{member[0].name}'"):
        ks.utils.get_file("bad.tar.gz", url + "bad.tar.gz", extract=True)
    assert not (home / "datasets" / "bad_extracted").exists()
    assert not (home / "evil.txt").exists() and not (home.parent / "evil.txt").exists()


def test_unsafe_zip_member_is_refused(server, home):
    folder, url, _ = server
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../../evil.txt", "x")
    (folder / "bad.zip").write_bytes(buffer.getvalue())
    with pytest.raises(ValueError, match=r"Refusing to extract .*bad\.zip: its member '\.\./\.\./evil\.txt'"):
        ks.utils.get_file("bad.zip", url + "bad.zip", extract=True)
    assert sorted(os.listdir(home / "datasets")) == ["bad.zip"]


def test_argument_errors(server, home):
    _, url, _ = server
    with pytest.raises(ValueError, match=r"`origin` .* is required. Received: origin=None"):
        ks.utils.get_file("a.bin")
    with pytest.raises(ValueError, match=r"`fname` must be a file name, not a path.*Received: fname='sub/a.bin'"):
        ks.utils.get_file("sub/a.bin", url + "a.bin")
    with pytest.raises(ValueError, match=r"Cannot tell the file name from `origin`.*Received: origin='http"):
        ks.utils.get_file(origin=url)
    with pytest.raises(ValueError, match=r"`hash_algorithm` must be .* Received: hash_algorithm='sha1'"):
        ks.utils.get_file("a.bin", url + "a.bin", file_hash="ab", hash_algorithm="sha1")
    with pytest.raises(ValueError, match=r"`archive_format` must be .* Received: archive_format='rar'"):
        ks.utils.get_file("a.bin", url + "a.bin", extract=True, archive_format="rar")


def test_extracting_a_non_archive_is_an_error(server, home):
    folder, url, _ = server
    (folder / "plain.txt").write_bytes(b"not an archive")
    with pytest.raises(ValueError, match=r"plain\.txt is not an archive of the format\(s\) \['tar', 'zip'\]"):
        ks.utils.get_file("plain.txt", url + "plain.txt", extract=True)
