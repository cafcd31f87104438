"""Predict page: canvas strokes or an upload -> the model service -> top 3, heatmap, model input."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

import numpy as np
from dash import Input, Output, Patch, State, callback, ctx, no_update
from dash.exceptions import PreventUpdate

from callbacks import model_service
from callbacks.figures import canvas_figure, gradcam_figure, message_figure, model_input_figure, top3_figure
from callbacks.models import session_model
from layouts import ids
from layouts.predict import METHOD_LABELS
from layouts.shell import NO_COMPARISON
from models.inference import ModelLoadError
from models.preprocess import DigitInputError

EDITED_PATH = re.compile(r"^shapes\[(\d+)\]\.path$")
DRAW_A_DIGIT = "Draw a digit on the canvas, or upload an image of one."


def strokes_after_relayout(strokes: list[str], relayout: dict[str, Any] | None) -> list[str] | None:
    """The strokes after a canvas relayout event, or None if the event did not change them.

    Plotly reports a finished stroke as the whole ``shapes`` list, and an edited stroke as
    ``shapes[N].path``; every other key (autosize, dragmode...) is not about the drawing.
    """
    if not relayout:
        return None
    if "shapes" in relayout:
        return [shape["path"] for shape in relayout["shapes"] if shape.get("type") == "path" and shape.get("path")]
    edited = list(strokes)
    for key, path in relayout.items():
        match = EDITED_PATH.match(key)
        if match and int(match.group(1)) < len(edited):
            edited[int(match.group(1))] = path
    return edited if edited != strokes else None


def uploaded_bytes(contents: str) -> bytes:
    """dcc.Upload's ``data:<type>;base64,<data>`` URL -> the file's bytes."""
    _, _, data = contents.partition(",")
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise DigitInputError("The upload arrived damaged: choose the image file again.") from None


def layer_label(layer: dict[str, Any]) -> str:
    h, w, k = layer["output_shape"]
    field = layer["receptive_field"]
    return f"{layer['name']} · {h}×{w}×{k} · {field} px"


def status_message(result: dict[str, Any]) -> tuple[str, str]:
    """The status line and its colour for a prediction object."""
    best = result["top"][0]
    explanation = result["explanation"]
    where = f" at layer {explanation['layer']}" if explanation["layer"] else ""  # None: a pixel-level method
    text = (f"Read as {best['digit']} ({best['probability']:.0%} sure). {METHOD_LABELS[explanation['method']]} "
            f"for digit {explanation['class']}{where}.")
    if explanation["empty"]:
        return f"{text} {explanation['note']}", "warning"
    return text, "success"


def faithfulness_text(explanation: dict[str, Any]) -> str:
    scores = explanation.get("faithfulness")
    if not scores:
        return ""
    return (f"Faithfulness: deletion AUC {scores['deletion_auc']:.2f} (lower is better: removing the hottest "
            f"pixels first should make the digit's probability collapse), insertion AUC "
            f"{scores['insertion_auc']:.2f} (higher is better: revealing them first should bring it back).")


@callback(
    Output(ids.STROKES, "data"), Output(ids.CANVAS, "figure"), Output(ids.UPLOAD, "contents"),
    Input(ids.CANVAS, "relayoutData"), Input(ids.CLEAR_BUTTON, "n_clicks"), Input(ids.UNDO_BUTTON, "n_clicks"),
    Input(ids.UPLOAD, "contents"), State(ids.STROKES, "data"),
)
def update_strokes(relayout, _clear, _undo, upload, strokes):
    strokes = strokes or []
    if ctx.triggered_id == ids.CANVAS:
        drawn = strokes_after_relayout(strokes, relayout)
        if drawn is None:
            raise PreventUpdate
        return drawn, no_update, None  # a drawing replaces an uploaded image
    if ctx.triggered_id == ids.CLEAR_BUTTON:
        return [], canvas_figure(), None
    if ctx.triggered_id == ids.UNDO_BUTTON:
        return strokes[:-1], canvas_figure(strokes[:-1]), no_update
    if ctx.triggered_id == ids.UPLOAD:
        return [], canvas_figure(), no_update
    # Page opened: redraw this session's strokes, and hand them on so that the prediction is redone.
    return strokes, canvas_figure(strokes), no_update


@callback(
    Output(ids.LAYER_DROPDOWN, "options"), Output(ids.LAYER_DROPDOWN, "value"), Output(ids.PREDICT_MODEL, "data"),
    Input(ids.SELECTED_LAYER, "data"), Input(ids.SELECTED_MODEL, "data"), State(ids.LAYER_DROPDOWN, "value"),
    State(ids.PREDICT_MODEL, "data"),
)
def show_layer_choice(selected, model, shown, predicting):
    """The dropdown shows the session model's conv layers and the selected one (set here or on the layers
    page); a layer of another model gives way to this model's default.

    The model goes on to ``predict`` through this page's own store: ``predict`` writes current-digit,
    which every page has, so a store of the shell among its inputs would make Dash run it on any page.
    """
    service = model_service()
    try:
        model = session_model(model)
        layers = service.load(model).conv_layers()
    except ModelLoadError:
        raise PreventUpdate from None  # the predict callback shows why
    layer = service.layer(selected, model)
    return ([{"label": layer_label(row), "value": row["name"]} for row in layers],
            no_update if layer == shown else layer, no_update if model == predicting else model)


# The selected-layer store is on every page. Callbacks that write it must not run when a page
# opens (prevent_initial_call): Dash would run them on any page, before their inputs exist.
@callback(
    Output(ids.SELECTED_LAYER, "data", allow_duplicate=True),
    Input(ids.LAYER_DROPDOWN, "value"), State(ids.SELECTED_LAYER, "data"),
    prevent_initial_call=True,
)
def remember_layer(chosen, selected):
    if chosen is None or chosen == selected:
        raise PreventUpdate
    return chosen


@callback(
    Output(ids.TOP3_CHART, "figure"), Output(ids.GRADCAM_FIGURE, "figure"), Output(ids.MODEL_INPUT, "figure"),
    Output(ids.STATUS, "children"), Output(ids.STATUS, "color"), Output(ids.FAITHFULNESS, "children"),
    Output(ids.CURRENT_DIGIT, "data"),
    Input(ids.STROKES, "data"), Input(ids.UPLOAD, "contents"), Input(ids.LAYER_DROPDOWN, "value"),
    Input(ids.METHOD_DROPDOWN, "value"), Input(ids.TOP3_CHART, "clickData"), Input(ids.PREDICT_MODEL, "data"),
    State(ids.OPACITY_SLIDER, "value"),
    prevent_initial_call=True,  # it writes current-digit (on every page); update_strokes starts it on page open
)
def predict(strokes, upload, layer, method, bar_click, model, opacity):
    if not strokes and not upload:
        return _nothing_to_show(DRAW_A_DIGIT, "info")
    service = model_service()
    clicked = bar_click["points"][0]["customdata"] if ctx.triggered_id == ids.TOP3_CHART and bar_click else None
    try:
        model = session_model(model)
        # The layer menu may still show the previous model's layer: this one's default then.
        options = service.options(service.layer(layer, model), method, clicked, model=model)
        if upload:
            result = service.predict_image(uploaded_bytes(upload), options)
        else:
            result = service.predict_strokes(strokes, options)
    except (DigitInputError, ModelLoadError) as exc:
        return _nothing_to_show(str(exc), "danger")
    explanation = result["explanation"]
    title = map_title(explanation)
    return (top3_figure(result["top"], explanation["class"]),
            gradcam_figure(result["input"], explanation["heatmap"], opacity, title),
            model_input_figure(result["input"]),
            *status_message(result), faithfulness_text(explanation), result["input"])


def map_title(explanation: dict[str, Any], model: str | None = None) -> str:
    """"Grad-CAM for 7 at conv4", after the model's name when one is given."""
    title = f"{METHOD_LABELS[explanation['method']]} for {explanation['class']}"
    title += f" at {explanation['layer']}" if explanation["layer"] else ""
    return f"{model}: {title}" if model else title


def compared_reading(result: dict[str, Any], model: str) -> tuple[str, str]:
    """The compared model's reading as a heading and, for screen readers, in words."""
    best, explanation = result["top"][0], result["explanation"]
    heading = f"{model} reads it as {best['digit']} ({best['probability']:.0%} sure)"
    others = ", ".join(f"{t['digit']} ({t['probability']:.0%})" for t in result["top"][1:])
    return heading, f"{heading}; then {others}. Its map: {map_title(explanation)}."


@callback(
    Output(ids.COMPARE_PANEL, "hidden"), Output(ids.COMPARE_HEADING, "children"), Output(ids.COMPARE_TOP3, "figure"),
    Output(ids.COMPARE_MAP, "figure"), Output(ids.COMPARE_SUMMARY, "children"),
    Input(ids.CURRENT_DIGIT, "data"), Input(ids.COMPARE_MODEL, "data"), Input(ids.METHOD_DROPDOWN, "value"),
    Input(ids.SELECTED_LAYER, "data"), State(ids.OPACITY_SLIDER, "value"),
)
def show_compared(digit, compared, method, layer, opacity):
    """The digit the session's model just read, read by the compared model too (its own top-1 explained)."""
    if compared in (None, NO_COMPARISON):
        return True, no_update, no_update, no_update, no_update
    if digit is None:
        return (False, f"{compared} reads the digit too, once there is one.", message_figure("No digit yet", 260),
                message_figure("No heatmap yet", 340), "")
    service = model_service()
    try:
        options = service.options(service.layer(layer, compared), method, None, model=compared)
        result = service.explain(np.asarray(digit, np.float32), options)
    except (DigitInputError, ModelLoadError) as exc:
        return (False, f"{compared} cannot read it: {exc}", message_figure("No answer", 260),
                message_figure("No heatmap", 340), str(exc))
    heading, summary = compared_reading(result, compared)
    explanation = result["explanation"]
    return (False, heading, top3_figure(result["top"], explanation["class"]),
            gradcam_figure(result["input"], explanation["heatmap"], opacity, map_title(explanation, compared)),
            summary)


def _nothing_to_show(message: str, color: str) -> tuple:
    return (message_figure("No digit yet", 260), message_figure("No heatmap yet", 340),
            message_figure("No input yet", 300), message, color, "", None)


@callback(
    Output(ids.GRADCAM_FIGURE, "figure", allow_duplicate=True),
    Input(ids.OPACITY_SLIDER, "value"), State(ids.CURRENT_DIGIT, "data"),
    prevent_initial_call=True,
)
def set_opacity(opacity, digit):
    if digit is None:
        raise PreventUpdate  # no heatmap on show
    figure = Patch()
    figure["data"][1]["opacity"] = opacity
    return figure
