"""Predict page: canvas strokes or an upload -> the model service -> top 3, heatmap, model input."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from dash import Input, Output, Patch, State, callback, ctx, no_update
from dash.exceptions import PreventUpdate

from callbacks import model_service
from callbacks.figures import canvas_figure, gradcam_figure, message_figure, model_input_figure, top3_figure
from layouts import ids
from layouts.predict import METHOD_LABELS
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
    Output(ids.LAYER_DROPDOWN, "options"), Output(ids.LAYER_DROPDOWN, "value"),
    Input(ids.SELECTED_LAYER, "data"), State(ids.LAYER_DROPDOWN, "value"),
)
def show_layer_choice(selected, shown):
    """The dropdown shows the session's selected layer (set here or on the layers page)."""
    service = model_service()
    try:
        layers = service.model.conv_layers()
    except ModelLoadError:
        raise PreventUpdate from None  # the predict callback shows why
    layer = service.layer(selected)
    return [{"label": layer_label(row), "value": row["name"]} for row in layers], no_update if layer == shown else layer


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
    Input(ids.METHOD_DROPDOWN, "value"), Input(ids.TOP3_CHART, "clickData"), State(ids.OPACITY_SLIDER, "value"),
    prevent_initial_call=True,  # it writes current-digit (on every page); update_strokes starts it on page open
)
def predict(strokes, upload, layer, method, bar_click, opacity):
    if not strokes and not upload:
        return _nothing_to_show(DRAW_A_DIGIT, "info")
    service = model_service()
    clicked = bar_click["points"][0]["customdata"] if ctx.triggered_id == ids.TOP3_CHART and bar_click else None
    try:
        options = service.options(layer, method, clicked)
        if upload:
            result = service.predict_image(uploaded_bytes(upload), options)
        else:
            result = service.predict_strokes(strokes, options)
    except (DigitInputError, ModelLoadError) as exc:
        return _nothing_to_show(str(exc), "danger")
    explanation = result["explanation"]
    title = f"{METHOD_LABELS[explanation['method']]} for {explanation['class']}"
    title += f" at {explanation['layer']}" if explanation["layer"] else ""
    return (top3_figure(result["top"], explanation["class"]),
            gradcam_figure(result["input"], explanation["heatmap"], opacity, title),
            model_input_figure(result["input"]),
            *status_message(result), faithfulness_text(explanation), result["input"])


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
