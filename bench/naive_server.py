"""The baseline the serving benchmark compares against: ``gunicorn bench.naive_server:server``.

Same pre-processing and answer as ``/api/predict``, but the model work is done the naive way
of the original app: ``model.predict``, then a Grad-CAM model built per request and an eager
tape. With ``?faithfulness=1`` it also scores the map as the app does (deletion / insertion
AUC), with one ``model.predict`` over the perturbed inputs. It exists only to be measured
against; the app never uses it.
"""

from __future__ import annotations

import os
import threading

import numpy as np
from flask import Flask, jsonify, request

from models import DEFAULT_MODEL_NAME
from models.preprocess import DigitInputError, image_to_model_input

server = Flask(__name__)
_naive = None
_lock = threading.Lock()


def _naive_model():
    """The model DIGIT_INSPECTOR_MODEL names (as the app reads it), its last conv layer and its naive Grad-CAM."""
    global _naive
    with _lock:
        if _naive is None:
            from bench.model_bench import naive_top3_gradcam
            from models.adapter import adapt, load_keras_model
            from models.catalog import resolve_model

            model = load_keras_model(resolve_model(os.environ.get("DIGIT_INSPECTOR_MODEL") or DEFAULT_MODEL_NAME))
            spec = adapt(model, fold_batch_norm=False)
            layer = spec.conv_names[-1]
            _naive = model, layer, naive_top3_gradcam(model, layer), (-1, *spec.image_size, 1)[: spec.input_rank + 1]
    return _naive


@server.get("/api/health")
def health():
    _naive_model()
    return jsonify(status="ok")


@server.post("/api/predict")
def predict():
    model, layer, naive_gradcam, batch_shape = _naive_model()
    try:
        image = image_to_model_input(request.get_data())
    except DigitInputError as exc:
        return jsonify(error=str(exc)), 400
    probs, top, cam = naive_gradcam(image)
    explanation = {"method": "gradcam", "layer": layer, "class": int(top[0]), "heatmap": np.round(cam, 4).tolist()}
    if request.args.get("faithfulness"):
        explanation["faithfulness"] = _faithfulness(model, batch_shape, image, cam, int(top[0]))
    return jsonify(top=[{"digit": int(d), "probability": float(probs[d])} for d in top],
                   input=np.round(image, 4).tolist(), explanation=explanation)


def _faithfulness(model, batch_shape: tuple[int, ...], image: np.ndarray, cam: np.ndarray,
                  digit: int) -> dict[str, float]:
    from models.inference import FAITHFULNESS_STEPS

    order = np.argsort(-cam.ravel(), kind="stable")
    batch = []
    for count in np.round(np.linspace(0, 784, FAITHFULNESS_STEPS + 1)).astype(int):
        removed = np.zeros(784, bool)
        removed[order[:count]] = True
        batch += [np.where(removed, 0, image.ravel()), np.where(removed, image.ravel(), 0)]
    scores = model.predict(np.reshape(batch, batch_shape), verbose=0)[:, digit]
    deletion, insertion = scores[0::2], scores[1::2]
    dx = 1 / FAITHFULNESS_STEPS
    return {"deletion_auc": float(np.trapezoid(deletion, dx=dx)),
            "insertion_auc": float(np.trapezoid(insertion, dx=dx))}
