"""Predict page: strokes (drawn by assets/canvas.js), an upload or a test digit -> the model service -> figures.

A stroke costs one request: the canvas script writes the ``strokes`` store in the browser, and
``predict`` reads it, rasterises it and answers every figure at once.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import asdict
from functools import lru_cache
from typing import Any

import cv2
import numpy as np
from dash import ALL, Input, Output, State, callback, clientside_callback, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate
from PIL import Image

from callbacks import model_service
from callbacks.explanation_figures import method_options
from callbacks.figures import (
    canvas_figure,
    compact_grid,
    digit_png,
    gradcam_figure,
    heatmap_overlay_picture,
    heatmap_summary,
    input_picture,
    message_figure,
    pixel_map,
    png_bytes,
    top3_figure,
    top3_summary,
)
from callbacks.models import session_model
from layouts import ids
from layouts.predict import METHOD_HELP
from layouts.shell import NO_COMPARISON
from models.inference import ModelLoadError
from models.methods import METHOD_LABELS, METHOD_NAMES
from models.mnist import MnistError, load_mnist
from models.novelty import DETECTOR_LABELS
from models.preprocess import (
    CANVAS_WIDTH,
    DEFAULT_PEN_WIDTH,
    DigitInputError,
    drawing_inks,
    image_ink,
    load_image,
)
from models.scoreboard import default_reason

DRAW_A_DIGIT = "Draw a digit on the canvas, or upload an image of one."
PREVIEW_SIZE = 280  # an uploaded image is shown at most this big, where the canvas would be


@lru_cache(maxsize=1)
def mnist_test_set() -> tuple[np.ndarray, np.ndarray]:
    """MNIST's test digits and labels, read once per process."""
    _, _, x_test, y_test = load_mnist()
    return x_test, y_test


def example_indices(labels: np.ndarray) -> list[int]:
    """The first test digit of each class, 0 to 9."""
    return [int(np.flatnonzero(labels == digit)[0]) for digit in range(10)]


def source_of_test_digit(requested: object) -> dict[str, Any]:
    """The ``digit-source`` of ``/?test=N``: MNIST test digit N as the model reads it."""
    x_test, y_test = mnist_test_set()
    try:
        index = int(str(requested).strip())
    except ValueError:
        index = -1
    if not 0 <= index < len(x_test):
        raise DigitInputError(f"There is no MNIST test digit {requested!s}: /?test=N takes N from 0 to "
                              f"{len(x_test) - 1}.")
    image = x_test[index].astype(np.float32) / 255.0  # MNIST digits are already what the model reads
    return {"kind": "test", "name": f"MNIST test digit #{index}, labelled {int(y_test[index])}",
            "preview": digit_png(image, scale=1), "input": image.round(4).tolist()}


def uploaded_bytes(contents: str) -> bytes:
    """dcc.Upload's ``data:<type>;base64,<data>`` URL -> the file's bytes."""
    _, _, data = contents.partition(",")
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise DigitInputError("The upload arrived damaged: choose the image file again.") from None


OWN_SHARE = 0.25  # a piece of ink with less than this share of itself in a digit's box is another digit's


def digit_crops(ink: np.ndarray, boxes: list[tuple[int, int, int, int]]) -> list[np.ndarray]:
    """Each box's ink as written, without the strokes of other digits that reach into it (the end of a
    neighbour's bar over a 1): a connected piece of ink mostly outside the box is left out of it. Ink
    that two touching digits share lies in both boxes and stays in both."""
    ink = np.asarray(ink, np.float32)
    labels = cv2.connectedComponents((ink > 0.1).astype(np.uint8), connectivity=8)[1]
    sizes = np.bincount(labels.ravel())
    crops = []
    for x0, y0, x1, y1 in boxes:
        region = labels[y0:y1, x0:x1]
        foreign = np.bincount(region.ravel(), minlength=len(sizes)) < OWN_SHARE * sizes
        foreign[0] = False  # the paper
        crops.append(np.where(foreign[region], 0.0, ink[y0:y1, x0:x1]).astype(np.float32))
    return crops


def number_digits(ink: np.ndarray, found: list[tuple[tuple[int, int, int, int], np.ndarray]]) -> list[dict[str, Any]]:
    """The digits found in ``ink`` as the page keeps them: box, the 28x28 input, and a thumbnail of the crop."""
    digits = []
    crops = digit_crops(ink, [box for box, _ in found])
    for ((x0, y0, x1, y1), digit), crop in zip(found, crops, strict=True):
        side = max(crop.shape)
        square = np.zeros((side, side), np.float32)  # the crop in a square, as the card shows it
        top, left = (side - crop.shape[0]) // 2, (side - crop.shape[1]) // 2
        square[top:top + crop.shape[0], left:left + crop.shape[1]] = crop
        thumbnail = Image.fromarray(np.uint8((1.0 - np.clip(square, 0, 1)) * 255)).resize((56, 56), Image.LANCZOS)
        digits.append({"box": [x0, y0, x1, y1], "input": compact_grid(digit),
                       "crop": "data:image/png;base64," + base64.b64encode(png_bytes(thumbnail)).decode("ascii")})
    return digits


def upload_source(contents: str, filename: str | None, max_bytes: int, max_pixels: int) -> dict[str, Any]:
    """The ``digit-source`` of an uploaded image: its name, a small preview, and each digit it holds
    (box, crop thumbnail, the 28x28 the model reads; ``input`` is the first digit's).

    The session store keeps this instead of the file (a few kB, not megabytes), so the upload
    survives a trip to another page.
    """
    image = load_image(uploaded_bytes(contents), max_bytes, max_pixels)
    ink = image_ink(image)
    digits = number_digits(ink, model_service().find_digits(ink))
    preview = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    preview.thumbnail((PREVIEW_SIZE, PREVIEW_SIZE))
    return {"kind": "upload", "name": filename or "uploaded image",
            "preview": "data:image/png;base64," + base64.b64encode(png_bytes(preview)).decode("ascii"),
            "input": digits[0]["input"], "digits": digits}


def drawn_digits(strokes: list[str], pen_width: float, model: str | None = None) -> list[dict[str, Any]]:
    """The digits drawn on the canvas (``number_digits``, found by the model that reads them), boxes in canvas units."""
    ink, finer = drawing_inks(strokes, pen_width, CANVAS_WIDTH)
    return number_digits(ink, model_service().find_digits(ink, model, finer))


def digit_card(index: int, digit: dict[str, Any], top: dict[str, Any], selected: bool,
               looks_like_digit: bool = True) -> html.Button:
    """One card of ``digit-strip``: the digit's crop, what the model saw, its top 1 and confidence;
    muted, as the top 3 is, where the not-a-digit detector flags it."""
    return html.Button([
        html.Img(src=digit["crop"], alt=f"digit {index + 1} as written"),
        html.Img(src=digit_png(digit["input"], scale=2), alt=f"digit {index + 1} as the model saw it"),
        html.Span(f"{top['digit']} · {top['probability']:.0%}"),
        html.Span("not a digit", className="digit-card-flag") if not looks_like_digit else None,
    ], id={"type": ids.DIGIT_CARD, "index": index},
        className="digit-card" + (" selected" if selected else "") + ("" if looks_like_digit else " not-a-digit"),
        title=f"Explain digit {index + 1}", **{"aria-pressed": "true" if selected else "false"})


class _FileOfSize:
    """A file the browser refused to send, known by its size only: ``load_image`` checks the size
    before anything else, so it words the refusal exactly as the API does."""

    def __init__(self, size: int) -> None:
        self.size = size

    def __len__(self) -> int:
        return self.size


def refusal_message(size: int, max_bytes: int) -> str:
    """The API's sentence for a file of ``size`` bytes over the limit."""
    try:
        load_image(_FileOfSize(size), max_bytes)  # type: ignore[arg-type]
    except DigitInputError as exc:
        return str(exc)
    return "The file could not be sent: choose it again."


def layer_label(layer: dict[str, Any]) -> str:
    h, w, k = layer["output_shape"]
    field = layer["receptive_field"]
    return f"{layer['name']} · {h}×{w}×{k} · {field} px"


def is_digit(result: dict[str, Any]) -> bool:
    """Whether the model's novelty detector takes the input for a digit (an answer without one: yes)."""
    return (result.get("novelty") or {}).get("is_digit", True)


def novelty_text(result: dict[str, Any]) -> str:
    """The novelty score against the model's threshold, in words (``novelty-summary``)."""
    novelty = result.get("novelty")
    if not novelty:
        return ""
    verdict = "looks like a digit" if novelty["is_digit"] else "does not look like a digit"
    return (f"Not-a-digit score {novelty['score']:.3g} against the model's threshold {novelty['threshold']:.3g} "
            f"({DETECTOR_LABELS.get(novelty['detector'], novelty['detector'])}, set so that 99 % of MNIST test "
            f"digits stay under it): it {verdict}.")


def status_message(result: dict[str, Any], default_note: str = "") -> tuple[str, str]:
    """The status line and its colour for a prediction object; says when the input does not look like a
    digit, and when the map is not the one asked for. ``default_note`` (why the map shown is the default
    one) ends a plain reading."""
    best = result["top"][0]
    explanation = result["explanation"]
    method, digit = METHOD_LABELS[explanation["method"]], explanation["class"]
    if not is_digit(result):
        where = f" at layer {explanation['layer']}" if explanation["layer"] else ""
        return (f"This does not look like a digit; the closest is {best['digit']} ({best['probability']:.0%}). "
                f"The map shows what {method}{where} sees of {'an' if digit == 8 else 'a'} {digit} in it."), "warning"
    read = f"Read as {best['digit']} ({best['probability']:.0%} sure)."
    asked = explanation.get("instead_of")
    if asked:
        asked_method = METHOD_LABELS[asked["method"]]
        at = f" at layer {asked['layer']}" if asked["layer"] else ""  # None: a pixel-level method
        return (f"{read} {asked_method} found no evidence for digit {digit}{at}, so the map "
                f"shown is {method} at layer {explanation['layer']}."), "warning"
    if explanation["empty"]:
        return (f"{read} {method} found no evidence for digit {digit} at any layer, and neither did Layer-CAM: "
                "the map is empty."), "warning"
    where = f" at layer {explanation['layer']}" if explanation["layer"] else ""  # None: a pixel-level method
    return f"{read} {method} for digit {digit}{where}. {default_note}".strip(), "success"


def faithfulness_text(explanation: dict[str, Any]) -> str:
    scores = explanation.get("faithfulness")
    if not scores or explanation.get("empty"):
        return ""
    return (f"Faithfulness: deletion AUC {scores['deletion_auc']:.2f} (lower is better: removing the hottest "
            f"pixels first should make the digit's probability collapse), insertion AUC "
            f"{scores['insertion_auc']:.2f} (higher is better: revealing them first should bring it back).")


def _status_class(colour: str) -> str:
    return f"status alert alert-{colour} py-2"


@callback(
    Output(ids.CANVAS, "figure"), Output(ids.STROKES, "data"), Output(ids.DIGIT_SOURCE, "data"),
    Output(ids.EXAMPLE_DIGITS, "children"), Output(ids.UPLOAD, "max_size"), Output(ids.UPLOAD_LIMIT, "data-max-bytes"),
    Input(ids.REQUESTED_TEST, "data"), State(ids.STROKES, "data"), State(ids.DIGIT_SOURCE, "data"),
    State(ids.PEN_WIDTH, "value"),
)
def open_page(requested, strokes, source, pen_width):
    """Page opened: redraw the session's strokes (or open ``/?test=N``) and hand them on to ``predict``."""
    max_bytes = model_service().settings.max_upload_bytes
    try:
        x_test, y_test = mnist_test_set()
        examples = [dcc.Link(html.Img(src=digit_png(x_test[i] / 255.0, scale=1), alt=f"example {y_test[i]}"),
                             href=f"/?test={i}", className="example-digit", title=f"Read test digit #{i}")
                    for i in example_indices(y_test)]
    except MnistError:
        examples = []  # no MNIST here: drawing and uploads still work
    strokes = strokes or []
    if requested is not None:
        try:
            source = source_of_test_digit(requested)
        except (DigitInputError, MnistError) as exc:
            source = {"kind": "error", "message": str(exc)}
        strokes = []
    return canvas_figure(strokes, pen_width or DEFAULT_PEN_WIDTH), strokes, source, examples, max_bytes, max_bytes


@callback(
    Output(ids.CANVAS, "figure", allow_duplicate=True), Output(ids.STROKES, "data", allow_duplicate=True),
    Output(ids.DIGIT_SOURCE, "data", allow_duplicate=True),
    Input(ids.CLEAR_BUTTON, "n_clicks"), Input(ids.UNDO_BUTTON, "n_clicks"), Input(ids.REMOVE_BUTTON, "n_clicks"),
    Input(ids.PEN_WIDTH, "value"), State(ids.STROKES, "data"),
    prevent_initial_call=True,
)
def edit_drawing(_clear, _undo, _remove, pen_width, strokes):
    strokes = strokes or []
    if ctx.triggered_id == ids.CLEAR_BUTTON:
        return canvas_figure([], pen_width), [], None
    if ctx.triggered_id == ids.UNDO_BUTTON:
        return canvas_figure(strokes[:-1], pen_width), strokes[:-1], no_update
    if ctx.triggered_id == ids.REMOVE_BUTTON:
        return no_update, no_update, None
    return canvas_figure(strokes, pen_width), no_update, no_update  # the pen the model gets, on show


@callback(
    Output(ids.DIGIT_SOURCE, "data", allow_duplicate=True), Output(ids.STROKES, "data", allow_duplicate=True),
    Output(ids.CANVAS, "figure", allow_duplicate=True), Output(ids.UPLOAD, "contents"),
    Input(ids.UPLOAD, "contents"), Input(ids.UPLOAD_REFUSED, "data"), State(ids.UPLOAD, "filename"),
    State(ids.PEN_WIDTH, "value"),
    prevent_initial_call=True,
)
def read_upload(contents, refused, filename, pen_width):
    """An upload replaces the drawing; one over the limit was refused in the browser (assets/upload.js)."""
    settings = model_service().settings
    if ctx.triggered_id == ids.UPLOAD_REFUSED:
        source = {"kind": "error", "message": refusal_message(int(refused["size"]), settings.max_upload_bytes)}
    elif contents:
        try:
            source = upload_source(contents, filename, settings.max_upload_bytes, settings.max_image_pixels)
        except DigitInputError as exc:
            source = {"kind": "error", "message": str(exc)}
    else:
        raise PreventUpdate
    return source, [], canvas_figure([], pen_width), None  # None: the same file chosen again is read again


@callback(
    Output(ids.CANVAS_PANEL, "hidden"), Output(ids.SOURCE_PANEL, "hidden"), Output(ids.SOURCE_IMAGE, "src"),
    Output(ids.SOURCE_IMAGE, "alt"), Output(ids.SOURCE_NAME, "children"),
    Input(ids.DIGIT_SOURCE, "data"),
)
def show_source(source):
    """An uploaded image or a test digit is shown where the drawing would be, with a way back to drawing."""
    if not source or source.get("kind") == "error":
        return False, True, None, "", ""
    return True, False, source["preview"], source["name"], source["name"]


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
    options = [{"label": layer_label(row), "value": row["name"],
                "title": f"{row['name']}: each cell sees {row['receptive_field']} × {row['receptive_field']} px "
                         "of the input"} for row in layers]
    return options, no_update if layer == shown else layer, no_update if model == predicting else model


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
    Output(ids.METHOD_DROPDOWN, "options"), Output(ids.METHOD_DROPDOWN, "value"),
    Input(ids.SELECTED_METHOD, "data"), Input(ids.LAYER_DROPDOWN, "value"), Input(ids.PREDICT_MODEL, "data"),
    State(ids.METHOD_DROPDOWN, "value"),
)
def show_method_choice(selected, layer, model, shown):
    """The session's chosen method, else the model's recommended one; each labelled with its score at the layer."""
    service = model_service()
    try:
        model = session_model(model)
        recommended, section = service.recommended(model)[0], service.explanations(model)
    except ModelLoadError:
        raise PreventUpdate from None  # the predict callback shows why
    method = selected if selected in METHOD_NAMES else recommended
    options = [{**option, "title": METHOD_HELP[option["value"]]} for option in method_options(section, layer)]
    return options, no_update if method == shown else method


@callback(
    Output(ids.SELECTED_METHOD, "data", allow_duplicate=True),
    Input(ids.METHOD_DROPDOWN, "value"), State(ids.SELECTED_METHOD, "data"), State(ids.PREDICT_MODEL, "data"),
    prevent_initial_call=True,
)
def remember_method(chosen, selected, model):
    """Only a choice of the user's is remembered: the recommendation shown by default is not a choice."""
    if chosen is None or chosen == selected or (
            selected is None and chosen == model_service().recommended(session_model(model))[0]):
        raise PreventUpdate
    return chosen


NEW_DIGIT = {ids.STROKES, ids.DIGIT_SOURCE, ids.PEN_WIDTH}  # inputs after which the top-1 digit is explained


@callback(
    Output(ids.TOP3_CHART, "figure"), Output(ids.GRADCAM_FIGURE, "children"), Output(ids.MODEL_INPUT, "children"),
    Output(ids.STATUS, "children"), Output(ids.STATUS, "className"), Output(ids.FAITHFULNESS, "children"),
    Output(ids.CURRENT_DIGIT, "data"), Output(ids.PREDICTION, "data"),
    Output(ids.EXPLAIN_CLASS, "options"), Output(ids.EXPLAIN_CLASS, "value"),
    Output(ids.TOP3_SUMMARY, "children"), Output(ids.GRADCAM_SUMMARY, "children"),
    Output(ids.MODEL_INPUT_SUMMARY, "children"), Output(ids.NOVELTY_SUMMARY, "children"),
    Output(ids.NUMBER_PANEL, "hidden"), Output(ids.NUMBER_READ, "children"), Output(ids.DIGIT_STRIP, "children"),
    Output(ids.SELECTED_DIGIT, "data"),
    Input(ids.STROKES, "data"), Input(ids.DIGIT_SOURCE, "data"), Input(ids.LAYER_DROPDOWN, "value"),
    Input(ids.METHOD_DROPDOWN, "value"), Input(ids.TOP3_CHART, "clickData"), Input(ids.EXPLAIN_CLASS, "value"),
    Input(ids.PEN_WIDTH, "value"), Input(ids.PREDICT_MODEL, "data"), Input(ids.SELECTED_DIGIT, "data"),
    prevent_initial_call=True,  # it writes current-digit (on every page); open_page starts it on page open
)
def predict(strokes, source, layer, method, bar_click, chosen, pen_width, model, selected):
    """The number read (for several digits: the strip, one card each), and the selected digit's top 3 and map."""
    if source and source.get("kind") == "error":
        return _nothing_to_show(source["message"], "danger")
    if not source and not strokes:
        return _nothing_to_show(DRAW_A_DIGIT, "info")
    service = model_service()
    triggers = set(ctx.triggered_prop_ids.values())
    if ids.TOP3_CHART in triggers and bar_click:
        chosen = bar_click["points"][0]["customdata"]
    elif triggers & (NEW_DIGIT | {ids.SELECTED_DIGIT}):
        chosen = None
    try:
        model = session_model(model)
        # The layer menu may still show the previous model's layer: this one's default then.
        options = service.options(service.layer(layer, model), method, chosen, model=model)
        if source:
            digits = source.get("digits") or [{"input": source["input"]}]
        else:
            digits = drawn_digits(strokes, pen_width or DEFAULT_PEN_WIDTH, model)
        selected = 0 if triggers & NEW_DIGIT or not isinstance(selected, int) else min(max(selected, 0),
                                                                                         len(digits) - 1)
        digit = compact_grid(digits[selected]["input"])
        # The model reads the very numbers current-digit keeps, so that the download can recompute
        # this answer from them instead of every stroke's answer carrying it twice.
        result = service.explain_nonempty(np.asarray(digit, dtype=np.float32), options)
        number_hidden, number, strip = True, "", []
        if len(digits) > 1:
            probabilities, looks = service.load(model).read(np.asarray([d["input"] for d in digits], np.float32))
            tops = [{"digit": int(p.argmax()), "probability": float(p.max())} for p in probabilities]
            number_hidden, number = False, "".join(str(t["digit"]) for t in tops)
            strip = [digit_card(i, d, t, i == selected, bool(flag))
                     for i, (d, t, flag) in enumerate(zip(digits, tops, looks, strict=True))]
    except (DigitInputError, ModelLoadError) as exc:
        return _nothing_to_show(str(exc), "danger")
    explanation = result["explanation"]
    title = map_title(explanation)
    shown = (explanation["method"], explanation["layer"])
    note = default_reason(service.explanations(model)) if shown == service.recommended(model) else ""
    text, colour = status_message(result, note)
    if not number_hidden:
        text = f"Read as {number}; digit {selected + 1} of {len(digits)} explained below. {text}"
    return (top3_figure(result["top"], explanation["class"], muted=not is_digit(result)),
            map_children(pixel_map(result["input"], explanation["heatmap"]), title),
            input_children(input_picture(result["input"])),
            text, _status_class(colour), faithfulness_text(explanation), digit, asdict(options),
            [{"label": str(t["digit"]), "value": t["digit"]} for t in result["top"]], explanation["class"],
            top3_summary(result["top"]), heatmap_summary(explanation["heatmap"], title),
            "What the model saw: the digit cropped, scaled to 20 pixels and centred in 28 × 28, white on black.",
            novelty_text(result), number_hidden, number, strip, selected)


@callback(
    Output(ids.SELECTED_DIGIT, "data", allow_duplicate=True),
    Input({"type": ids.DIGIT_CARD, "index": ALL}, "n_clicks"),
    prevent_initial_call=True,
)
def select_digit(clicks):
    """A card of the digit strip clicked: its digit is the one the main panels explain."""
    if not ctx.triggered_id or not any(clicks):
        raise PreventUpdate  # the strip was redrawn, nothing clicked
    return ctx.triggered_id["index"]


INPUT_TITLE = "What the model saw (28×28)"


def map_children(picture: dict[str, str], title: str) -> list:
    """The map (``gradcam-figure``): its title and the digit with the map over it.

    Two pictures in a square (predict.css ``pixel-map``) instead of a plotly figure: the browser
    draws them in well under a millisecond. The colour bar beside them is the page's (it never
    changes), the overlay's opacity the CSS variable that the opacity slider sets on ``map-stack``;
    ``data-grid`` holds the map's whole percents (for the hover, assets/live.js, which draws the
    live map in the same shape).
    """
    return [html.Div(title, className="pixel-map-title"),
            html.Div([html.Img(src=picture["digit"], alt="", className="pixel-map-digit"),
                      html.Img(src=picture["overlay"], alt="", className="pixel-map-overlay")],
                     className="pixel-map-frame", **{"data-grid": picture["grid"]})]


def input_children(picture: str) -> list:
    """The 28x28 input as the model saw it (``model-input``), a picture with the cells' grid over it."""
    return [html.Div(INPUT_TITLE, className="pixel-map-title"),
            html.Div(html.Img(src=picture, alt="", className="pixel-map-digit"),
                     className="pixel-map-frame pixel-grid")]


def empty_map(text: str) -> html.Div:
    """A map's place while there is nothing to show, saying why."""
    return html.Div(text, className="pixel-map-empty")


def live_reading(paths: list[str], layer: str | None, method: str | None, model: str | None,
                 pen_width: float | None) -> dict[str, Any]:
    """The top 3 and the map of the strokes so far, for assets/live.js while the pen moves.

    The same steps as ``predict`` for a drawing and the same figure builders, so that a live
    reading looks like the answer; the pen-up answer (``predict``) is the final one. Of a number,
    the first digit: the one that the pen-up answer explains after a new stroke.
    """
    service = model_service()
    model = session_model(model)
    options = service.options(service.layer(layer, model), method, None, model=model)
    pen_width = pen_width or DEFAULT_PEN_WIDTH
    ink, finer = drawing_inks(paths, pen_width, CANVAS_WIDTH)
    digit = compact_grid(service.find_digits(ink, model, finer)[0][1])
    result = service.explain_nonempty(np.asarray(digit, dtype=np.float32), options)
    explanation = result["explanation"]
    return {"top3": top3_figure(result["top"], explanation["class"], muted=not is_digit(result)),
            "title": map_title(explanation), "map": pixel_map(result["input"], explanation["heatmap"])}


def map_title(explanation: dict[str, Any], model: str | None = None) -> str:
    """"Grad-CAM for 7 at conv4" (no layer for a pixel-level method), after the model's name when given."""
    where = f" at {explanation['layer']}" if explanation["layer"] else ""
    title = f"{METHOD_LABELS[explanation['method']]} for {explanation['class']}{where}"
    return f"{model}: {title}" if model else title


def compared_reading(result: dict[str, Any], model: str) -> tuple[str, str]:
    """The compared model's reading as a heading and, for screen readers, in words."""
    best, explanation = result["top"][0], result["explanation"]
    heading = f"{model} reads it as {best['digit']} ({best['probability']:.0%} sure)"
    if not is_digit(result):
        heading = f"{model} does not take it for a digit; the closest is {best['digit']} ({best['probability']:.0%})"
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
        result = service.explain_nonempty(np.asarray(digit, np.float32), options)
    except (DigitInputError, ModelLoadError) as exc:
        return (False, f"{compared} cannot read it: {exc}", message_figure("No answer", 260),
                message_figure("No heatmap", 340), str(exc))
    heading, summary = compared_reading(result, compared)
    explanation = result["explanation"]
    return (False, heading, top3_figure(result["top"], explanation["class"], muted=not is_digit(result)),
            gradcam_figure(result["input"], explanation["heatmap"], opacity, map_title(explanation, compared)),
            summary)


def _nothing_to_show(message: str, colour: str) -> tuple:
    return (message_figure("No digit yet", 260), empty_map("No heatmap yet"),
            empty_map("No input yet"), message, _status_class(colour), "", None, None, [], None,
            "No digit read yet.", "No map yet.", "No input yet.", "", True, "", [], 0)


# In the browser: the map's opacity is presentation, not worth a request per slider step. A CSS
# variable of map-stack: the map and the live map both follow it (predict.css pixel-map-overlay).
clientside_callback(
    """(opacity) => ({'--overlay-opacity': String(opacity)})""",
    Output(ids.MAP_STACK, "style"), Input(ids.OPACITY_SLIDER, "value"),
)

# In the browser: what a live reading is asked with, where assets/live.js reads it (live-options'
# data-options). The class explained is the top 1, as after any new stroke.
clientside_callback(
    """(live, layer, method, model, penWidth) => JSON.stringify(
        {live: !!live, layer: layer, method: method, model: model, pen_width: penWidth})""",
    Output(ids.LIVE_OPTIONS, "data-options"),
    Input(ids.LIVE_READING, "value"), Input(ids.LAYER_DROPDOWN, "value"), Input(ids.METHOD_DROPDOWN, "value"),
    Input(ids.PREDICT_MODEL, "data"), Input(ids.PEN_WIDTH, "value"),
)


@callback(
    Output(ids.DOWNLOAD_JSON, "data"), Output(ids.DOWNLOAD_PNG, "data"),
    Input(ids.DOWNLOAD_BUTTON, "n_clicks"), State(ids.CURRENT_DIGIT, "data"), State(ids.PREDICTION, "data"),
    prevent_initial_call=True,
)
def download(_clicks, digit, asked):
    """The prediction object as JSON, and the map over the digit as a 280x280 PNG.

    Recomputed from the digit and the options the answer on show was made with (the ``prediction``
    store): the same numbers in, the same answer out, and no stroke pays for a download never made.
    """
    if digit is None or not asked:
        raise PreventUpdate
    service = model_service()
    prediction = service.explain_nonempty(np.asarray(digit, dtype=np.float32), service.options(**asked))
    explanation = prediction["explanation"]
    picture = heatmap_overlay_picture(np.asarray(prediction["input"]), np.asarray(explanation["heatmap"]),
                                      scale=10)
    name = f"digit-{prediction['top'][0]['digit']}-{explanation['method']}-{explanation['layer']}"
    return (dcc.send_string(json.dumps(prediction), f"{name}.json"),
            dcc.send_bytes(png_bytes(picture), f"{name}.png"))


# In the browser: a help line is not worth a request.
clientside_callback(
    f"(method) => ({json.dumps(METHOD_HELP)})[method] || ''",
    Output(ids.METHOD_HELP, "children"), Input(ids.METHOD_DROPDOWN, "value"),
)
