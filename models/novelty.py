"""Is it a digit at all? Novelty detectors on a model's penultimate features and logits.

Every detector gives a *score* that grows as an input looks less like the digits the model was
trained on; a digit is flagged "not a digit" when its score is over the detector's threshold,
set per model so that 99 % of the MNIST test digits stay digits (``DIGITS_KEPT``).

- ``msp``: one minus the maximum softmax probability (Hendrycks & Gimpel 2017);
- ``energy``: minus the log-sum-exp of the logits (Liu et al. 2020);
- ``mahalanobis``: the smallest Mahalanobis distance to a class mean of the features, with one
  covariance shared by the classes (Lee et al. 2018);
- ``knn``: one minus the cosine similarity to the k-th nearest training digit's features
  (Sun et al. 2022);
- ``vim``: virtual-logit matching, the features' distance from their principal subspace, scaled
  to the logits, minus the log-sum-exp (Wang et al. 2022);
- ``residual``: that distance alone (ViM's residual);
- ``ensemble``: the largest of the first five, each measured on the MNIST test digits' own scale
  (0 at their median, 1 at their 99th percentile): any one detector's alarm raises it.
- ``exposure``: outlier exposure (Hendrycks et al. 2019) without retraining the model: two small
  classifiers (one hidden layer) learn digits from non-digits on the model's own features, one on
  the penultimate features and logits, one also on every conv layer's activations averaged and
  maximised over space; the score is their mean, each on the MNIST test digits' scale. They learn from
  ``models/novelty_fit_set.npz`` (``python -m train.nondigits``): training digits corrupted, drawn
  and on the canvas against the ``EXPOSURE_KINDS`` only (invented glyphs, typeset characters,
  shuffled tiles of a digit, ink blots, swollen digits), never an input of the scoreboard's kinds.

What a detector needs (class means, covariance, a feature bank, a principal subspace) is fitted
once per model from its training digits (``fit``) and kept next to the model (``NAME.novelty.npz``),
never per request. ``NoveltyDetector.scores`` is written in TensorFlow so that the score comes out
of the same compiled call as the top 3 and the map (``models.explain``).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

DETECTORS = ("msp", "energy", "mahalanobis", "knn", "vim", "residual", "ensemble", "exposure")
DETECTOR_LABELS = {"msp": "Max. softmax", "energy": "Energy", "mahalanobis": "Mahalanobis", "knn": "KNN",
                   "vim": "ViM", "residual": "Residual", "ensemble": "Ensemble", "exposure": "Outlier exposure"}
ENSEMBLE_MEMBERS = ("msp", "energy", "mahalanobis", "knn", "vim")
FALLBACK_DETECTOR = "energy"  # before a model's scoreboard says which is best
DIGITS_KEPT = 0.99  # the threshold keeps this share of the MNIST test digits as digits
FIT_SET_PATH = Path(__file__).resolve().with_name("novelty_fit_set.npz")  # ``python -m train.nondigits``
FIT_DIGITS = 10000  # training digits the class means, covariance and subspace are fitted on
BANK_DIGITS = 5000  # of them, the KNN feature bank
KNN_K = 10
EXPOSURE_HEADS = ("last", "layers")  # on the penultimate features and logits; on the conv layers' too
EXPOSURE_HIDDEN = 128
EXPOSURE_EPOCHS = 15
FILE_VERSION = 8  # 2: the ensemble's scale; 3: the exposure detector, pooled conv features; 4: typeset characters;
# 5: the conv layers' maximum over space beside their mean; 6: swollen digits; 7: twice the fit set's digits;
# 8: printed digits among the fit set's digits


def novelty_path(model_path: str | Path) -> Path:
    path = Path(model_path)
    return path.with_name(f"{path.stem}.novelty.npz")


def file_digest(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@dataclass
class NoveltyDetector:
    """The fitted detectors of one model, the thresholds of each, and the one the app uses."""

    detector: str
    thresholds: dict[str, float]
    params: dict[str, np.ndarray]
    model_digest: str = ""
    _constants: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def threshold(self) -> float:
        return self.thresholds[self.detector]

    def using(self, detector: str) -> NoveltyDetector:
        if detector not in self.thresholds:
            raise ValueError(f"Unknown novelty detector {detector!r}: choose one of {', '.join(DETECTORS)}.")
        return NoveltyDetector(detector, self.thresholds, self.params, self.model_digest, self._constants)

    def describe(self, score: float) -> dict[str, Any]:
        """The prediction object's ``novelty`` for one score."""
        return {"is_digit": bool(score <= self.threshold), "score": round(float(score), 4),
                "threshold": round(float(self.threshold), 4), "detector": self.detector}

    # --- scores (TensorFlow: traced into the engine's compiled call) ---------------------------------

    def _constant(self, name: str):
        import tensorflow as tf

        if name not in self._constants:
            with tf.init_scope():  # made eagerly, once: a tensor made while tracing belongs to that graph only
                self._constants[name] = tf.constant(self.params[name], tf.float32)
        return self._constants[name]

    def scores(self, features, logits, detectors: tuple[str, ...] | None = None) -> dict[str, Any]:
        """{detector: (B,) scores} for features (B, D) and logits (B, classes), as TensorFlow tensors."""
        import tensorflow as tf

        detectors = detectors or (self.detector,)
        if "ensemble" in detectors:
            detectors = (*detectors, *ENSEMBLE_MEMBERS)
        pooled = tf.cast(features, tf.float32)  # the penultimate features, then the pooled conv activations
        features = pooled[:, :int(self.params["feature_dims"])] if "feature_dims" in self.params else pooled
        logits = tf.cast(logits, tf.float32)
        energy = tf.reduce_logsumexp(logits, axis=-1)
        out = {}
        if "msp" in detectors:
            out["msp"] = 1.0 - tf.reduce_max(tf.nn.softmax(logits), axis=-1)
        if "energy" in detectors:
            out["energy"] = -energy
        if "mahalanobis" in detectors:
            precision, means = self._constant("precision"), self._constant("class_means")
            projected = tf.matmul(features, precision)
            distances = (tf.reduce_sum(projected * features, axis=-1, keepdims=True)
                         - 2.0 * tf.matmul(projected, means, transpose_b=True)
                         + self._constant("mean_norms")[None, :])
            out["mahalanobis"] = tf.reduce_min(distances, axis=-1)
        if "knn" in detectors:
            unit = tf.math.l2_normalize(features, axis=-1)
            similarity = tf.matmul(unit, self._constant("bank"), transpose_b=True)
            out["knn"] = 1.0 - tf.math.top_k(similarity, k=KNN_K).values[:, -1]
        if "vim" in detectors or "residual" in detectors:
            centred = features - self._constant("origin")[None, :]
            residual = tf.norm(tf.matmul(centred, self._constant("null_space")), axis=-1)
            if "vim" in detectors:
                out["vim"] = self._constant("alpha") * residual - energy
            if "residual" in detectors:
                out["residual"] = residual
        if "exposure" in detectors:
            heads = [(output - self._constant(f"{head}_center")) / self._constant(f"{head}_scale")
                     for head, output in self._head_outputs(features, pooled, logits).items()]
            out["exposure"] = tf.add_n(heads) / len(heads)
        if "ensemble" in detectors:
            members = tf.stack([out[name] for name in ENSEMBLE_MEMBERS], axis=-1)
            out["ensemble"] = tf.reduce_max((members - self._constant("ensemble_center"))
                                            / self._constant("ensemble_scale"), axis=-1)
        return out

    def _head_outputs(self, features, pooled, logits) -> dict[str, Any]:
        """Each exposure classifier's output (B,) before its scale: ``features`` the penultimate ones,
        ``pooled`` those followed by the conv layers' (TensorFlow)."""
        import tensorflow as tf

        outputs = {}
        for head in EXPOSURE_HEADS:
            inputs = tf.concat([features if head == "last" else pooled, logits], axis=-1)
            hidden = tf.nn.relu(tf.matmul((inputs - self._constant(f"{head}_mean")) / self._constant(f"{head}_std"),
                                          self._constant(f"{head}_w1")) + self._constant(f"{head}_b1"))
            outputs[head] = tf.matmul(hidden, self._constant(f"{head}_w2"))[:, 0] + self._constant(f"{head}_b2")
        return outputs

    def head_outputs(self, features: np.ndarray, logits: np.ndarray) -> dict[str, np.ndarray]:
        """NumPy in and out: each exposure classifier's output before its scale (what the scale is set on)."""
        import tensorflow as tf

        pooled = tf.constant(features, tf.float32)
        penultimate = pooled[:, :int(self.params["feature_dims"])]
        outputs = self._head_outputs(penultimate, pooled, tf.constant(logits, tf.float32))
        return {head: output.numpy() for head, output in outputs.items()}

    def score(self, features, logits):
        """(B,) scores of the detector in use (TensorFlow)."""
        return self.scores(features, logits)[self.detector]

    @property
    def available(self) -> tuple[str, ...]:
        """The detectors fitted (the exposure detector only where its fit set was there)."""
        return tuple(name for name in DETECTORS if name != "exposure" or "last_w1" in self.params)

    def all_scores(self, features: np.ndarray, logits: np.ndarray, detectors: tuple[str, ...] | None = None,
                   batch: int = 2000) -> dict[str, np.ndarray]:
        """NumPy in and out: the scores of ``detectors`` (every one fitted by default), in batches."""
        detectors = detectors or self.available
        if "exposure" in detectors and features.shape[1] + logits.shape[1] != self.params["layers_mean"].shape[0]:
            raise ValueError("The exposure detector reads the pooled conv features too: pass "
                             "DigitModel.features_and_logits(images, pooled=True).")
        parts: dict[str, list[np.ndarray]] = {name: [] for name in detectors}
        for i in range(0, len(features), batch):
            scores = self.scores(features[i:i + batch], logits[i:i + batch], detectors)
            for name in detectors:
                parts[name].append(np.asarray(scores[name]))
        return {name: np.concatenate(values) for name, values in parts.items()}

    # --- files ---------------------------------------------------------------------------------------

    def save(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.partial")
        with open(partial, "wb") as handle:
            np.savez(handle, version=FILE_VERSION, detector=self.detector, model_digest=self.model_digest,
                     threshold_names=np.array(list(self.thresholds)),
                     threshold_values=np.array(list(self.thresholds.values()), np.float64),
                     **{f"param_{k}": v for k, v in self.params.items()})
        partial.replace(path)
        return path

    @classmethod
    def read(cls, path: Path) -> NoveltyDetector | None:
        """The detector saved at ``path``; None if there is none or it is unreadable or of another version."""
        try:
            with np.load(path, allow_pickle=False) as data:
                if int(data["version"]) != FILE_VERSION:
                    return None
                thresholds = dict(zip((str(n) for n in data["threshold_names"]),
                                      (float(v) for v in data["threshold_values"]), strict=True))
                params = {k[len("param_"):]: np.asarray(data[k]) for k in data.files if k.startswith("param_")}
                return cls(str(data["detector"]), thresholds, params, str(data["model_digest"]))
        except (OSError, ValueError, KeyError, EOFError):
            return None


def fit(train_features: np.ndarray, train_logits: np.ndarray, train_labels: np.ndarray,
        logits_weights: tuple[np.ndarray, np.ndarray] | None, seed: int = 0) -> dict[str, np.ndarray]:
    """What the detectors need, from the features (N, D) and logits of training digits and their labels.

    ``logits_weights`` (kernel (D, classes), bias) of the logits layer give ViM its origin
    (the point the logits layer maps to zero); without them the features' mean is used.
    """
    features = np.asarray(train_features, np.float64)
    classes = int(train_logits.shape[1])
    means = np.stack([features[train_labels == c].mean(axis=0) if np.any(train_labels == c)
                      else features.mean(axis=0) for c in range(classes)])
    centred = features - means[train_labels]
    covariance = centred.T @ centred / max(len(features) - 1, 1)
    dims = covariance.shape[0]
    # A little shrinkage toward the mean variance: ReLU features have dead, constant dimensions.
    covariance += np.eye(dims) * (1e-3 * np.trace(covariance) / dims + 1e-9)
    variances, axes = np.linalg.eigh(covariance)  # symmetric and positive: inverted along its axes, in
    precision = (axes / variances) @ axes.T  # a fraction of pinv's time for thousands of features
    rng = np.random.default_rng(seed)
    bank = features[rng.choice(len(features), size=min(BANK_DIGITS, len(features)), replace=False)]
    bank /= np.maximum(np.linalg.norm(bank, axis=1, keepdims=True), 1e-12)
    if logits_weights is not None and logits_weights[0].shape == (dims, classes):
        kernel, bias = logits_weights
        origin = -np.linalg.pinv(kernel.T) @ bias
    else:
        origin = features.mean(axis=0)
    shifted = features - origin
    principal = max(1, min(dims // 2, dims - 1))
    if len(shifted) >= dims:
        # The right singular vectors are the eigenvectors of shifted' shifted (D x D), whose eigenvalues
        # come in rising order: the null space is the first dims - principal of them (and an SVD of the
        # N x D features takes five times as long).
        null_space = np.linalg.eigh(shifted.T @ shifted)[1][:, :dims - principal]
    else:
        _, _, vt = np.linalg.svd(shifted, full_matrices=False)
        null_space = vt[principal:].T if principal < vt.shape[0] else np.zeros((dims, 1))
    residual = np.linalg.norm(shifted @ null_space, axis=1)
    alpha = np.abs(train_logits.max(axis=1)).mean() / max(residual.mean(), 1e-12)
    mean_norms = np.einsum("cd,de,ce->c", means, precision, means)
    as32 = {"class_means": means, "precision": precision, "mean_norms": mean_norms,
            "bank": bank, "origin": origin, "null_space": null_space, "alpha": np.array(alpha)}
    return {"feature_dims": np.array(dims), **{k: np.asarray(v, np.float32) for k, v in as32.items()}}


def _train_head(inputs: np.ndarray, is_other: np.ndarray, seed: int, hidden: int = EXPOSURE_HIDDEN,
                epochs: int = EXPOSURE_EPOCHS, batch: int = 256, rate: float = 1e-3) -> dict[str, np.ndarray]:
    """A classifier with one hidden ReLU layer, digits (0) against non-digits (1), the two weighted equally:
    standardised inputs, logistic loss, Adam, minibatches in a seeded order."""
    rng = np.random.default_rng(seed)
    mean, std = inputs.mean(axis=0), inputs.std(axis=0) + 1e-3
    x = ((inputs - mean) / std).astype(np.float32)
    y = is_other.astype(np.float32)
    weight = np.where(is_other, (~is_other).sum() / max(is_other.sum(), 1), 1.0).astype(np.float32)
    params = [rng.normal(0, np.sqrt(2 / x.shape[1]), (x.shape[1], hidden)).astype(np.float32),
              np.zeros(hidden, np.float32),
              rng.normal(0, np.sqrt(1 / hidden), (hidden, 1)).astype(np.float32), np.zeros(1, np.float32)]
    moments = [np.zeros_like(p) for p in params]
    squares = [np.zeros_like(p) for p in params]
    step = 0
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch):
            picked = order[start:start + batch]
            xb, yb, wb = x[picked], y[picked], weight[picked]
            w1, b1, w2, b2 = params
            before = xb @ w1 + b1
            hidden_out = np.maximum(before, 0)
            logit = (hidden_out @ w2)[:, 0] + b2[0]
            grad = (1 / (1 + np.exp(-np.clip(logit, -30, 30))) - yb) * wb / len(picked)
            grad_hidden = grad[:, None] @ w2.T
            grad_hidden[before <= 0] = 0
            grads = [xb.T @ grad_hidden, grad_hidden.sum(axis=0), hidden_out.T @ grad[:, None], grad.sum(keepdims=True)]
            step += 1
            for p, g, m, v in zip(params, grads, moments, squares, strict=True):
                m *= 0.9
                m += 0.1 * g
                v *= 0.999
                v += 0.001 * g * g
                p -= rate * (m / (1 - 0.9 ** step)) / (np.sqrt(v / (1 - 0.999 ** step)) + 1e-7)
    return {"mean": mean.astype(np.float32), "std": std.astype(np.float32), "w1": params[0], "b1": params[1],
            "w2": params[2], "b2": params[3][0]}


def _head_inputs(head: str, features: np.ndarray, logits: np.ndarray, dims: int) -> np.ndarray:
    return np.concatenate([features[:, :dims] if head == "last" else features, logits], axis=1)


def fit_exposure(digit_features: np.ndarray, digit_logits: np.ndarray, other_features: np.ndarray,
                 other_logits: np.ndarray, dims: int, seed: int = 0) -> dict[str, np.ndarray]:
    """The ``exposure`` detector's two classifiers, from the novelty features (penultimate first, ``dims``
    of them) and logits of training digits and of exposure non-digits."""
    is_other = np.concatenate([np.zeros(len(digit_features), bool), np.ones(len(other_features), bool)])
    params = {}
    for number, head in enumerate(EXPOSURE_HEADS):
        inputs = np.concatenate([_head_inputs(head, digit_features, digit_logits, dims),
                                 _head_inputs(head, other_features, other_logits, dims)])
        params.update({f"{head}_{k}": v for k, v in _train_head(inputs, is_other, seed + number).items()})
    return params


def read_fit_set(path: Path = FIT_SET_PATH) -> dict[str, np.ndarray] | None:
    """The exposure detector's fit set as [0, 1] floats (``digits``, ``exposure``); None if it is missing."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k].astype(np.float32) / 255.0 for k in ("digits", "exposure")}
    except (OSError, ValueError, KeyError):
        return None


def _test_scale(scores: np.ndarray) -> tuple[float, float]:
    """A score's scale on the MNIST test digits: 0 at their median, 1 at their 99th percentile."""
    center = float(np.median(scores))
    return center, max(float(np.quantile(scores, DIGITS_KEPT)) - center, 1e-6)


def thresholds_for(scores: dict[str, np.ndarray], kept: float = DIGITS_KEPT) -> dict[str, float]:
    """Each detector's threshold: the score under which ``kept`` of the MNIST test digits fall."""
    return {name: float(np.quantile(values, kept)) for name, values in scores.items()}


def fit_for_model(model, detector: str | None = None, seed: int = 0) -> NoveltyDetector:
    """Fit every detector of a ``DigitModel`` on MNIST training digits and set thresholds on the test digits.

    Raises ``models.mnist.MnistError`` when MNIST cannot be loaded.
    """
    from models.mnist import as_model_input, load_mnist

    x_train, y_train, x_test, _ = load_mnist()
    picks = np.random.default_rng(seed).choice(len(x_train), size=min(FIT_DIGITS, len(x_train)), replace=False)
    features, logits = model.features_and_logits(as_model_input(x_train[picks])[..., 0], pooled=True)
    dims = model.spec.feature_dims
    params = fit(features[:, :dims], logits, y_train[picks].astype(np.int64), model.logits_weights(), seed)
    fit_set = read_fit_set()
    if fit_set is None:
        log.warning("%s is missing (python -m train.nondigits writes it): no exposure detector", FIT_SET_PATH.name)
    else:
        more_features, more_logits = model.features_and_logits(fit_set["digits"], pooled=True)
        other_features, other_logits = model.features_and_logits(fit_set["exposure"], pooled=True)
        params.update(fit_exposure(np.concatenate([features, more_features]), np.concatenate([logits, more_logits]),
                                   other_features, other_logits, dims, seed))
    fitted = NoveltyDetector(detector or FALLBACK_DETECTOR, {}, params, model.digest)
    test_features, test_logits = model.features_and_logits(as_model_input(x_test)[..., 0], pooled=True)
    # Scales on the MNIST test digits: the ensemble's members, and the exposure detector's two heads.
    members = fitted.all_scores(test_features, test_logits, ENSEMBLE_MEMBERS)
    centers, spreads = zip(*(_test_scale(members[name]) for name in ENSEMBLE_MEMBERS), strict=True)
    params["ensemble_center"], params["ensemble_scale"] = np.float32(centers), np.float32(spreads)
    if fit_set is not None:
        for head, outputs in fitted.head_outputs(test_features, test_logits).items():
            params[f"{head}_center"], params[f"{head}_scale"] = (np.float32(v) for v in _test_scale(outputs))
    fitted.thresholds = thresholds_for(fitted.all_scores(test_features, test_logits))
    return fitted


def load_or_fit(model, cache_dir: Path | None = None, detector: str | None = None) -> NoveltyDetector:
    """The model's fitted detectors: read from ``NAME.novelty.npz`` next to the model (or in ``cache_dir``
    where that folder is read-only), else fitted once and written there, once for all processes (a
    file lock makes the others wait and read it). A file made for another version of the model file
    is fitted again. ``detector`` (the scoreboard's choice) is the one used.
    """
    import os

    from models.report import file_lock

    def chosen(fitted: NoveltyDetector) -> NoveltyDetector:
        return fitted.using(detector) if detector in fitted.thresholds and detector != fitted.detector else fitted

    kept = novelty_path(model.path) if model.path else None
    fitted = NoveltyDetector.read(kept) if kept else None
    if fitted is None or fitted.model_digest != model.digest:
        if kept is not None and not os.access(kept.parent, os.W_OK):
            kept = Path(cache_dir) / kept.name if cache_dir is not None else None
        if kept is None:  # a model held only in memory, or nowhere writable: fitted for this process only
            return chosen(_fitted(model))
        with file_lock(kept.with_suffix(".lock")):
            fitted = NoveltyDetector.read(kept)
            if fitted is None or fitted.model_digest != model.digest:
                fitted = _fitted(model)
                fitted.save(kept)
    if model.digest:  # read from a file too: a copy of this model elsewhere is not fitted again
        _FITTED.setdefault(model.digest, fitted)
    return chosen(fitted)


_FITTED: dict[str, NoveltyDetector] = {}  # model file digest -> its detectors, fitted or read in this process


def _fitted(model) -> NoveltyDetector:
    """``fit_for_model``, once per model file content in this process (a copy or a re-upload of a file
    fitted already is not fitted again)."""
    if model.digest and model.digest in _FITTED:
        return _FITTED[model.digest]
    fitted = fit_for_model(model)
    if model.digest:
        _FITTED[model.digest] = fitted
    return fitted


def novelty_sentences(section: dict[str, Any] | None) -> list[str]:
    """Which detector the app uses on this model and how well it does, in plain words."""
    if not section:
        return [f"This model has no not-a-digit scoreboard yet: the app uses {DETECTOR_LABELS[FALLBACK_DETECTOR]} "
                "until `python -m train.evaluate --only novelty` has compared the detectors."]
    row = next(r for r in section["detectors"] if r["name"] == section["detector"])
    worst = min(row["nondigits_flagged"], key=row["nondigits_flagged"].get)
    digit_kinds = {k: v for k, v in row["digits_flagged"].items() if k != "mnist-test"}
    most = max(digit_kinds, key=digit_kinds.get)
    label = DETECTOR_LABELS.get(row["name"], row["name"])
    return [f"On this model the app uses {label}: at a threshold that keeps 99 % of the MNIST test "
            f"digits, it flags {min(row['nondigits_flagged'].values()):.0%} to "
            f"{max(row['nondigits_flagged'].values()):.0%} of each kind of non-digit (weakest: {worst}) and "
            f"wrongly flags at most {digit_kinds[most]:.1%} of any other kind of digit ({most}).",
            f"AUROC {row['auroc']:.3f} over all non-digit kinds; {row['fpr_at_95_tpr']:.1%} of non-digits pass for "
            "digits when 95 % of digits are kept."]
