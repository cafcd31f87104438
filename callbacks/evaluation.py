"""Evaluation page: the report's confusion matrix, metrics and calibration; a cell's digits explained."""

from __future__ import annotations

from typing import Any

import numpy as np
from dash import Input, Output, State, callback, html

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
CLICK_A_CELL = "Click a red cell of the confusion matrix to see the digits the model got wrong there."


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


def cell_samples(report: dict[str, Any], true: int, predicted: int, order: str) -> list[dict[str, Any]]:
    """The report's misclassified test digits of one confusion cell, confidently wrong first or by index."""
    samples = [m for m in report["misclassified"] if m["true"] == true and m["predicted"] == predicted]
    key = (lambda m: -m["confidence"]) if order == "confidence" else (lambda m: m["index"])
    return sorted(samples, key=key)


def sample_card(sample: dict[str, Any], heatmap: np.ndarray) -> html.Figure:
    caption = f"#{sample['index']}: a {sample['true']} read as {sample['predicted']} ({sample['confidence']:.0%})"
    return html.Figure([
        html.Img(src=heatmap_overlay_png(np.asarray(sample["image"]), heatmap), alt=caption, title=caption),
        html.Figcaption(caption),
    ], className="sample")


@callback(Output(ids.CONFUSION_MATRIX, "figure"), Output(ids.METRICS_TABLE, "children"),
          Output(ids.CALIBRATION_FIGURE, "figure"), Output(ids.EVALUATION_STATUS, "children"),
          Input(ids.EVALUATION_OPENED, "data"))
def show_report(_opened):
    try:
        report = model_service().report()
    except (MnistError, ModelLoadError) as exc:
        message = f"No evaluation report, and it could not be computed: {exc}"
        return message_figure("No report"), [], message_figure("No report"), html.P(message, className="text-danger")
    calibration = reliability_figure(report["calibration"]) if "calibration" in report else message_figure("")
    return confusion_matrix_figure(report["confusion_matrix"]), metrics_table(report), calibration, None


@callback(Output(ids.MISCLASSIFIED_GALLERY, "children"), Input(ids.CONFUSION_MATRIX, "clickData"),
          Input(ids.GALLERY_ORDER, "value"), State(ids.SELECTED_LAYER, "data"))
def show_cell(click, order, selected):
    if not click:
        return html.P(CLICK_A_CELL, className="text-muted")
    point = click["points"][0]
    true, predicted = int(point["y"]), int(point["x"])
    if true == predicted:
        return html.P(f"These {point['customdata']:,} test digits {true} were read correctly. {CLICK_A_CELL}",
                      className="text-muted")
    service = model_service()
    samples = cell_samples(service.report(), true, predicted, order)
    if not samples:
        return html.P(f"No test digit {true} was read as {predicted}. {CLICK_A_CELL}", className="text-muted")
    shown = samples[:GALLERY_LIMIT]
    images = np.asarray([s["image"] for s in shown], np.float32) / 255.0
    layer = service.layer(selected)
    _, heatmaps, _, _ = service.model.explain_batch(images, layer, "gradcam", np.full(len(shown), predicted))
    heading = (f"{len(samples)} test digits {true} read as {predicted}"
               f"{f' (showing {len(shown)})' if len(shown) < len(samples) else ''}; "
               f"Grad-CAM at {layer} for {predicted}: where the model saw a {predicted}.")
    return [html.P(heading, className="text-muted"),
            html.Div([sample_card(s, h) for s, h in zip(shown, heatmaps, strict=True)], className="sample-grid")]
