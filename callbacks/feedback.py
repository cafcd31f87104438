"""Predict page: "Right" / "Wrong, it is ..." below the answer, kept as a field record (``dashapp.field``),
and ``/?field=ID``, which opens a field record on the page."""

from __future__ import annotations

import base64
import hashlib
import io
import json
from typing import Any

import numpy as np
from dash import Input, Output, State, callback, ctx, no_update
from dash.exceptions import PreventUpdate
from flask import current_app
from PIL import Image

from callbacks import model_service
from dashapp.field import (
    FIELD_EXTENSION,
    LABELS,
    AccessRefused,
    FieldInputError,
    FieldService,
    FieldUnavailable,
    parse_label,
)
from dashapp.field.records import answer_of, parse_record_id, thumbnail_png
from layouts import ids
from models.inference import ModelLoadError
from models.preprocess import CANVAS_WIDTH, DEFAULT_PEN_WIDTH, DigitInputError, rasterize_strokes


def field_service() -> FieldService:
    """The field data of the app serving the current request."""
    return current_app.extensions[FIELD_EXTENSION]


def reading_digest(digit: Any, options: dict[str, Any] | None) -> str:
    """Which reading is on show: the digit and the model (not the layer or method, which change no answer)."""
    model = (options or {}).get("model") or ""
    return hashlib.sha1(json.dumps([digit, model]).encode()).hexdigest()


def _source_kind(strokes: list[str] | None, source: dict[str, Any] | None) -> str:
    if source:
        return "upload" if source.get("kind") == "upload" else "example"
    return "canvas"


def _thumbnail(digit: Any, strokes: list[str] | None, source: dict[str, Any] | None, pen_width: float | None) -> bytes:
    """The input as sent, small: the uploaded picture, the drawing, or the test digit."""
    if source and source.get("kind") == "upload":
        _, _, data = source["preview"].partition(",")
        with Image.open(io.BytesIO(base64.b64decode(data))) as picture:
            return thumbnail_png(picture)
    if not source and strokes:
        return thumbnail_png(rasterize_strokes(strokes, pen_width=pen_width or DEFAULT_PEN_WIDTH,
                                              canvas_width=CANVAS_WIDTH) / 255.0)
    return thumbnail_png(np.asarray(digit, np.float32))


def _read_again(digit: Any, options: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The prediction object of the reading on show (same digit, same options) and its model's name."""
    service = model_service()
    chosen = service.options(**options)
    return service.explain(np.asarray(digit, np.float32), chosen), service.model_name(chosen.model)


def _keep(digit, options, strokes, source, pen_width, label: int | None) -> int:
    prediction, model = _read_again(digit, options)
    if label == -1:  # "Right": the model's own answer
        label = answer_of(prediction)
    return field_service().keep(prediction, model, model_service().model_path(model), _source_kind(strokes, source),
                                _thumbnail(digit, strokes, source, pen_width),
                                strokes if not source else None, label)


@callback(
    Output(ids.FEEDBACK_LABEL, "value"), Output(ids.FEEDBACK_STATUS, "children"), Output(ids.FIELD_RECORD, "data"),
    Output(ids.FEEDBACK_RIGHT, "disabled"), Output(ids.FEEDBACK_LABEL, "disabled"),
    Output(ids.FEEDBACK_KEPT, "children"),
    Input(ids.PREDICTION, "data"), State(ids.CURRENT_DIGIT, "data"), State(ids.STROKES, "data"),
    State(ids.DIGIT_SOURCE, "data"), State(ids.PEN_WIDTH, "value"), State(ids.FIELD_RECORD, "data"),
)
def new_reading(options, digit, strokes, source, pen_width, record):
    """A new answer on show: the buttons start afresh (in ``all`` mode the reading is recorded now)."""
    field = field_service()
    if not options or digit is None or field.mode == "off":
        return "", "", None, True, True, field.kept_sentence
    digest = reading_digest(digit, options)
    if record and record.get("digest") == digest:
        return no_update, no_update, no_update, False, False, field.kept_sentence  # same digit, other map
    if source and source.get("kind") == "field":
        return "", "", {"id": source["record"], "digest": digest}, False, False, field.kept_sentence
    record = {"digest": digest}
    if field.mode == "all":
        try:
            record["id"] = _keep(digit, options, strokes, source, pen_width, None)
        except (FieldUnavailable, DigitInputError, ModelLoadError):
            pass  # not recorded now; a button press tries again and says why if it fails
    return "", "", record, False, False, field.kept_sentence


@callback(
    Output(ids.FEEDBACK_STATUS, "children", allow_duplicate=True),
    Output(ids.FIELD_RECORD, "data", allow_duplicate=True),
    Input(ids.FEEDBACK_RIGHT, "n_clicks"), Input(ids.FEEDBACK_LABEL, "value"),
    State(ids.CURRENT_DIGIT, "data"), State(ids.PREDICTION, "data"), State(ids.STROKES, "data"),
    State(ids.DIGIT_SOURCE, "data"), State(ids.PEN_WIDTH, "value"), State(ids.FIELD_RECORD, "data"),
    prevent_initial_call=True,
)
def send_feedback(_right, wrong, digit, options, strokes, source, pen_width, record):
    """Keep the person's answer: on the reading's record when it has one, else on a new record."""
    if ctx.triggered_id == ids.FEEDBACK_LABEL and not wrong:
        raise PreventUpdate  # the menu was reset for a new reading
    if digit is None or not options:
        return "Draw or pick a digit first.", no_update
    try:
        label = -1 if ctx.triggered_id == ids.FEEDBACK_RIGHT else parse_label(wrong)
        record = dict(record or {"digest": reading_digest(digit, options)})
        if record.get("id") is not None:
            if label == -1:
                label = answer_of(_read_again(digit, options)[0])
            field_service().store.set_label(int(record["id"]), label)
        else:
            record["id"] = _keep(digit, options, strokes, source, pen_width, label)
            label = field_service().store.get(record["id"])["label"]
    except (FieldUnavailable, FieldInputError, DigitInputError, ModelLoadError) as exc:
        return str(exc), no_update
    return f"Thank you: kept as “{LABELS[label]}” (record {record['id']}).", record


@callback(
    Output(ids.DIGIT_SOURCE, "data", allow_duplicate=True), Output(ids.STROKES, "data", allow_duplicate=True),
    Input(ids.EXAMPLE_DIGITS, "children"), State(ids.REQUESTED_FIELD, "data"), State(ids.FIELD_TOKEN, "data"),
    prevent_initial_call=True,
)
def open_field_record(_examples, requested, token):
    """``/?field=ID``: the record's digit, read as a drawing would be. Runs after the page opened (its
    trigger is written by ``open_page``), so the page's own start never replaces it."""
    if requested is None:
        raise PreventUpdate
    field = field_service()
    try:
        field.check_admin(token)
        record = field.store.get(parse_record_id(requested))
    except (AccessRefused, FieldInputError, FieldUnavailable) as exc:
        message = str(exc)
        if isinstance(exc, AccessRefused):
            message += " Enter the token on the Field page first."
        return {"kind": "error", "message": message}, []
    said = "not labelled" if record["label"] is None else f"labelled “{LABELS[record['label']]}”"
    thumbnail = "data:image/png;base64," + base64.b64encode(record["thumbnail"]).decode("ascii")
    return {"kind": "field", "record": record["id"], "preview": thumbnail,
            "name": f"Field record #{record['id']} ({record['source']}, {said}, read as {LABELS[record['answer']]} "
                    f"by {record['model']})",
            "input": np.round(record["input"], 4).tolist()}, []


