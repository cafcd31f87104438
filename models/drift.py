"""How far field digits are from MNIST, in the model's own terms: its penultimate features.

``penultimate_features`` is the one place that reaches into the model's graph for them (the input
of the layer that makes the logits); ``mmd_test`` compares two samples of features with the
maximum mean discrepancy (Gretton et al. 2012, Gaussian kernel, median-distance bandwidth) and a
permutation p-value.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from models.inference import DigitModel


def _features_model(model: DigitModel):
    """images (B, 28, 28, 1) -> the input of the layer that makes the logits (the penultimate features).

    When ModelSpec gains its own ``features`` tensor, this is the line to switch to it.
    """
    import keras

    spec = model.spec
    key = "penultimate_features"
    if key not in spec._models:
        layer, node_index, _ = spec.logits._keras_history
        features = layer._inbound_nodes[node_index].input_tensors[0]
        spec._models.setdefault(key, keras.Model(spec.inputs, features))
    return spec._models[key]


def penultimate_features(model: DigitModel, images: np.ndarray, batch_size: int = 500) -> np.ndarray:
    """Features (N, D) of images (N, 28, 28) in [0, 1], flattened."""
    network = _features_model(model)
    images = np.asarray(images, np.float32).reshape(-1, *model.spec.image_size, 1)
    parts = [np.asarray(network(images[i:i + batch_size], training=False)) for i in range(0, len(images), batch_size)]
    features = np.concatenate(parts) if parts else np.zeros((0, 1), np.float32)
    return features.reshape(len(images), -1)


def _squared_distances(a: np.ndarray) -> np.ndarray:
    norms = (a * a).sum(1)
    return np.maximum(norms[:, None] + norms[None, :] - 2 * a @ a.T, 0.0)


def mmd_test(field: np.ndarray, reference: np.ndarray, permutations: int = 200, seed: int = 0
             ) -> tuple[float, float]:
    """(MMD², p-value) between two samples of features: near 0 and a large p-value when they are alike.

    The p-value is the share of random splits of the pooled sample whose MMD² is at least the
    observed one (with the +1 correction, so it is never 0).
    """
    pooled = np.concatenate([field, reference]).astype(np.float64)
    distances = _squared_distances(pooled)
    bandwidth = np.median(distances[np.triu_indices(len(pooled), 1)]) or 1.0
    kernel = np.exp(-distances / bandwidth)
    n, total = len(field), len(pooled)

    def mmd(members: np.ndarray) -> float:
        inside = np.zeros(total, bool)
        inside[members] = True
        a, b = kernel[np.ix_(inside, inside)], kernel[np.ix_(~inside, ~inside)]
        across = kernel[np.ix_(inside, ~inside)]
        m = total - n
        return float((a.sum() - np.trace(a)) / (n * (n - 1)) + (b.sum() - np.trace(b)) / (m * (m - 1))
                     - 2 * across.mean())

    observed = mmd(np.arange(n))
    rng = np.random.default_rng(seed)
    larger = sum(mmd(rng.permutation(total)[:n]) >= observed for _ in range(permutations))
    return observed, (larger + 1) / (permutations + 1)
