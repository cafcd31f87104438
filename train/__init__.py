"""Training and evaluation of the digit CNN (``python -m train``, ``python -m train.evaluate``)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from models.mnist import MnistError


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
