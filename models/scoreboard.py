"""Which explanation to trust: every (method, layer) of a model scored over MNIST test digits.

For each class-activation method at each conv layer, and each pixel-level method (layer None):

- ``deletion_auc`` / ``insertion_auc``: the mean faithfulness of its maps (``models.faithfulness``);
- ``empty_rate``: how often its map has no positive evidence at all;
- ``sanity_rank_correlation``: the cascading randomisation test of Adebayo et al. 2018. A copy of
  the model gets its weights re-drawn from the logits down to that layer (down to the first conv
  for a pixel-level method) and the same digits are explained again, for the same classes; the
  mean Spearman rank correlation of each map before and after. Near 1: the map does not depend on
  what the model learned (it shows the input, like an edge detector); near 0: it does.
- ``ms``: the median time to explain one digit.

The ``sanity`` list keeps each method's correlation after randomising down to every conv layer
(the sanity figure's lines). Only the recommendation part is TensorFlow-free at import, so that
the pages can read it; ``explanations_section`` imports TensorFlow.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from models.methods import LAYER_METHODS, METHOD_LABELS, PIXEL_METHODS

SCOREBOARD_DIGITS = 500  # faithfulness and empty rate
SANITY_DIGITS = 100  # the randomisation test: a subset, as each depth is a model of its own to compile and run
TIMED_DIGITS = 20  # one digit per call, for the median time
BATCH = 100
SANITY_THRESHOLD = 0.5  # a map that keeps a rank correlation of 0.5 or more with random weights fails
EMPTY_LIMIT = 0.1  # a map empty for more than 10 % of digits is not recommended
GRADCAM_FAITHFUL = 0.5  # insertion minus deletion at which Grad-CAM is the predict page's default
RANDOM_SEED = 12


# --- the numbers -------------------------------------------------------------------------------------

def spearman(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Spearman rank correlation of each row of ``a`` with the same row of ``b`` (ties share their mean rank).

    (N, ...) -> (N,). A constant row against a varying one scores 0 (nothing of the map is left);
    two constant rows are NaN (nothing to compare).
    """
    a, b = (np.asarray(m, np.float64).reshape(len(m), -1) for m in (a, b))
    ranks_a, ranks_b = (np.stack([mean_ranks(row) for row in m]) for m in (a, b))
    ranks_a -= ranks_a.mean(axis=1, keepdims=True)
    ranks_b -= ranks_b.mean(axis=1, keepdims=True)
    norm = np.sqrt((ranks_a ** 2).sum(axis=1) * (ranks_b ** 2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        correlation = (ranks_a * ranks_b).sum(axis=1) / norm
    one_constant = (norm == 0) & ((ranks_a ** 2).sum(axis=1) + (ranks_b ** 2).sum(axis=1) > 0)
    return np.where(one_constant, 0.0, correlation)


def mean_ranks(values: np.ndarray) -> np.ndarray:
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ends = np.r_[starts[1:], len(values)]
    ranks = np.empty(len(values))
    ranks[order] = np.repeat((starts + ends - 1) / 2.0, ends - starts)
    return ranks


def randomised_spec(model, down_to: str, seed: int = RANDOM_SEED):
    """A fresh ``ModelSpec`` of ``model`` whose weights from the logits down to conv ``down_to`` are re-drawn.

    The adapter is run again, so the spec is made of new clones: the loaded model and the app's
    spec are never touched. Each kernel and bias becomes Gaussian noise of its own standard
    deviation (activations keep their scale, so maps are not empty merely from tiny numbers);
    BatchNormalization statistics are kept, as Adebayo et al. re-initialise the learned weights.
    """
    from keras import layers

    from models.adapter import CONV_TYPES, adapt

    spec = adapt(model.keras_model, model.path)
    graph_layers = spec.network.layers
    start = next(i for i, layer in enumerate(graph_layers)
                 if isinstance(layer, CONV_TYPES) and layer.name.rstrip("_") == down_to)
    rng = np.random.default_rng(seed)
    for layer in graph_layers[start:]:
        if isinstance(layer, layers.BatchNormalization) or not layer.weights:
            continue
        layer.set_weights([rng.normal(0.0, float(w.std()) or 0.05, w.shape).astype(w.dtype)
                           for w in layer.get_weights()])
    return spec


def _in_batches(function: Callable[[np.ndarray], tuple], images: np.ndarray) -> list[np.ndarray]:
    parts = [function(images[i:i + BATCH]) for i in range(0, len(images), BATCH)]
    return [np.concatenate(column) for column in zip(*parts, strict=True)]


def _median_ms(model, images: np.ndarray, layer: str | None, method: str) -> float:
    model.explain_batch(images[:1], layer, method)  # compiled already; one warm call
    samples = []
    for image in images:
        started = time.perf_counter()
        model.explain_batch(image[None], layer, method)
        samples.append((time.perf_counter() - started) * 1000)
    return float(np.median(samples))


def explanations_section(model, images: np.ndarray, sanity_digits: int = SANITY_DIGITS,
                         progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """DESIGN.md's ``explanations`` section of a ``DigitModel`` over ``images`` (N, 28, 28) in [0, 1]."""
    from models.explain import CamEngine
    from models.inference import FAITHFULNESS_STEPS

    pairs = [(method, layer) for layer in model.layer_names for method in LAYER_METHODS]
    pairs += [(method, None) for method in PIXEL_METHODS]
    rows, original_maps, classes = [], {}, None
    for method, layer in pairs:
        if progress:
            progress(f"{method} at {layer or 'the input'}")
        _, maps, explained, empty, scores = _in_batches(
            lambda x, m=method, at=layer: model.engine.explain(x, at, m, None, FAITHFULNESS_STEPS)[:5], images)
        classes = explained if classes is None else classes  # the top-1 class: the same for every method
        original_maps[method, layer] = maps[:sanity_digits]
        rows.append({"method": method, "layer": layer, "deletion_auc": round(float(scores[:, 0].mean()), 4),
                     "insertion_auc": round(float(scores[:, 1].mean()), 4),
                     "empty_rate": round(float(empty.mean()), 4), "sanity_rank_correlation": None,
                     "ms": round(_median_ms(model, images[:TIMED_DIGITS], layer, method), 2)})
    subset, subset_classes = images[:sanity_digits], classes[:sanity_digits]  # explained for the same classes
    sanity = []
    for depth in model.layer_names:  # each a model with the weights re-drawn from the logits down to it
        if progress:
            progress(f"sanity check: weights randomised down to {depth}")
        engine = CamEngine(randomised_spec(model, depth))
        for method, layer in pairs:
            if layer not in (depth, None):
                continue
            maps = np.concatenate([engine.explain(subset[i:i + BATCH], depth, method, subset_classes[i:i + BATCH])[1]
                                   for i in range(0, len(subset), BATCH)])
            correlation = float(np.nanmean(spearman(original_maps[method, layer], maps)))
            sanity.append({"method": method, "layer": depth, "rank_correlation": round(correlation, 4)})
    for row in rows:  # a layer method: randomised down to its layer; a pixel method: down to the first conv
        depth = row["layer"] or model.layer_names[0]
        row["sanity_rank_correlation"] = next(s["rank_correlation"] for s in sanity
                                              if (s["method"], s["layer"]) == (row["method"], depth))
    return {"digits": int(len(images)), "sanity_digits": int(len(subset)), "rows": rows, "sanity": sanity}


# --- what the numbers recommend (TensorFlow-free) ----------------------------------------------------

def faithfulness_score(row: dict[str, Any]) -> float:
    """Insertion AUC minus deletion AUC, in [-1, 1]: higher is more faithful (the grid's colour)."""
    return row["insertion_auc"] - row["deletion_auc"]


def passes_sanity(row: dict[str, Any]) -> bool:
    correlation = row["sanity_rank_correlation"]
    return correlation is not None and correlation < SANITY_THRESHOLD


def trusted(row: dict[str, Any]) -> bool:
    """Passes the sanity check and is rarely empty."""
    return passes_sanity(row) and row["empty_rate"] <= EMPTY_LIMIT


def recommended_row(section: dict[str, Any]) -> dict[str, Any] | None:
    """The most faithful trusted (method, layer); the most faithful of all if none is trusted."""
    rows = section.get("rows") or []
    candidates = [row for row in rows if trusted(row)] or rows
    return max(candidates, key=faithfulness_score, default=None)


def default_row(section: dict[str, Any]) -> dict[str, Any] | None:
    """What the predict page opens on: Grad-CAM, the method people come for, at its most faithful layer
    where the scoreboard finds it trusted (sane, rarely empty) and faithful (``GRADCAM_FAITHFUL``);
    else the recommendation."""
    gradcam = [row for row in section.get("rows") or [] if row["method"] == "gradcam" and trusted(row)
               and faithfulness_score(row) >= GRADCAM_FAITHFUL]
    return max(gradcam, key=faithfulness_score, default=None) or recommended_row(section)


def default_reason(section: dict[str, Any] | None) -> str:
    """Why the predict page opens on the method it opens on, in one sentence ("" without a scoreboard)."""
    row = default_row(section or {})
    if row is None:
        return ""
    shown = method_at(row["method"], row["layer"])
    if row["method"] == "gradcam":
        return (f"{shown} is the default map: the scoreboard finds it faithful (insertion minus deletion "
                f"{faithfulness_score(row):.2f}) and sane on this model.")
    return (f"{shown} is the default map: Grad-CAM is not faithful or not sane enough on this model, and this "
            f"is the most faithful map that is ({faithfulness_score(row):.2f}).")


def method_at(method: str, layer: str | None) -> str:
    return f"{METHOD_LABELS.get(method, method)} at {layer}" if layer else METHOD_LABELS.get(method, method)


def recommendation_sentences(section: dict[str, Any], worst: int = 3) -> list[str]:
    """Plain-language advice: the recommended (method, layer), then the ``worst`` most often empty maps
    and the ``worst`` that survive randomisation best."""
    best = recommended_row(section)
    if best is None:
        return ["No explanation has been scored on this model yet."]
    rows = section["rows"]
    check = (f"passes the sanity check (rank correlation {best['sanity_rank_correlation']:.2f} once the weights "
             "are randomised)" if passes_sanity(best) else
             "is the best there is, but no map passes the sanity check on this model")
    sentences = [f"On this model, {method_at(best['method'], best['layer'])} is the most faithful "
                 f"(insertion minus deletion AUC {faithfulness_score(best):.2f}) and {check}.",
                 f"On the predict page, {default_reason(section)}"]
    empty = sorted((row for row in rows if row["empty_rate"] > EMPTY_LIMIT), key=lambda row: -row["empty_rate"])
    sentences += [f"{method_at(row['method'], row['layer'])} is empty for {row['empty_rate']:.0%} of digits."
                  for row in empty[:worst]]
    failing = sorted((row for row in rows if row["sanity_rank_correlation"] is not None and not passes_sanity(row)),
                     key=lambda row: -row["sanity_rank_correlation"])
    sentences += [f"{method_at(row['method'], row['layer'])} hardly changes when the weights are randomised "
                  f"(rank correlation {row['sanity_rank_correlation']:.2f}): it shows the digit's shape more than "
                  "what the model learned." for row in failing[:worst]]
    return sentences
