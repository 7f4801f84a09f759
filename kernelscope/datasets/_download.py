"""Cache folder and a checksum-verified, atomic file download (standard library only)."""

from __future__ import annotations

import hashlib
import os
import pathlib
import tempfile
import urllib.error
import urllib.request
from typing import Sequence

_CHUNK = 1 << 16


def data_home() -> pathlib.Path:
    """The cache root: ``$KERNELSCOPE_HOME`` if set, else ``~/.cache/kernelscope``."""
    root = os.environ.get("KERNELSCOPE_HOME")
    return pathlib.Path(root).expanduser() if root else pathlib.Path.home() / ".cache" / "kernelscope"


def cache_dir(dataset: str) -> pathlib.Path:
    """The folder where ``dataset``'s files are cached (not created here)."""
    return data_home() / dataset


def sha256_of(path: os.PathLike | str) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download_file(urls: Sequence[str], dest: os.PathLike | str, sha256: str, timeout: float = 60.0) -> pathlib.Path:
    """Fetch the first of ``urls`` that answers with the expected SHA-256 into ``dest``.

    The bytes go to a temporary file next to ``dest`` and are renamed into
    place only once their checksum matched, so an interrupted or corrupted
    download never leaves a file where ``dest`` should be.

    Raises
    ------
    OSError
        When no URL could be fetched, or every fetched copy had the wrong checksum
        (the message lists each URL and what went wrong).
    """
    dest = pathlib.Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    failures = []
    for url in urls:
        try:
            _fetch_verified(url, dest, sha256, timeout)
            return dest
        except (urllib.error.URLError, OSError, ValueError) as error:
            failures.append(f"{url}: {error}")
    raise OSError(f"Could not download {dest.name} into {dest.parent}. Tried: " + "; ".join(failures))


def _fetch_verified(url: str, dest: pathlib.Path, sha256: str, timeout: float) -> None:
    handle, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    try:
        digest = hashlib.sha256()
        with os.fdopen(handle, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            for chunk in iter(lambda: response.read(_CHUNK), b""):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != sha256.lower():
            raise ValueError(f"checksum mismatch: expected SHA-256 {sha256}, got {digest.hexdigest()}")
        os.replace(tmp_name, dest)
    finally:
        if os.path.exists(tmp_name):
            os.remove(tmp_name)
