"""``keras.utils.get_file``: download once into the kernelscope cache, check a hash, extract safely.

Files land in ``<cache_dir>/<cache_subdir>/``, where ``cache_dir`` defaults to the
kernelscope home (``$KERNELSCOPE_HOME``, else ``~/.cache/kernelscope``: the same
home the datasets use). Downloads are atomic (a half-finished one never sits in
the cache) and go through the datasets' downloader. Archives are extracted into
a temporary folder that replaces the target only once complete; a member with
an absolute path, a ``..`` that leaves the folder, a link pointing out of it, or
a device/FIFO is refused, naming the member.

>>> import kernelscope as ks
>>> path = ks.utils.get_file("cat.jpg", "https://example.com/cat.jpg")  # doctest: +SKIP
"""

from __future__ import annotations

import os
import pathlib
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.parse
import zipfile

from ..datasets._download import data_home, fetch_verified

__all__ = ["get_file", "hash_file", "extract_archive"]

_CHUNK = 1 << 16


def _algorithm(hash_algorithm: str, file_hash: str | None) -> str:
    if hash_algorithm not in ("auto", "sha256", "md5"):
        raise ValueError(f"`hash_algorithm` must be 'auto', 'sha256' or 'md5'. "
                         f"Received: hash_algorithm={hash_algorithm!r}.")
    if hash_algorithm == "auto":  # as Keras: a 64-digit hash is SHA-256, anything else MD5
        return "sha256" if file_hash is not None and len(file_hash) == 64 else "md5"
    return hash_algorithm


def hash_file(fpath, algorithm: str = "sha256") -> str:
    """Hex digest of a file (``algorithm`` "sha256", "md5" or "auto" = sha256), read in chunks."""
    import hashlib

    digest = hashlib.new("sha256" if algorithm == "auto" else _algorithm(algorithm, None))
    with open(fpath, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _file_name(fname, origin: str) -> str:
    if fname is None or fname == "":
        fname = os.path.basename(urllib.parse.urlsplit(origin).path)
        if not fname or fname in (os.curdir, os.pardir):
            raise ValueError(f"Cannot tell the file name from `origin`: pass `fname`. Received: origin={origin!r}.")
        return fname
    fname = os.fspath(fname)
    if os.sep in fname or (os.altsep and os.altsep in fname) or fname in (os.curdir, os.pardir):
        raise ValueError("`fname` must be a file name, not a path: put the folder in `cache_dir`. "
                         f"Received: fname={fname!r}.")
    return fname


def _datadir(cache_dir, cache_subdir: str) -> pathlib.Path:
    base = pathlib.Path(cache_dir).expanduser() if cache_dir is not None else data_home()
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError:
        pass  # handled just below
    if not os.access(base, os.W_OK):  # as Keras: an unwritable cache falls back to the temporary folder
        base = pathlib.Path(tempfile.gettempdir()) / ".kernelscope"
    datadir = base / cache_subdir
    datadir.mkdir(parents=True, exist_ok=True)
    return datadir


def _targets(datadir: pathlib.Path, fname: str, provided: bool, archive: bool) -> tuple:
    """(download target, extraction folder or None), named as Keras names them."""
    if not archive:
        return datadir / fname, None
    if provided and "." in fname:
        return datadir / fname, datadir / f"{fname[:fname.find('.')]}_extracted"
    return datadir / f"{fname}_archive", datadir / fname


def get_file(fname=None, origin=None, untar=False, md5_hash=None, file_hash=None, cache_subdir="datasets",
             hash_algorithm="auto", extract=False, archive_format="auto", cache_dir=None,
             force_download=False) -> str:
    """Download ``origin`` into the cache unless a good copy is there; return its path (or the extracted folder).

    Arguments are Keras 3's. ``file_hash`` (or the legacy ``md5_hash``) is checked after downloading,
    and a cached copy that does not match it is downloaded again. ``extract=True`` (or ``untar=True``)
    unpacks a tar/zip archive and returns the folder.

    Raises
    ------
    ValueError
        Missing ``origin``, bad ``fname``, a hash mismatch, or an unsafe archive member.
    OSError
        The URL could not be fetched (``URL fetch failure on <origin>: ...``).
    """
    if origin is None:
        raise ValueError("`origin` (the URL of the file to download) is required. Received: origin=None.")
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    algorithm = _algorithm(hash_algorithm, file_hash)
    archive_types = _archive_types("tar" if untar else archive_format)
    name = _file_name(fname, origin)
    target, extraction_dir = _targets(_datadir(cache_dir, cache_subdir), name, bool(fname), extract or untar)
    download = force_download or not target.exists()
    if not download and file_hash is not None and hash_file(target, algorithm) != file_hash.lower():
        print(f"A local file was found, but it seems to be incomplete or outdated because the {algorithm} file "
              f"hash does not match the original value of {file_hash} so we will re-download the data.")
        download = True
    if download:
        print(f"Downloading data from {origin}")
        try:
            fetch_verified(origin, target, file_hash, algorithm)
        except urllib.error.HTTPError as error:
            raise OSError(f"URL fetch failure on {origin}: {error.code} -- {error.msg}") from None
        except urllib.error.URLError as error:
            raise OSError(f"URL fetch failure on {origin}: {error.reason}") from None
        except ValueError as error:
            raise ValueError(f"Incomplete or corrupted file detected from {origin}: {error}.") from None
    if extraction_dir is None:
        return str(target)
    if not extract_archive(target, extraction_dir, archive_types):
        raise ValueError(f"{target} is not an archive of the format(s) {archive_types}, so it cannot be "
                         f"extracted. Received: archive_format={archive_format!r}.")
    return str(extraction_dir)


def _archive_types(archive_format) -> list:
    if archive_format is None:
        return []
    types = ["tar", "zip"] if archive_format == "auto" else (
        [archive_format] if isinstance(archive_format, str) else list(archive_format))
    bad = [t for t in types if t not in ("tar", "zip")]
    if bad:
        raise ValueError(f"`archive_format` must be 'auto', 'tar', 'zip', None or a list of 'tar'/'zip'. "
                         f"Received: archive_format={archive_format!r}.")
    return types


def extract_archive(file_path, path, archive_format="auto") -> bool:
    """Extract a tar or zip archive into the folder ``path`` (replacing it); False if no format matched."""
    file_path, path = pathlib.Path(file_path), pathlib.Path(path)
    for kind in _archive_types(archive_format):
        if (kind == "tar" and tarfile.is_tarfile(file_path)) or (kind == "zip" and zipfile.is_zipfile(file_path)):
            staging = pathlib.Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
            try:
                (_extract_tar if kind == "tar" else _extract_zip)(file_path, staging)
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                elif path.exists() or path.is_symlink():
                    path.unlink()
                os.replace(staging, path)
            finally:
                if staging.exists():
                    shutil.rmtree(staging)
            return True
    return False


def _inside(root: pathlib.Path, member: str) -> bool:
    return os.path.commonpath([root, os.path.normpath(root / member)]) == str(root)


def _extract_tar(file_path: pathlib.Path, folder: pathlib.Path) -> None:
    with tarfile.open(file_path) as archive:
        members = archive.getmembers()
        for m in members:
            unsafe = (os.path.isabs(m.name) or not _inside(folder, m.name)
                      or not (m.isfile() or m.isdir() or m.issym() or m.islnk())
                      or (m.issym() and not _inside(folder, os.path.join(os.path.dirname(m.name), m.linkname)))
                      or (m.islnk() and not _inside(folder, m.linkname)))
            if unsafe:
                raise ValueError(f"Refusing to extract {file_path}: its member {m.name!r} "
                                 f"{'links to ' + repr(m.linkname) + ' ' if m.linkname else ''}"
                                 "would land outside the extraction folder or is not a regular file, folder "
                                 "or link.")
        if hasattr(tarfile, "data_filter"):  # a second line of defence where Python has it
            archive.extractall(folder, members, filter="data")
        else:  # pragma: no cover - Python < 3.11.4
            archive.extractall(folder, members)


def _extract_zip(file_path: pathlib.Path, folder: pathlib.Path) -> None:
    with zipfile.ZipFile(file_path) as archive:
        for name in archive.namelist():
            if os.path.isabs(name) or name.startswith(("/", "\\")) or not _inside(folder, name):
                raise ValueError(f"Refusing to extract {file_path}: its member {name!r} would land outside "
                                 "the extraction folder.")
        archive.extractall(folder)
