"""The loaded model and what the app, the API and the CLI ask of it."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np

from models import DEFAULT_MODEL_PATH
from models.methods import DEFAULT_METHOD, METHOD_NAMES, needs_layer, unknown_method_message
from models.report import read_metadata

FAITHFULNESS_STEPS = 8  # 2 x 7 perturbed digits (deleted, revealed), batched through the network
FAITHFULNESS_PRECISIONS = ("auto", "float32", "bfloat16")  # how the perturbed digits are scored; auto first
FALLBACK_MSP = 0.5  # without MNIST to set a threshold on: a digit is an input some digit gets half of


class ModelLoadError(RuntimeError):
    """The model file is missing or unusable; the message names the file and the fix."""


def _round(a: np.ndarray, digits: int = 4) -> list:
    return np.round(np.asarray(a, dtype=np.float64), digits).tolist()


def set_tensorflow_threads(intra_op: int | None = None) -> None:
    """A server process's thread pools: ``intra_op`` threads per op, two ops side by side.

    Without ``intra_op`` TensorFlow keeps its defaults (every core for each op, best for big
    batches). A gunicorn worker gets one thread per op: splitting a digit's small convolutions
    over threads that must be woken for every op was slower here than one thread doing them. Its
    two inter-op threads run the faithfulness scores' deletion and insertion batches side by side.
    OpenCV (the pre-processing) gets the same number of threads per call, for the same reason.
    TensorFlow's setting takes effect only before it runs its first op in the process.
    """
    if not intra_op:
        return
    import cv2
    import tensorflow as tf

    cv2.setNumThreads(intra_op)
    try:
        tf.config.threading.set_intra_op_parallelism_threads(intra_op)
        tf.config.threading.set_inter_op_parallelism_threads(2)
    except RuntimeError:
        pass  # TensorFlow already ran ops in this process (tests, notebooks): keep its setting


class DigitModel:
    """A trained digit model (any of DESIGN.md's "Any model") with compiled prediction + explanation functions.

    Everything about the model's graph (logits, conv taps, input size) comes from its ``ModelSpec``.
    """

    def __init__(self, keras_model, path: Path | None = None, faithfulness_precision: str = "auto") -> None:
        """``faithfulness_precision``: how faithfulness curves are scored (``models.explain.faithfulness_network``)."""
        from models.adapter import adapt
        from models.explain import CamEngine

        self.keras_model = keras_model  # as loaded, never changed
        self.path = Path(path) if path else None
        self.metadata = (read_metadata(self.path) if self.path else None) or {}
        self.spec = adapt(keras_model, self.path)
        self.layer_names = self.spec.conv_names
        self.engine = CamEngine(self.spec, faithfulness_precision)

    @classmethod
    def load(cls, path: str | Path = DEFAULT_MODEL_PATH, intra_op_threads: int | None = None,
             faithfulness_precision: str = "auto", novelty: bool = True,
             cache_dir: Path | None = None) -> DigitModel:
        """Load, adapt and check a model; ``intra_op_threads`` as in ``set_tensorflow_threads``.

        With ``novelty`` the model's not-a-digit detectors are read from next to it, or fitted once
        on MNIST and written there (or in ``cache_dir``): see ``use_novelty``.
        The default explanation is compiled and run on a blank digit here, so that a model the
        engine cannot explain is refused now, with a ``ModelLoadError``, never at the first request.
        """
        set_tensorflow_threads(intra_op_threads)
        from models.adapter import SEND_INSTEAD, load_keras_model

        keras_model = load_keras_model(path)
        try:
            model = cls(keras_model, path, faithfulness_precision)
            if novelty:
                model.use_novelty(cache_dir)
            blank = np.zeros((1, *model.spec.image_size), np.float32)
            model.engine.explain(blank, model.default_layer, DEFAULT_METHOD, None, FAITHFULNESS_STEPS)
        except ModelLoadError:
            raise  # the adapter's sentence: what is wrong with the model
        except Exception as exc:  # anything the engine cannot trace or run through this graph
            raise ModelLoadError(f"Model file {path} loads but cannot be explained ({type(exc).__name__}): "
                                 f"{SEND_INSTEAD}.") from exc
        return model

    def use_novelty(self, cache_dir: Path | None = None, detector: str | None = None) -> None:
        """Score every answer with ``detector``, else the not-a-digit detector the model's report chose
        (``models.novelty``).

        Its fitted statistics are read from ``NAME.novelty.npz`` or fitted once on MNIST. Without
        MNIST to fit on, the answer falls back to the maximum softmax probability: an input is a
        digit when the model gives some digit at least ``FALLBACK_MSP`` (no threshold can be set
        on the test digits then).
        """
        from models.mnist import MnistError
        from models.novelty import NoveltyDetector, load_or_fit
        from models.report import read_report

        chosen = detector or (((read_report(self.path) or {}).get("novelty") or {}).get("detector")
                              if self.path else None)
        try:
            detector = load_or_fit(self, cache_dir, chosen)
        except MnistError:
            detector = NoveltyDetector("msp", {"msp": 1.0 - FALLBACK_MSP}, {})
        self.engine.set_novelty(detector)

    @property
    def novelty(self):
        """The ``NoveltyDetector`` in use; None if the model was loaded without one."""
        return self.engine.novelty

    @functools.cached_property
    def digest(self) -> str:
        """SHA-256 of the model file ("" for a model held only in memory)."""
        from models.novelty import file_digest

        return file_digest(self.path) if self.path else ""

    def logits_weights(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The kernel (D, classes) and bias of the layer that makes the logits, if it is a Dense layer."""
        from keras import layers

        layer = self.spec.logits._keras_history[0]
        if not isinstance(layer, layers.Dense):
            return None
        weights = layer.get_weights()
        bias = weights[1] if len(weights) > 1 else np.zeros(weights[0].shape[1], np.float32)
        return weights[0], bias

    def features_and_logits(self, images: np.ndarray, batch_size: int = 1000,
                            pooled: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Penultimate features (N, D) and logits (N, classes) of images (N, 28, 28) in [0, 1], in batches.
        With ``pooled``, the features are followed by every conv layer's mean activations, then their
        maximum over space (what the novelty detectors read)."""
        parts = [self.engine.features_and_logits(images[i:i + batch_size]) for i in range(0, len(images), batch_size)]
        features = np.concatenate([p[0] for p in parts])
        return features if pooled else features[:, :self.spec.feature_dims], np.concatenate([p[1] for p in parts])

    @property
    def name(self) -> str:
        return self.metadata.get("name") or (self.path.stem if self.path else self.keras_model.name)

    @property
    def default_layer(self) -> str:
        return self.layer_names[-1]

    @property
    def num_classes(self) -> int:
        return self.spec.num_classes

    def conv_layers(self) -> list[dict[str, Any]]:
        """One entry per conv layer: name, type, output shape, params, kernel, receptive field."""
        return [{
            "name": conv.name,
            "type": type(conv.layer).__name__,
            "output_shape": [int(d) for d in conv.tap.shape[1:]],
            "params": int(conv.layer.count_params()),
            "kernel": list(conv.layer.kernel_size),
            "receptive_field": conv.receptive_field,
        } for conv in self.spec.convs]

    def check_layer(self, layer: str | None) -> str:
        if layer is None or layer == "":
            return self.default_layer
        if layer not in self.layer_names:
            raise ValueError(f"Unknown layer {layer!r}: choose one of {', '.join(self.layer_names)}.")
        return layer

    def check_class(self, class_index: int | None) -> int | None:
        if class_index is not None and not 0 <= int(class_index) < self.num_classes:
            raise ValueError(f"class must be a digit from 0 to {self.num_classes - 1}, not {class_index}.")
        return class_index

    def probabilities(self, images: np.ndarray, batch_size: int = 1000) -> np.ndarray:
        """Class probabilities (N, classes) of images (N, 28, 28) in [0, 1], in batches."""
        return np.concatenate([self.engine.probabilities(images[i:i + batch_size])
                               for i in range(0, len(images), batch_size)])

    def read(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities (N, classes) of images (N, 28, 28) in [0, 1], and whether each looks like a digit
        at all (N,) bool (the novelty verdict; every input is one without a detector): one compiled call."""
        probs, scores = self.engine.read(images)
        if self.novelty is None:
            return probs, np.ones(len(probs), bool)
        return probs, scores <= self.novelty.threshold

    def explain_batch(self, images: np.ndarray, layer: str | None = None, method: str = DEFAULT_METHOD,
                      classes: np.ndarray | None = None):
        """Batched probabilities (B,10), maps (B,28,28), explained classes (B,), empty flags (B,)."""
        return self._explain(images, layer, method, classes)[:4]

    def explain_with_novelty(self, images: np.ndarray, layer: str | None = None, method: str = DEFAULT_METHOD,
                             classes: np.ndarray | None = None):
        """As ``explain_batch``, plus each image's novelty score (B,), in the same compiled call."""
        probs, cams, explained, empty, _, novelty = self._explain(images, layer, method, classes)
        return probs, cams, explained, empty, novelty

    def explain_with_faithfulness(self, images: np.ndarray, layer: str | None = None,
                                  method: str = DEFAULT_METHOD, classes: np.ndarray | None = None):
        """As ``explain_batch``, plus each map's deletion and insertion AUC (B, 2), in the same compiled call."""
        return self._explain(images, layer, method, classes, FAITHFULNESS_STEPS)[:5]

    def _explain(self, images, layer, method, classes, faithfulness_steps: int = 0):
        if method not in METHOD_NAMES:
            raise ValueError(unknown_method_message(method))
        layer = self.check_layer(layer) if needs_layer(method) else None  # pixel-level: accepted and ignored
        return self.engine.explain(images, layer, method, classes, faithfulness_steps)

    def predict(self, image: np.ndarray, layer: str | None = None, method: str = DEFAULT_METHOD,
                class_index: int | None = None, with_faithfulness: bool = True) -> dict[str, Any]:
        """The prediction object of DESIGN.md for one 28x28 input in [0, 1]; a pixel-level method's layer is None."""
        return self.predict_batch(np.asarray(image)[None], layer, method, class_index, with_faithfulness)[0]

    def predict_batch(self, images: np.ndarray, layer: str | None = None, method: str = DEFAULT_METHOD,
                      class_index: int | None = None, with_faithfulness: bool = True) -> list[dict[str, Any]]:
        """One prediction object per 28x28 input (B, 28, 28), all from one compiled call (the digits of a number)."""
        layer = self.check_layer(layer) if needs_layer(method) else None
        self.check_class(class_index)
        classes = None if class_index is None else np.full(len(images), int(class_index))
        steps = FAITHFULNESS_STEPS if with_faithfulness else 0
        probs, cams, explained, empty, scores, novelty = self._explain(images, layer, method, classes, steps)
        return [self._prediction(image, p, cam, int(c), bool(e), score if with_faithfulness else None, float(n),
                                 method, layer)
                for image, p, cam, c, e, score, n in zip(images, probs, cams, explained, empty, scores, novelty,
                                                         strict=True)]

    def _prediction(self, image: np.ndarray, probs: np.ndarray, cam: np.ndarray, explained: int, empty: bool,
                    faithfulness: np.ndarray | None, novelty: float, method: str,
                    layer: str | None) -> dict[str, Any]:
        top = np.argsort(-probs, kind="stable")[:3]
        explanation: dict[str, Any] = {
            "method": method,
            "layer": layer,
            "class": explained,
            "heatmap": _round(cam),
            "empty": empty,
        }
        if empty:
            where = f" at layer {layer}" if layer else ""
            explanation["note"] = (f"{method} found no positive evidence for digit {explained}{where}; "
                                   "the map is all zero. Try a deeper layer or the layercam method.")
        if faithfulness is not None:
            deletion, insertion = faithfulness
            explanation["faithfulness"] = {"deletion_auc": round(float(deletion), 4),
                                           "insertion_auc": round(float(insertion), 4)}
        answer = {
            "top": [{"digit": int(d), "probability": round(float(probs[d]), 6)} for d in top],
            "input": _round(image),
            "explanation": explanation,
        }
        if self.novelty is not None:
            answer["novelty"] = self.novelty.describe(novelty)
        return answer

    def feature_maps(self, image: np.ndarray, layer: str | None = None) -> np.ndarray:
        """The layer's activations (h, w, K) for one 28x28 input."""
        tap = self.spec.activations(self.check_layer(layer))
        return np.asarray(tap(np.asarray(image, np.float32).reshape(1, *self.spec.image_size, 1), training=False))[0]
