"""Which models a folder offers, and what a ``--model`` / ``model`` value names (TensorFlow-free).

DESIGN.md: every ``*.keras`` and ``*.h5`` in the models folder is offered, named by its file stem;
a value with a model suffix or a folder in it is a path to a file.
"""

from __future__ import annotations

import os
from pathlib import Path

from models import MODEL_SUFFIXES, MODELS_DIR
from models.inference import ModelLoadError


def model_files(folder: str | Path = MODELS_DIR) -> dict[str, Path]:
    """name -> file for every model file in ``folder``, sorted by name; a .keras wins over a .h5 of the same stem."""
    found: dict[str, Path] = {}
    try:
        entries = sorted(Path(folder).iterdir())
    except OSError:
        return {}
    for suffix in MODEL_SUFFIXES:  # .keras first
        for path in entries:
            if path.suffix == suffix and path.is_file():
                found.setdefault(path.stem, path)
    return dict(sorted(found.items()))


def is_path(value: str) -> bool:
    return Path(value).suffix in MODEL_SUFFIXES or os.sep in value or "/" in value


def resolve_model(path_or_name: str | Path, folder: str | Path = MODELS_DIR) -> Path:
    """The file a ``--model`` value means: a path as it is, or a name from ``folder``."""
    value = str(path_or_name)
    if is_path(value):
        return Path(value)
    files = model_files(folder)
    if value not in files:
        raise ModelLoadError(f"No model named {value!r} in {folder}: name one of {', '.join(files) or 'none'}, "
                             "or give the path of a .keras or .h5 file.")
    return files[value]
