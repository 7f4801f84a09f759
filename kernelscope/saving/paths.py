"""Checking the paths given to save and load, with errors that name them."""

from __future__ import annotations

import os

__all__ = ["fspath", "check_target", "existing_file"]


def fspath(filepath) -> str:
    """``filepath`` as a string, or a TypeError naming what was received."""
    if not isinstance(filepath, (str, os.PathLike)):
        raise TypeError("`filepath` must be a string or a path-like object such as 'model.keras'. "
                        f"Received: filepath={filepath!r} (of type {type(filepath).__name__}).")
    return os.fspath(filepath)


def check_target(filepath, overwrite: bool) -> str:
    """A path that may be written: not a folder, in a folder that exists, not kept by ``overwrite=False``."""
    path = fspath(filepath)
    if os.path.isdir(path):
        raise ValueError(f"Cannot save to '{path}': it is a directory. Give a file path such as 'model.keras'.")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ValueError(f"Cannot save to '{path}': the folder '{folder}' does not exist. "
                         "Create it first (os.makedirs) or choose another path.")
    if not overwrite and os.path.exists(path):
        raise ValueError(f"File '{path}' already exists and overwrite=False.")
    return path


def existing_file(filepath) -> str:
    """A path that exists and is not a folder (else a ValueError naming it)."""
    path = fspath(filepath)
    if not os.path.exists(path):
        raise ValueError(f"File not found: filepath={path}. Please ensure the file is an accessible model file.")
    if os.path.isdir(path):
        raise ValueError(f"'{path}' is a directory, not a model file.")
    return path
