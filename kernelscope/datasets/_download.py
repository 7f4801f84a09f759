"""Cache folder and a checksum-verified, atomic file download (standard library only)."""

from __future__ import annotations

import hashlib
import os
import pathlib
import urllib.error
import urllib.request
from typing import Sequence

from .._io import atomic_write

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
            fetch_verified(url, dest, sha256, "sha256", timeout)
            return dest
        except (urllib.error.URLError, OSError, ValueError) as error:
            failures.append(f"{url}: {error}")
    raise OSError(f"Could not download {dest.name} into {dest.parent}. Tried: " + "; ".join(failures))


def fetch_verified(url: str, dest: os.PathLike | str, file_hash: str | None = None, algorithm: str = "sha256",
                   timeout: float = 60.0) -> pathlib.Path:
    """Stream ``url`` into ``dest`` atomically, checking its ``algorithm`` digest against ``file_hash`` (if given).

    The one downloader behind the datasets and ``ks.utils.get_file``: the bytes go to a
    temporary file beside ``dest`` (kernelscope._io.atomic_write), renamed into place only
    once the download finished and its digest matched.

    Raises
    ------
    urllib.error.URLError, OSError
        The URL could not be fetched.
    ValueError
        The digest did not match (nothing is left at ``dest``).
    """
    def write(out) -> None:
        digest = hashlib.new(algorithm)
        with urllib.request.urlopen(url, timeout=timeout) as response:
            for chunk in iter(lambda: response.read(_CHUNK), b""):
                digest.update(chunk)
                out.write(chunk)
        if file_hash is not None and digest.hexdigest() != file_hash.lower():
            raise ValueError(f"checksum mismatch: expected {_NAMES.get(algorithm, algorithm)} {file_hash}, "
                             f"got {digest.hexdigest()}")
    return atomic_write(dest, write)


_NAMES = {"sha256": "SHA-256", "md5": "MD5"}
