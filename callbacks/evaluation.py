"""Evaluation page: the session model's report (confusion matrix, metrics, calibration), a cell's digits
explained, and the comparison with a second model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dash_bootstrap_components as dbc
import numpy as np
from dash import Input, Output, State, callback, dcc, html

from callbacks import model_service
from callbacks.figures import (
    confusion_matrix_figure,
    heatmap_overlay_png,
    message_figure,
    reliability_figure,
)
from callbacks.models import session_model
from layouts import ids
from layouts.shell import NO_COMPARISON
from models.inference import ModelLoadError
from models.mnist import MnistError

GALLERY_LIMIT = 30  # digits explained per click: one batched call, a page that stays light
COMPARISON_LIMIT = 12  # digits shown for each model that alone reads them right (each card has two maps)
CARD_SCALE = 4  # screen pixels per MNIST pixel in a gallery card: 112 px, big enough to read the map
PICK_A_CELL = ("Click a cell of the confusion matrix, or pick a true digit and what it was read as, "
               "to see those test digits.")


def metrics_table(report: dict[str, Any], model: str | None = None) -> list[html.Thead | html.Tbody | html.Tfoot]:
    """Per-class precision, recall and F1, then the model (when named), its accuracy and expected calibration error."""
    head = html.Thead(html.Tr([html.Th(name) for name in ("digit", "precision", "recall", "F1", "test digits")]))
    body = html.Tbody([html.Tr([
        html.Td(row["digit"]), html.Td(f"{row['precision']:.2%}"), html.Td(f"{row['recall']:.2%}"),
        html.Td(f"{row['f1']:.2%}"), html.Td(f"{row['support']:,}"),
    ]) for row in report["classes"]])
    summary = [("model", model)] if model else []
    summary.append(("accuracy", f"{report['test_accuracy']:.2%} of {report['test_size']:,} test digits"))
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


def sample_card(sample: dict[str, Any], heatmap: np.ndarray) -> dcc.Link:
    """A test digit with the map of its wrong answer, linking to the Predict page, which opens it."""
    caption = f"#{sample['index']}: a {sample['true']} read as {sample['predicted']} ({sample['confidence']:.0%})"
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
          Input(ids.EVALUATION_OPENED, "data"), Input(ids.SELECTED_MODEL, "data"),
          running=[(Output(ids.EVALUATION_PROGRESS_POLL, "disabled"), False, True)])
def show_report(_opened, model):
    service = model_service()
    try:
        model = session_model(model)
        report = service.report(model)
    except (MnistError, ModelLoadError) as exc:
        message = f"No evaluation report, and it could not be computed: {exc}"
        return (message_figure("No report"), message, [], message_figure("No report"), message,
                html.P(message, className="text-danger-emphasis"))
    if "calibration" in report:
        calibration = reliability_figure(report["calibration"]), calibration_summary(report["calibration"])
    else:
        calibration = message_figure(""), "This report has no calibration."
    matrix = report["confusion_matrix"]
    return (confusion_matrix_figure(matrix), confusion_matrix_summary(matrix), metrics_table(report, model),
            *calibration, None)


@callback(Output(ids.EVALUATION_PROGRESS, "children"), Input(ids.EVALUATION_PROGRESS_POLL, "n_intervals"),
          Input(ids.EVALUATION_PROGRESS_POLL, "disabled"), State(ids.SELECTED_MODEL, "data"),
          State(ids.COMPARE_MODEL, "data"), prevent_initial_call=True)
def show_progress(_tick, stopped, model, compared):
    """How far this process is in computing a report of the models shown (while the report callbacks run)."""
    if stopped:
        return None
    service = model_service()
    offered = {m.name for m in service.models()}
    for name in (model, compared):
        done = service.report_progress(name) if name in offered else None
        if done is not None:
            return html.Div([html.P(f"Computing the evaluation report of {name} over the 10,000 MNIST test digits "
                                    "(once; it is then saved next to the model).", className="text-muted mb-1"),
                             dbc.Progress(value=round(100 * done), label=f"{done:.0%}", striped=True, animated=True)],
                            className="mb-3")
    return None


@callback(Output(ids.CELL_TRUE, "value"), Output(ids.CELL_READ_AS, "value"),
          Input(ids.CONFUSION_MATRIX, "clickData"), prevent_initial_call=True)
def pick_clicked_cell(click):
    """A click on the matrix picks its cell in the two menus, which fill the gallery."""
    point = click["points"][0]
    return str(point["y"]), str(point["x"])


@callback(Output(ids.MISCLASSIFIED_GALLERY, "children"), Input(ids.CELL_TRUE, "value"),
          Input(ids.CELL_READ_AS, "value"), Input(ids.GALLERY_ORDER, "value"), Input(ids.SELECTED_MODEL, "data"),
          State(ids.SELECTED_LAYER, "data"))
def show_cell(true, read_as, order, model, selected):
    if true is None or read_as is None:
        return _hint(PICK_A_CELL)
    true, predicted = int(true), int(read_as)
    service = model_service()
    model = session_model(model)
    report = service.report(model)
    if true == predicted:
        count = int(report["confusion_matrix"][true][predicted])
        return _hint(f"These {count:,} test digits {true} were read correctly. {PICK_A_CELL}")
    samples = cell_samples(report, true, predicted, order)
    if not samples:
        return _hint(f"No test digit {true} was read as {predicted}: that cell is empty. {PICK_A_CELL}")
    shown = samples[:GALLERY_LIMIT]
    images = np.asarray([s["image"] for s in shown], np.float32) / 255.0
    layer = service.layer(selected, model)
    _, heatmaps, _, _ = service.load(model).explain_batch(images, layer, "gradcam", np.full(len(shown), predicted))
    heading = (f"{len(samples)} test digits {true} read as {predicted}"
               f"{f' (showing {len(shown)})' if len(shown) < len(samples) else ''}; "
               f"Grad-CAM at {layer} for {predicted}: where the model saw a {predicted}. "
               "Open a digit to try other layers and methods on it.")
    return [_hint(heading),
            html.Div([sample_card(s, h) for s, h in zip(shown, heatmaps, strict=True)], className="sample-grid")]


def comparison_table(comparison: dict[str, Any]) -> dbc.Table:
    """Per-class F1 of both models side by side, and their accuracy; the better of each pair in bold."""
    first, second = comparison["models"]

    def pair(values: Sequence[float]) -> list[html.Td]:
        best = max(values)
        return [html.Td(html.B(f"{v:.2%}") if v == best and values[0] != values[1] else f"{v:.2%}") for v in values]

    head = html.Thead(html.Tr([html.Th("digit"), html.Th(f"F1 {first}"), html.Th(f"F1 {second}")]))
    body = html.Tbody([html.Tr([html.Td(row["digit"]), *pair(row["f1"])]) for row in comparison["classes"]])
    foot = html.Tfoot(html.Tr([html.Th("accuracy"), *pair(comparison["test_accuracy"])]))
    return dbc.Table([head, body, foot], size="sm", striped=True, hover=True, className="mb-0")


def comparison_card(digit: dict[str, Any], maps: dict[str, np.ndarray]) -> dcc.Link:
    """A test digit that one model reads right, with each model's map of what it read; links to the digit."""
    reads = [f"{name} {read}{' ✓' if read == digit['true'] else ''}" for name, read in digit["read"].items()]
    images = [html.Img(src=heatmap_overlay_png(np.asarray(digit["image"]), maps[name], scale=CARD_SCALE),
                       alt=f"Test digit #{digit['index']} with {name}'s Grad-CAM map of the {read} it read",
                       title=name)
              for name, read in digit["read"].items()]
    return dcc.Link(html.Figure([html.Div(images, className="d-flex gap-1"),
                                 html.Figcaption(f"#{digit['index']}, a {digit['true']}: {'; '.join(reads)}")],
                                className="m-0"),
                    href=f"/?test={digit['index']}", className="sample", style={"width": "228px"},
                    title="Open this digit on the Predict page")


def comparison_maps(service, digits: list[dict[str, Any]], layer: str | None) -> list[dict[str, np.ndarray]]:
    """Each digit's Grad-CAM map in each model, of the digit that model read (one batched call per model)."""
    if not digits:
        return []
    images = np.asarray([d["image"] for d in digits], np.float32) / 255.0
    maps = {}
    for name in digits[0]["read"]:
        classes = np.asarray([d["read"][name] for d in digits])
        _, maps[name], _, _ = service.load(name).explain_batch(images, service.layer(layer, name), "gradcam", classes)
    return [{name: maps[name][i] for name in maps} for i in range(len(digits))]


@callback(Output(ids.COMPARISON, "children"), Input(ids.COMPARE_MODEL, "data"), Input(ids.SELECTED_MODEL, "data"),
          State(ids.SELECTED_LAYER, "data"),
          running=[(Output(ids.EVALUATION_PROGRESS_POLL, "disabled"), False, True)])
def show_comparison(compared, model, selected):
    service = model_service()
    model = session_model(model)
    if compared in (None, NO_COMPARISON) or compared == model or compared not in {m.name for m in service.models()}:
        return _hint("Pick a model in “Compare with” to set its accuracy, per-digit F1 and the test digits "
                     "only one of the two reads right beside this one's (seed_cnn is the original app's network).")
    try:
        comparison = service.comparison(model, compared)
    except (MnistError, ModelLoadError) as exc:
        return html.P(f"These two models cannot be compared: {exc}", className="text-danger-emphasis")
    groups = []
    for right, wrong in (comparison["models"], comparison["models"][::-1]):
        digits = [d for d in comparison["only_one_right"] if d["right"] == right]
        shown = digits[:COMPARISON_LIMIT]
        groups += [
            html.H3(f"{len(digits)} test digits {right} reads right and {wrong} does not"
                    f"{f' (the first {len(shown)})' if len(shown) < len(digits) else ''}", className="h6"),
            html.Div([comparison_card(d, m) for d, m in zip(shown, comparison_maps(service, shown, selected),
                                                              strict=True)], className="sample-grid mb-3"),
        ]
    first, second = comparison["models"]
    return [_hint(f"{model} beside {compared}. Each digit shows {first}'s map, then {second}'s, each of the "
                  "digit that model read. Open one to try it on its own."),
            dbc.Row([dbc.Col(comparison_table(comparison), lg=4, className="mb-3"), dbc.Col(groups, lg=8)])]
