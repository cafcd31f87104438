"""Training and evaluation of the digit CNN (``python -m train``, ``python -m train.evaluate``)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from models.mnist import MnistError
from models.report import write_metadata


def save_training_metadata(out: Path, facts: dict[str, Any], seconds: float, accuracy: float) -> dict[str, Any]:
    """Write the metadata of a model a training command saved at ``out``, and return it: its name,
    ``facts`` about the run (in their order), then how long it trained, its MNIST test accuracy, when,
    and with which Keras."""
    import keras

    metadata = {
        "name": out.stem,
        **facts,
        "train_seconds": round(seconds, 1),
        "test_accuracy": float(accuracy),
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "keras_version": keras.__version__,
    }
    write_metadata(out, metadata)
    return metadata


def report_training(train: Callable[[], dict], out: Path) -> int:
    """Run a training command's ``train()`` and say how it went: the exit code of the command.

    MNIST that cannot be loaded is one sentence on stderr (exit 2), never a stack trace.
    """
    try:
        metadata = train()
    except MnistError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {out}: test accuracy {metadata['test_accuracy']:.4f} "
          f"after {metadata['epochs']} epochs in {metadata['train_seconds']:.0f} s")
    return 0
