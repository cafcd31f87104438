"""The baseline the serving benchmark compares against: ``gunicorn bench.naive_server:server``.

Same pre-processing and answer as ``/api/predict``, but the model work is done the naive way
of the original app: ``model.predict``, then a Grad-CAM model built per request and an eager
tape. With ``?faithfulness=1`` it also scores the map as the app does (deletion / insertion
AUC), with one ``model.predict`` over the perturbed inputs. It exists only to be measured
against; the app never uses it.
"""

from __future__ import annotations

import threading

import numpy as np
from flask import Flask, jsonify, request

from models import DEFAULT_MODEL_PATH
from models.preprocess import DigitInputError, image_to_model_input

server = Flask(__name__)
_model = None
_lock = threading.Lock()


def _keras_model():
    global _model
    with _lock:
        if _model is None:
            import keras

            _model = keras.models.load_model(DEFAULT_MODEL_PATH, safe_mode=True, compile=False)
    return _model


@server.get("/api/health")
def health():
    _keras_model()
    return jsonify(status="ok")


@server.post("/api/predict")
def predict():
    from bench.model_bench import naive_top3_gradcam

    model = _keras_model()
    try:
        image = image_to_model_input(request.get_data())
    except DigitInputError as exc:
        return jsonify(error=str(exc)), 400
    probs, top, cam = naive_top3_gradcam(model, "conv4")(image)
    explanation = {"method": "gradcam", "layer": "conv4", "class": int(top[0]), "heatmap": np.round(cam, 4).tolist()}
    if request.args.get("faithfulness"):
        explanation["faithfulness"] = _faithfulness(model, image, cam, int(top[0]))
    return jsonify(top=[{"digit": int(d), "probability": float(probs[d])} for d in top],
                   input=np.round(image, 4).tolist(), explanation=explanation)


def _faithfulness(model, image: np.ndarray, cam: np.ndarray, digit: int) -> dict[str, float]:
    from models.inference import FAITHFULNESS_STEPS

    order = np.argsort(-cam.ravel(), kind="stable")
    batch = []
    for count in np.round(np.linspace(0, 784, FAITHFULNESS_STEPS + 1)).astype(int):
        removed = np.zeros(784, bool)
        removed[order[:count]] = True
        batch += [np.where(removed, 0, image.ravel()), np.where(removed, image.ravel(), 0)]
    scores = model.predict(np.reshape(batch, (-1, 28, 28, 1)), verbose=0)[:, digit]
    deletion, insertion = scores[0::2], scores[1::2]
    dx = 1 / FAITHFULNESS_STEPS
    return {"deletion_auc": float(np.trapezoid(deletion, dx=dx)),
            "insertion_auc": float(np.trapezoid(insertion, dx=dx))}
