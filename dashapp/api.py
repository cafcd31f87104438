"""The JSON API (``/api/health``, ``/api/models``, ``/api/model``, ``/api/predict``, ``/api/explanations``),
on the same service as the UI."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from dashapp.field import FieldService
from dashapp.service import ModelService, Timings
from models.inference import ModelLoadError
from models.preprocess import DigitInputError

api = Blueprint("api", __name__, url_prefix="/api")
log = logging.getLogger(__name__)

HOW_TO_SEND = ("send the image as a multipart/form-data file field named 'image', or as the raw request body "
               "with an image content type such as image/png")


class Rejected(Exception):
    """A request answered with ``status`` and ``{"error": message}``."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _error(message: str, status: int) -> tuple[Response, int]:
    return jsonify(error=message), status


def _too_large(size: int, limit: int) -> Rejected:
    return Rejected(f"The image is {size / 1e6:.1f} MB, over the {limit / 1e6:.1f} MB limit: "
                    "send a smaller image.", 413)


def _uploaded_image(limit: int) -> bytes:
    """The image bytes of a multipart field ``image`` or of a raw body with an image content type."""
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("image")
        if upload is None:
            raise Rejected(f"The form has no file field named 'image': {HOW_TO_SEND}.")
        data = upload.read()  # in memory (see InMemoryRequest), bounded by MAX_CONTENT_LENGTH
    elif request.mimetype.startswith("image/"):
        data = request.get_data(cache=False)
    else:
        raise Rejected(f"Expected an image, got content type {request.mimetype or 'none'!r}: {HOW_TO_SEND}.", 415)
    if len(data) > limit:
        raise _too_large(len(data), limit)
    return data


@api.get("/health")
def health():
    service = ModelService.of(current_app)
    if service.ready:
        return {"status": "ok"}
    return {"status": "loading"}, 503


@api.get("/models")
def models():
    return {"models": ModelService.of(current_app).models_info()}


@api.post("/models")
def upload_model():
    """A .keras model file as the multipart field ``model`` (only with DIGIT_INSPECTOR_MODEL_UPLOADS=1)."""
    service = ModelService.of(current_app)
    if not service.settings.model_uploads:
        raise Rejected("Model uploads are off on this server: ask its operator to set "
                       "DIGIT_INSPECTOR_MODEL_UPLOADS=1.", 403)
    request.max_content_length = service.settings.max_model_bytes + 1024 * 1024  # this route's own limit
    upload = request.files.get("model") if request.mimetype == "multipart/form-data" else None
    if upload is None:
        raise Rejected("Send the model as a multipart/form-data file field named 'model' (a .keras file).")
    data = upload.read()
    if len(data) > service.settings.max_model_bytes:
        raise Rejected(f"The model is {len(data) / 1e6:.1f} MB, over the {service.settings.max_model_bytes / 1e6:.1f} "
                       "MB limit: send a smaller model.", 413)
    name = service.save_upload(upload.filename or "", data)
    return {"name": name, "models": service.models_info()}, 201


@api.get("/model")
def model_info():
    return ModelService.of(current_app).model_info(request.values.get("model"))


@api.get("/explanations")
def explanations():
    """The scoreboard section of the model's evaluation report (which explanation to trust)."""
    service = ModelService.of(current_app)
    name = service.model_name(request.values.get("model"))
    section = service.explanations(name)
    if section is None:
        raise Rejected(f"Model {name} has no explanation scoreboard yet: run "
                       f"`python -m train.evaluate --model {name} --only explanations` on the server.", 404)
    return section


@api.post("/predict")
def predict():
    service = ModelService.of(current_app)
    limit = service.settings.max_upload_bytes
    if request.mimetype.startswith("image/") and (request.content_length or 0) > limit:
        raise _too_large(request.content_length, limit)  # refused before the body is read
    options = service.options(request.values.get("layer"), request.values.get("method"), request.values.get("class"),
                              request.values.get("model"))
    timings = Timings()
    data = _uploaded_image(limit)
    result = service.predict_image(data, options, timings)
    if FieldService.of(current_app).mode == "all":  # every prediction is a field record (DESIGN.md)
        from dashapp.field_api import record_api_prediction

        with timings.span("record"):
            record_api_prediction(result, data, options)
    with timings.span("json"):
        response = jsonify(result)
    # Where this request's time went (decode, normalise, model, json): browsers' network panels
    # and `make bench` read it; the rest of the client's wait is HTTP and the framework.
    response.headers["Server-Timing"] = timings.header()
    return response


@api.get("/predict")
def predict_needs_post():
    return _error(f"Use POST for /api/predict: {HOW_TO_SEND}.", 405)


@api.route("/<path:unknown>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown_route(unknown: str):
    # Without this the app's page route would answer /api/anything with the HTML page.
    return _error("No such API route: use GET /api/health, GET /api/models, GET /api/model, POST /api/predict, "
                  "POST /api/feedback or /api/field/... (summary, export, records).", 404)


@api.errorhandler(Rejected)
def rejected(exc: Rejected):
    return _error(str(exc), exc.status)


@api.errorhandler(DigitInputError)
def bad_input(exc: DigitInputError):
    return _error(str(exc), 400)


@api.errorhandler(ModelLoadError)
def model_missing(exc: ModelLoadError):
    return _error(str(exc), 503)


@api.errorhandler(RequestEntityTooLarge)
def request_too_large(exc: RequestEntityTooLarge):
    settings = ModelService.of(current_app).settings
    if request.path.rstrip("/").endswith("/models"):
        return _error(f"The request is over the {settings.max_model_bytes / 1e6:.1f} MB model limit: "
                      "send a smaller model.", 413)
    limit = settings.max_upload_bytes
    return _error(f"The request is over the {limit / 1e6:.1f} MB image limit: send a smaller image.", 413)


@api.errorhandler(HTTPException)
def http_error(exc: HTTPException):
    return _error(f"{exc.name}: {exc.description}", exc.code or 500)


@api.errorhandler(Exception)
def unexpected(exc: Exception):
    log.exception("/api request failed")  # the trace goes to the log, never to the client
    return _error("The server failed to answer this request; it has been logged. Try again later.", 500)
