"""The field data's JSON routes, on the ``/api`` blueprint (and its error handlers):
``POST /api/feedback``, ``GET /api/field/summary``, ``GET /api/field/export``,
``DELETE /api/field/records/ID`` and ``DELETE /api/field/records``.

Everything they keep or read goes through ``dashapp.field``; nothing here writes SQL.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from typing import Any

import numpy as np
from flask import current_app, request, send_file

from dashapp.api import Rejected, _error, _uploaded_image, api
from dashapp.field import (
    AccessRefused,
    FieldInputError,
    FieldService,
    FieldUnavailable,
    Filters,
    UnknownRecord,
    bearer_token,
    parse_label,
)
from dashapp.field.records import parse_record_id, thumbnail_of_bytes
from dashapp.service import ExplainOptions, ModelService

log = logging.getLogger(__name__)
MAX_NAME = 200  # characters of a model name in a filter


def field_service() -> FieldService:
    return FieldService.of(current_app)


def record_api_prediction(result: dict[str, Any], data: bytes, options: ExplainOptions) -> None:
    """In ``all`` mode, keep a prediction of ``POST /api/predict`` and put its ``id`` in the object.

    A database that cannot take it costs the record, never the answer: the prediction goes out
    without an ``id`` and the log says why.
    """
    service = ModelService.of(current_app)
    name = service.model_name(options.model)
    try:
        result["id"] = field_service().keep(result, name, service.model_path(name), "api", thumbnail_of_bytes(data))
    except FieldUnavailable as exc:
        log.warning("prediction not recorded: %s", exc)


def _admin() -> FieldService:
    field = field_service()
    field.check_admin(bearer_token(request.headers.get("Authorization")))
    return field


def _day(name: str) -> dt.date | None:
    text = (request.values.get(name) or "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise Rejected(f"{name} must be a day written YYYY-MM-DD, not {text[:40]!r}.") from None


def _filters() -> Filters:
    model = (request.values.get("model") or "").strip() or None
    if model and len(model) > MAX_NAME:
        raise Rejected(f"model must be a model's name (at most {MAX_NAME} characters).")
    return Filters(model, _day("since"), _day("until"))


def _feedback_fields() -> dict[str, Any]:
    if request.is_json:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise Rejected("The JSON body must be an object such as {\"id\": 12, \"label\": \"7\"}.")
        return body
    return request.values.to_dict()


@api.post("/feedback")
def feedback():
    """The right answer for a recorded prediction (``id``) or for an image sent with it; ``201 {"id": ...}``."""
    field = field_service()
    if field.mode == "off":
        raise Rejected("Field data is off on this server (DIGIT_INSPECTOR_FIELD=off): no feedback is kept.", 403)
    fields = _feedback_fields()
    label = parse_label(fields.get("label"))
    if fields.get("id") not in (None, ""):
        record_id = parse_record_id(fields["id"])
        field.store.set_label(record_id, label)
        return {"id": record_id}, 201
    if request.mimetype != "multipart/form-data" or "image" not in request.files:
        raise Rejected("Send either id (of a recorded prediction) or the image as a multipart file field named "
                       "'image', with label (a digit from 0 to 9 or \"not a digit\").")
    service = ModelService.of(current_app)
    data = _uploaded_image(service.settings.max_upload_bytes)
    options = service.options(request.values.get("layer"), request.values.get("method"), None,
                              request.values.get("model"))
    result = service.predict_image(data, options)
    name = service.model_name(options.model)
    record_id = field.keep(result, name, service.model_path(name), "api", thumbnail_of_bytes(data), label=label)
    return {"id": record_id}, 201


@api.get("/field/summary")
def field_summary():
    return _admin().store.summary(_filters())


@api.get("/field/export")
def field_export():
    """The labelled records as an npz: ``x`` (N, 28, 28) uint8, ``y`` (10: not a digit), ``ids``."""
    field = _admin()
    kind = (request.values.get("format") or "npz").strip().lower()
    if kind != "npz":
        raise Rejected(f"format must be npz (the only export format), not {kind[:20]!r}.")
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **field.store.export(_filters()))
    buffer.seek(0)
    return send_file(buffer, mimetype="application/octet-stream", as_attachment=True,
                     download_name="field-export.npz")


@api.delete("/field/records/<path:record>")
def delete_record(record: str):
    field = _admin()
    record_id = parse_record_id(record)
    field.store.delete(record_id)
    return {"deleted": record_id}


@api.delete("/field/records")
def delete_records():
    return {"deleted": _admin().store.delete_all(_filters())}


@api.errorhandler(UnknownRecord)
def unknown_record(exc: UnknownRecord):
    return _error(str(exc), 404)


@api.errorhandler(FieldInputError)
def bad_field(exc: FieldInputError):
    return _error(str(exc), 400)


@api.errorhandler(FieldUnavailable)
def database_down(exc: FieldUnavailable):
    return _error(str(exc), 503)


@api.errorhandler(AccessRefused)
def access_refused(exc: AccessRefused):
    response, status = _error(str(exc), exc.status)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="field data"'
    return response, status
