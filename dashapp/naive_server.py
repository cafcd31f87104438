"""The baseline the serving benchmark compares against: ``gunicorn dashapp.naive_server:server``.

Same pre-processing and answer as ``/api/predict``, but the model work is done the naive way
of the original app: ``model.predict``, then a Grad-CAM model built per request and an eager
tape. It exists only to be measured against; the app never uses it.
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
    from models.bench import naive_top3_gradcam

    model = _keras_model()
    try:
        image = image_to_model_input(request.get_data())
    except DigitInputError as exc:
        return jsonify(error=str(exc)), 400
    probs, top, cam = naive_top3_gradcam(model, "conv4")(image)
    return jsonify(
        top=[{"digit": int(d), "probability": float(probs[d])} for d in top],
        input=np.round(image, 4).tolist(),
        explanation={"method": "gradcam", "layer": "conv4", "class": int(top[0]),
                     "heatmap": np.round(cam, 4).tolist()},
    )
