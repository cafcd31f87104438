"""How far field digits are from MNIST, in the model's own terms.

``mnist_reference`` is what the /field page sets field digits against, per model: the MNIST test
digits' confidence and novelty scores, and the penultimate features (``ModelSpec.features``, the
input of the layer that makes the logits) of a fixed sample of them; ``mmd_test`` compares two
samples of features with the maximum mean discrepancy (Gretton et al. 2012, Gaussian kernel,
median-distance bandwidth) and a permutation p-value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from models.inference import DigitModel


@dataclass(frozen=True)
class MnistReference:
    """One model's view of the MNIST test digits."""

    confidence: np.ndarray  # (N,) top-1 probability of every digit
    novelty: dict[str, np.ndarray]  # detector -> (N,) novelty scores (empty without a detector)
    features: np.ndarray  # (sample, D) penultimate features of a fixed sample, for the drift test


def mnist_reference(model: DigitModel, images: np.ndarray, sample: int, seed: int = 0) -> MnistReference:
    """The reference of images (N, 28, 28) in [0, 1], from one pass of the model (features and logits)."""
    features, logits = model.features_and_logits(np.asarray(images, np.float32), pooled=True)
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    confidence = (shifted / shifted.sum(axis=1, keepdims=True)).max(axis=1)
    novelty = model.novelty.all_scores(features, logits) if model.novelty is not None else {}
    picks = np.random.default_rng(seed).choice(len(images), min(sample, len(images)), replace=False)
    return MnistReference(confidence, novelty, features[picks, :model.spec.feature_dims])


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
