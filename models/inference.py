"""The loaded model and what the app, the API and the CLI ask of it."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from models import DEFAULT_MODEL_PATH
from models.report import read_metadata

FAITHFULNESS_STEPS = 8  # 2 x 7 perturbed digits (deleted, revealed), batched through the network


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
    Takes effect only before TensorFlow runs its first op in the process.
    """
    if not intra_op:
        return
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(intra_op)
        tf.config.threading.set_inter_op_parallelism_threads(2)
    except RuntimeError:
        pass  # TensorFlow already ran ops in this process (tests, notebooks): keep its setting


class DigitModel:
    """A trained digit CNN with compiled prediction + explanation functions."""

    def __init__(self, keras_model, path: Path | None = None) -> None:
        from models.explain import CamEngine
        from models.network import conv_layer_names

        self.keras_model = keras_model
        self.path = Path(path) if path else None
        self.metadata = (read_metadata(self.path) if self.path else None) or {}
        self.layer_names = conv_layer_names(keras_model)
        if not self.layer_names:
            raise ModelLoadError(f"{self.path or 'The model'} has no convolution layer to explain.")
        self.engine = CamEngine(keras_model)
        self._lock = threading.Lock()  # builds each feature-map sub-model only once
        self._feature_taps: dict[str, Any] = {}

    @classmethod
    def load(cls, path: str | Path = DEFAULT_MODEL_PATH, intra_op_threads: int | None = None) -> DigitModel:
        """Load a trained model; ``intra_op_threads`` as in ``set_tensorflow_threads``."""
        path = Path(path)
        fix = ("make it with `python -m train`, or point DIGIT_INSPECTOR_MODEL (app) or --model (CLI) "
               "at a trained .keras file")
        if not path.is_file():
            raise ModelLoadError(f"Model file {path} does not exist: {fix}.")
        import keras

        set_tensorflow_threads(intra_op_threads)
        try:
            model = keras.models.load_model(path, safe_mode=True, compile=False)
        except Exception as exc:  # Keras raises many kinds for a corrupt archive
            reason = f"{type(exc).__name__}: {exc}"
            raise ModelLoadError(f"Model file {path} could not be loaded ({reason}); {fix}.") from exc
        try:
            return cls(model, path)
        except (ValueError, KeyError) as exc:
            raise ModelLoadError(f"Model file {path} is not a digit CNN this app can explain ({exc}); {fix}.") from exc

    @property
    def name(self) -> str:
        return self.metadata.get("name") or (self.path.stem if self.path else self.keras_model.name)

    @property
    def default_layer(self) -> str:
        return self.layer_names[-1]

    def conv_layers(self) -> list[dict[str, Any]]:
        """One entry per conv layer: name, type, output shape, params, kernel, receptive field."""
        from models.network import receptive_fields

        fields = receptive_fields(self.keras_model)
        rows = []
        for name in self.layer_names:
            layer = self.keras_model.get_layer(name)
            rows.append({
                "name": name,
                "type": type(layer).__name__,
                "output_shape": [int(d) for d in layer.output.shape[1:]],
                "params": int(layer.count_params()),
                "kernel": list(layer.kernel_size),
                "receptive_field": fields[name],
            })
        return rows

    def check_layer(self, layer: str | None) -> str:
        if layer is None or layer == "":
            return self.default_layer
        if layer not in self.layer_names:
            raise ValueError(f"Unknown layer {layer!r}: choose one of {', '.join(self.layer_names)}.")
        return layer

    def explain_batch(self, images: np.ndarray, layer: str | None = None, method: str = "gradcam",
                      classes: np.ndarray | None = None):
        """Batched probabilities (B,10), maps (B,28,28), explained classes (B,), empty flags (B,)."""
        return self._explain(images, layer, method, classes)[:4]

    def explain_with_faithfulness(self, images: np.ndarray, layer: str | None = None, method: str = "gradcam",
                                  classes: np.ndarray | None = None):
        """As ``explain_batch``, plus each map's deletion and insertion AUC (B, 2), in the same compiled call."""
        return self._explain(images, layer, method, classes, FAITHFULNESS_STEPS)

    def _explain(self, images, layer, method, classes, faithfulness_steps: int = 0):
        from models.explain import METHODS

        layer = self.check_layer(layer)
        if method not in METHODS:
            raise ValueError(f"Unknown method {method!r}: choose one of {', '.join(METHODS)}.")
        return self.engine.explain(images, layer, method, classes, faithfulness_steps)

    def predict(self, image: np.ndarray, layer: str | None = None, method: str = "gradcam",
                class_index: int | None = None, with_faithfulness: bool = True) -> dict[str, Any]:
        """The prediction object of DESIGN.md for one 28x28 input in [0, 1]."""
        layer = self.check_layer(layer)
        if class_index is not None and not 0 <= int(class_index) <= 9:
            raise ValueError(f"class must be a digit from 0 to 9, not {class_index}.")
        classes = None if class_index is None else np.array([int(class_index)])
        steps = FAITHFULNESS_STEPS if with_faithfulness else 0
        probs, cams, explained, empty, scores = self._explain(image[None], layer, method, classes, steps)
        probs, cam = probs[0], cams[0]
        top = np.argsort(-probs, kind="stable")[:3]
        explanation: dict[str, Any] = {
            "method": method,
            "layer": layer,
            "class": int(explained[0]),
            "heatmap": _round(cam),
            "empty": bool(empty[0]),
        }
        if empty[0]:
            explanation["note"] = (f"{method} found no positive evidence for digit {int(explained[0])} at layer "
                                   f"{layer}; the map is all zero. Try a deeper layer or the layercam method.")
        if with_faithfulness:
            deletion, insertion = scores[0]
            explanation["faithfulness"] = {"deletion_auc": round(float(deletion), 4),
                                           "insertion_auc": round(float(insertion), 4)}
        return {
            "top": [{"digit": int(d), "probability": round(float(probs[d]), 6)} for d in top],
            "input": _round(image),
            "explanation": explanation,
        }

    def feature_maps(self, image: np.ndarray, layer: str | None = None) -> np.ndarray:
        """The layer's activations (h, w, K) for one 28x28 input."""
        import keras

        from models.explain import activation_layer_name

        layer = self.check_layer(layer)
        with self._lock:
            if layer not in self._feature_taps:
                output = self.keras_model.get_layer(activation_layer_name(self.keras_model, layer)).output
                self._feature_taps[layer] = keras.Model(self.keras_model.input, output)
        tap = self._feature_taps[layer]
        return np.asarray(tap(np.asarray(image, np.float32).reshape(1, 28, 28, 1), training=False))[0]
