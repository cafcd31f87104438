"""MNIST loading: Keras's downloader by default, a local ``.npz`` via ``MNIST_NPZ`` offline."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

import numpy as np

MNIST_KEYS = ("x_train", "y_train", "x_test", "y_test")
EXPECTED_SHAPES = {"x_train": (60000, 28, 28), "y_train": (60000,), "x_test": (10000, 28, 28), "y_test": (10000,)}


class MnistError(RuntimeError):
    """MNIST could not be loaded; the message says what was expected and how to fix it."""


def _load_npz(path: Path) -> tuple[np.ndarray, ...]:
    hint = (
        f"MNIST_NPZ points at {path}, which {{problem}}; expected a Keras-layout mnist.npz with "
        "uint8 arrays x_train (60000,28,28), y_train (60000,), x_test (10000,28,28), y_test (10000,): "
        "fix the path, or unset MNIST_NPZ to download MNIST with Keras."
    )
    if not path.is_file():
        raise MnistError(hint.format(problem="does not exist"))
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = [key for key in MNIST_KEYS if key not in data.files]
            if missing:
                raise MnistError(hint.format(problem=f"lacks {', '.join(missing)}"))
            arrays = {key: data[key] for key in MNIST_KEYS}
    except MnistError:
        raise
    except Exception as exc:  # zip/pickle/format errors all mean "not a usable npz"
        raise MnistError(hint.format(problem=f"is not a readable .npz ({type(exc).__name__})")) from exc
    for key, shape in EXPECTED_SHAPES.items():
        if arrays[key].shape != shape:
            raise MnistError(hint.format(problem=f"has {key} of shape {arrays[key].shape}"))
    return tuple(arrays[key] for key in MNIST_KEYS)


def load_mnist() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return ``x_train, y_train, x_test, y_test`` as uint8 arrays in Keras's layout."""
    npz = os.environ.get("MNIST_NPZ")
    if npz:
        return _load_npz(Path(npz).expanduser())
    import keras

    try:
        # Keras prints its download progress; on stdout it would break the CLI's JSON lines.
        with contextlib.redirect_stdout(sys.stderr):
            (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    except Exception as exc:
        raise MnistError(
            f"Could not download MNIST with Keras ({exc}); set MNIST_NPZ=/path/to/mnist.npz to train offline."
        ) from exc
    return x_train, y_train, x_test, y_test


def as_model_input(images: np.ndarray) -> np.ndarray:
    """uint8 (N,28,28) -> float32 (N,28,28,1) in [0,1], the scaling the model is trained with."""
    return (images.astype(np.float32) / 255.0)[..., None]
