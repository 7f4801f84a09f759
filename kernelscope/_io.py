"""Atomic file writes: write a temporary file beside the target, then rename it over the target.

A reader never sees a half-written file, a failed write leaves the old file (or
none) and no temporary behind, and two writers of the same target each use their
own temporary (``tempfile.mkstemp``), so they cannot clobber each other's.

>>> from kernelscope._io import atomic_write_text
>>> atomic_write_text("notes.txt", "hello\\n")  # doctest: +SKIP
"""

from __future__ import annotations

import os
import pathlib
import tempfile
from typing import IO, Callable

__all__ = ["atomic_write", "atomic_write_bytes", "atomic_write_text"]


def _read_umask() -> int:
    # os.umask can only be read by setting it; done once, at import, before any writer thread runs
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def _check_target(path) -> tuple:
    path = pathlib.Path(os.fspath(path))
    if path.is_dir():
        raise IsADirectoryError(21, "Is a directory, not a file", str(path))
    folder = path.absolute().parent
    if not folder.is_dir():
        raise FileNotFoundError(2, "The folder to write into does not exist", str(folder))
    return path, folder


def atomic_write(path, write: Callable[[IO], None], mode: str = "wb", encoding: str | None = None,
                 newline: str | None = None, fsync: bool = False) -> pathlib.Path:
    """Call ``write(handle)`` on a temporary file next to ``path``, then rename it onto ``path``.

    Parameters
    ----------
    path : str or PathLike
        The file to create or replace; its folder must exist.
    write : callable
        Receives the open temporary file (binary for ``mode="wb"``, text for ``"w"``).
    mode : "wb" or "w"
    encoding, newline : passed to ``open`` in text mode.
    fsync : bool
        Flush the data to disk before the rename (durability across a power cut).

    Returns
    -------
    pathlib.Path of the written file. The new file gets the permissions a plain
    ``open(path, "w")`` would give (``0o666`` minus the umask), not mkstemp's ``0o600``.

    Raises
    ------
    IsADirectoryError, FileNotFoundError
        ``path`` is a folder, or its folder does not exist (both name the path).
    """
    if mode not in ("wb", "w"):
        raise ValueError(f'`mode` must be "wb" or "w". Received: mode={mode!r}.')
    path, folder = _check_target(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)
        with os.fdopen(fd, mode, encoding=encoding, newline=newline) as handle:
            fd = None  # owned by the file object from here on
            write(handle)
            if fsync:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if fd is not None:
            os.close(fd)
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


def atomic_write_bytes(path, data: bytes, fsync: bool = False) -> pathlib.Path:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_write`)."""
    return atomic_write(path, lambda handle: handle.write(data), fsync=fsync)


def atomic_write_text(path, text: str, encoding: str = "utf-8", fsync: bool = False) -> pathlib.Path:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_write`)."""
    return atomic_write(path, lambda handle: handle.write(text), mode="w", encoding=encoding, fsync=fsync)
