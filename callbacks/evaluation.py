"""Evaluation page: the report's confusion matrix, metrics and calibration; a cell's digits explained."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from dash import Input, Output, State, callback, dcc, html

from callbacks import model_service
from callbacks.figures import (
    confusion_matrix_figure,
    heatmap_overlay_png,
    message_figure,
    reliability_figure,
)
from layouts import ids
from models.inference import ModelLoadError
from models.mnist import MnistError

GALLERY_LIMIT = 30  # digits explained per click: one batched call, a page that stays light
CARD_SCALE = 4  # screen pixels per MNIST pixel in a gallery card: 112 px, big enough to read the map
PICK_A_CELL = ("Click a cell of the confusion matrix, or pick a true digit and what it was read as, "
               "to see those test digits.")


def metrics_table(report: dict[str, Any]) -> list[html.Thead | html.Tbody | html.Tfoot]:
    """Per-class precision, recall and F1, then accuracy and expected calibration error."""
    head = html.Thead(html.Tr([html.Th(name) for name in ("digit", "precision", "recall", "F1", "test digits")]))
    body = html.Tbody([html.Tr([
        html.Td(row["digit"]), html.Td(f"{row['precision']:.2%}"), html.Td(f"{row['recall']:.2%}"),
        html.Td(f"{row['f1']:.2%}"), html.Td(f"{row['support']:,}"),
    ]) for row in report["classes"]])
    summary = [("accuracy", f"{report['test_accuracy']:.2%} of {report['test_size']:,} test digits")]
    if "calibration" in report:
        summary.append(("ECE", f"{report['calibration']['ece']:.2%} (expected calibration error)"))
    foot = html.Tfoot([html.Tr([html.Th(name), html.Th(value, colSpan=4)]) for name, value in summary])
    return [head, body, foot]


def confusion_matrix_summary(matrix: Sequence[Sequence[int]], mistakes_named: int = 3) -> str:
    """The confusion matrix in words, for screen readers: how many were right, the commonest mistakes."""
    counts = np.asarray(matrix, dtype=np.int64)
    right = int(np.trace(counts))
    wrong = counts.copy()
    np.fill_diagonal(wrong, 0)
    answer = f"Confusion matrix of {int(counts.sum()):,} test digits: {right:,} read correctly"
    if not wrong.any():
        return answer + ", none wrong."
    cells = sorted(zip(*np.nonzero(wrong), strict=True), key=lambda cell: (-wrong[cell], cell))[:mistakes_named]
    commonest = "; ".join(f"{true} read as {read} ({wrong[true, read]})" for true, read in cells)
    return answer + f", {int(wrong.sum()):,} wrong. Commonest mistakes: {commonest}."


def calibration_summary(calibration: dict[str, Any]) -> str:
    """The reliability diagram in words: the ECE, then each non-empty confidence bin's accuracy."""
    bins = [b for b in calibration["bins"] if b["count"]]
    described = "; ".join(f"confidence {b['lower']:.1f} to {b['upper']:.1f}: {b['count']:,} digits, "
                          f"{b['accuracy']:.1%} right" for b in bins)
    return f"Reliability diagram, expected calibration error {calibration['ece']:.2%}. {described}."


def cell_samples(report: dict[str, Any], true: int, predicted: int, order: str) -> list[dict[str, Any]]:
    """The report's misclassified test digits of one confusion cell, confidently wrong first or by index."""
    samples = [m for m in report["misclassified"] if m["true"] == true and m["predicted"] == predicted]
    key = (lambda m: -m["confidence"]) if order == "confidence" else (lambda m: m["index"])
    return sorted(samples, key=key)


def sample_card(sample: dict[str, Any], heatmap: np.ndarray, corruption: str | None = None) -> dcc.Link:
    """A test digit with the map of its wrong answer, linking to the Predict page, which opens it.

    ``corruption`` names the MNIST-C corruption the card's image was put through (the link opens the clean digit).
    """
    under = f" under {corruption}" if corruption else ""
    caption = (f"#{sample['index']}{under}: a {sample['true']} read as {sample['predicted']} "
               f"({sample['confidence']:.0%})")
    alt = f"Test digit {caption}, with the Grad-CAM map of {sample['predicted']} over it"
    return dcc.Link(html.Figure([
        html.Img(src=heatmap_overlay_png(np.asarray(sample["image"]), heatmap, scale=CARD_SCALE), alt=alt),
        html.Figcaption(caption),
    ], className="m-0"), href=f"/?test={sample['index']}", className="sample",
        title="Open this digit on the Predict page")


def _hint(text: str) -> html.P:
    return html.P(text, className="text-muted")


@callback(Output(ids.CONFUSION_MATRIX, "figure"), Output(ids.CONFUSION_MATRIX_SUMMARY, "children"),
          Output(ids.METRICS_TABLE, "children"),
          Output(ids.CALIBRATION_FIGURE, "figure"), Output(ids.CALIBRATION_SUMMARY, "children"),
          Output(ids.EVALUATION_STATUS, "children"),
          Input(ids.EVALUATION_OPENED, "data"))
def show_report(_opened):
    try:
        report = model_service().report()
    except (MnistError, ModelLoadError) as exc:
        message = f"No evaluation report, and it could not be computed: {exc}"
        return (message_figure("No report"), message, [], message_figure("No report"), message,
                html.P(message, className="text-danger-emphasis"))
    if "calibration" in report:
        calibration = reliability_figure(report["calibration"]), calibration_summary(report["calibration"])
    else:
        calibration = message_figure(""), "This report has no calibration."
    matrix = report["confusion_matrix"]
    return confusion_matrix_figure(matrix), confusion_matrix_summary(matrix), metrics_table(report), *calibration, None


@callback(Output(ids.CELL_TRUE, "value"), Output(ids.CELL_READ_AS, "value"),
          Input(ids.CONFUSION_MATRIX, "clickData"), prevent_initial_call=True)
def pick_clicked_cell(click):
    """A click on the matrix picks its cell in the two menus, which fill the gallery."""
    point = click["points"][0]
    return str(point["y"]), str(point["x"])


@callback(Output(ids.MISCLASSIFIED_GALLERY, "children"), Input(ids.CELL_TRUE, "value"),
          Input(ids.CELL_READ_AS, "value"), Input(ids.GALLERY_ORDER, "value"), State(ids.SELECTED_LAYER, "data"))
def show_cell(true, read_as, order, selected):
    if true is None or read_as is None:
        return _hint(PICK_A_CELL)
    true, predicted = int(true), int(read_as)
    service = model_service()
    report = service.report()
    if true == predicted:
        count = int(report["confusion_matrix"][true][predicted])
        return _hint(f"These {count:,} test digits {true} were read correctly. {PICK_A_CELL}")
    samples = cell_samples(report, true, predicted, order)
    if not samples:
        return _hint(f"No test digit {true} was read as {predicted}: that cell is empty. {PICK_A_CELL}")
    shown = samples[:GALLERY_LIMIT]
    images = np.asarray([s["image"] for s in shown], np.float32) / 255.0
    layer = service.layer(selected)
    _, heatmaps, _, _ = service.model.explain_batch(images, layer, "gradcam", np.full(len(shown), predicted))
    heading = (f"{len(samples)} test digits {true} read as {predicted}"
               f"{f' (showing {len(shown)})' if len(shown) < len(samples) else ''}; "
               f"Grad-CAM at {layer} for {predicted}: where the model saw a {predicted}. "
               "Open a digit to try other layers and methods on it.")
    return [_hint(heading),
            html.Div([sample_card(s, h) for s, h in zip(shown, heatmaps, strict=True)], className="sample-grid")]
