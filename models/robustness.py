"""How a model holds up under the MNIST-C corruptions: the report's ``robustness`` section.

Every corruption is applied to the same seeded subset of MNIST test digits (``DIGITS`` of them,
a few seconds of corruption and one pass of the network each), and the corrupted 28x28 digits go
straight to the model, as in MNIST-C. The misread test indices are kept (``MISREAD_CAP`` per
corruption) so that the app can rebuild those digits with ``corruptions.corrupt`` and explain them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from models.corruptions import NAMES, corrupt_many

DIGITS = 5000  # per corruption, seeded: accuracy to about +-0.3 points at 95 %, the 15 sets in ~25 s here
SEED = 0
MISREAD_CAP = 100


def robustness_subset(count: int = DIGITS, seed: int = SEED, total: int = 10_000) -> np.ndarray:
    """The MNIST test indices every corruption is evaluated on (sorted, the same for every model)."""
    return np.sort(np.random.default_rng(seed).choice(total, size=min(count, total), replace=False))


def class_scores(keras_model, images: np.ndarray, batch_size: int = 1000) -> np.ndarray:
    """The model's outputs (N, 10: probabilities or logits, the argmax is the same) for 28x28 inputs."""
    try:
        rank = len(keras_model.input_shape)
    except (AttributeError, ValueError):
        rank = 4
    x = np.asarray(images, np.float32).reshape((-1, 28, 28) if rank == 3 else (-1, 28, 28, 1))
    return np.concatenate([np.asarray(keras_model(x[i:i + batch_size], training=False))
                           for i in range(0, len(x), batch_size)])


def robustness_report(keras_model, images: np.ndarray, labels: np.ndarray, count: int = DIGITS,
                      seed: int = SEED) -> dict[str, Any]:
    """Accuracy per corruption and their mean, over the seeded subset of ``images`` (uint8 MNIST test)."""
    indices = robustness_subset(count, seed, len(images))
    truth = labels[indices]
    rows = []
    for name in NAMES:
        corrupted = corrupt_many(name, images[indices], indices, seed)
        predicted = class_scores(keras_model, corrupted).argmax(axis=1)
        wrong = predicted != truth
        rows.append({"name": name, "accuracy": round(float(1.0 - wrong.mean()), 5),
                     "misread": [int(i) for i in indices[wrong][:MISREAD_CAP]],
                     "predicted": [int(p) for p in predicted[wrong][:MISREAD_CAP]]})
    return {
        "corruptions": rows,
        "mean_accuracy": round(float(np.mean([row["accuracy"] for row in rows])), 5),
        "digits": int(len(indices)),
        "seed": seed,
    }
