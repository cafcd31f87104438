"""Field page: counts, the confusion matrix and its digits, distributions and drift against MNIST,
another model scored on the labelled digits, export and deletion. Every number comes from
``dashapp.field``'s queries; under gunicorn every callback first checks the admin token."""

from __future__ import annotations

import datetime as dt
import io
import time
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import dash_bootstrap_components as dbc
import numpy as np
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from callbacks import model_service
from callbacks.feedback import field_service
from callbacks.field_figures import (
    NoveltyHistograms,
    activity_figure,
    confusion_summary,
    distributions_figure,
    drift_figure,
    empty_figure,
    field_confusion_figure,
)
from callbacks.figures import heatmap_overlay_png
from callbacks.models import session_model
from dashapp.field import LABELS, AccessRefused, FieldInputError, FieldUnavailable, Filters
from layouts import ids
from models.drift import MnistReference
from models.inference import ModelLoadError
from models.mnist import MnistError, load_mnist

GALLERY_LIMIT = 30
CONFIDENCE_BINS = 20
DRIFT_DIGITS = 200  # field digits per week, and MNIST test digits, in each MMD test
DRIFT_PERMUTATIONS = 200
CARD_SCALE = 3
FILTERS = (Input(ids.FIELD_TOKEN, "data"), Input(ids.FIELD_MODEL_FILTER, "value"),
           Input(ids.FIELD_DATES, "start_date"), Input(ids.FIELD_DATES, "end_date"))
REFUSED = (AccessRefused, FieldUnavailable, FieldInputError)


def _day(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value[:10]) if value else None


def _filters(token: str | None, model: str | None, start: str | None, end: str | None) -> Filters:
    """The page's filters, once the token is checked (raises ``AccessRefused`` without it)."""
    field_service().check_admin(token)
    return Filters(model or None, _day(start), _day(end))


def _analysis_model(filters: Filters, session: str | None) -> str:
    """The model whose eyes the page looks through: the filtered one if it is offered, else the session's."""
    names = {entry.name for entry in model_service().models()}
    return filters.model if filters.model in names else session_model(session)


def _alert(exc: Exception) -> dbc.Alert:
    return dbc.Alert(str(exc), color="warning" if isinstance(exc, AccessRefused) else "danger", className="py-2")


@lru_cache(maxsize=1)
def _mnist_test() -> tuple[np.ndarray, np.ndarray]:
    _, _, x_test, y_test = load_mnist()
    return x_test.astype(np.float32) / 255.0, y_test


@lru_cache(maxsize=8)
def _mnist_reference(model: str, version: float) -> MnistReference:
    """Per model (file version), once per process: the MNIST test digits' confidence, novelty scores and
    the features of the drift sample (``models.drift.mnist_reference``)."""
    from models.drift import mnist_reference as reference

    return reference(model_service().load(model), _mnist_test()[0], DRIFT_DIGITS)


def mnist_reference(model: str) -> MnistReference:
    return _mnist_reference(model, model_service().model_path(model).stat().st_mtime)


def _mnist_side(filters: Filters, session: str | None) -> tuple[np.ndarray, np.ndarray | None, Any]:
    """The analysis model's MNIST test confidence histogram, novelty scores and ``NoveltyDetector``
    (zeros and None when MNIST or the model cannot be loaded: the field digits are shown alone)."""
    try:
        name = _analysis_model(filters, session)
        reference, detector = mnist_reference(name), model_service().load(name).novelty
    except (MnistError, ModelLoadError):
        return np.zeros(CONFIDENCE_BINS, np.int64), None, None
    confidence = np.histogram(reference.confidence, CONFIDENCE_BINS, (0.0, 1.0))[0]
    return confidence, (reference.novelty.get(detector.detector) if detector is not None else None), detector


def novelty_histograms(field: tuple[float, float] | None, histogram: Callable[[float, float], np.ndarray],
                       mnist: np.ndarray | None, detector: Any) -> NoveltyHistograms | None:
    """Field and MNIST novelty scores in the same bins, over the field scores' range (``field``, counted by
    ``histogram(low, high)``), the MNIST scores' (0.1 % trimmed at each end) and ``detector``'s threshold."""
    if field is None and mnist is None:
        return None
    threshold = None if detector is None else float(detector.threshold)
    ends = [*(field or ()), *(() if mnist is None else np.quantile(mnist, [0.001, 0.999])),
            *(() if threshold is None else (threshold,))]
    low, high = float(min(ends)), float(max(ends))
    mnist_counts = None if mnist is None else np.histogram(np.clip(mnist, low, high), CONFIDENCE_BINS, (low, high))[0]
    return NoveltyHistograms(histogram(low, high) if field else None, mnist_counts, low, high, threshold,
                             None if detector is None else detector.detector)


@callback(
    Output(ids.FIELD_TOKEN, "data"),
    Input(ids.FIELD_TOKEN_BUTTON, "n_clicks"), Input(ids.FIELD_TOKEN_INPUT, "n_submit"),
    State(ids.FIELD_TOKEN_INPUT, "value"),
    prevent_initial_call=True,
)
def remember_token(_clicks, _submit, token):
    return (token or "").strip() or None


def _summary_table(filters: Filters) -> html.Div:
    """Per model: records, labels, accuracy on the labelled field digits next to its MNIST test accuracy."""
    store, service = field_service().store, model_service()
    offered = {entry.name for entry in service.models()}
    names = [filters.model] if filters.model else store.model_names()
    rows = []
    for name in names:
        summary = store.summary(Filters(name, filters.since, filters.until))
        mnist = service.test_accuracy(name) if name in offered else None
        rows.append(html.Tr([
            html.Td(name), html.Td(f"{summary['records']:,}"), html.Td(f"{summary['labeled']:,}"),
            html.Td("—" if summary["accuracy"] is None else f"{summary['accuracy']:.1%}"),
            html.Td("—" if mnist is None else f"{mnist:.2%}")]))
    head = html.Thead(html.Tr([html.Th(name) for name in
                               ("model", "records", "labelled", "field accuracy", "MNIST test accuracy")]))
    return dbc.Table([head, html.Tbody(rows or [html.Tr(html.Td("No records yet.", colSpan=5))])],
                     size="sm", striped=True, className="mb-2")


@callback(
    Output(ids.FIELD_STATUS, "children"), Output(ids.FIELD_SUMMARY, "children"),
    Output(ids.FIELD_CONFUSION_MATRIX, "figure"), Output("field-confusion-summary", "children"),
    Output(ids.FIELD_ACTIVITY, "figure"), Output(ids.FIELD_DISTRIBUTIONS, "figure"),
    Output(ids.FIELD_MODEL_FILTER, "options"), Output(ids.FIELD_SCORE_MODEL, "options"),
    Input(ids.FIELD_OPENED, "data"), *FILTERS, Input(ids.FIELD_REFRESH, "data"), State(ids.SELECTED_MODEL, "data"),
)
def show_field(_opened, token, model, start, end, _refresh, session):
    try:
        filters = _filters(token, model, start, end)
        store = field_service().store
        summary = store.summary(filters)
        table = _summary_table(filters)
        activity = activity_figure(store.activity(filters))
        names = store.model_names()
        field_confidence = store.histogram("confidence", CONFIDENCE_BINS, 0.0, 1.0, filters)
        mnist_confidence, mnist_novelty, detector = _mnist_side(filters, session)
        novelty = novelty_histograms(
            store.value_range("novelty_score", filters),
            lambda low, high: store.histogram("novelty_score", CONFIDENCE_BINS, low, high, filters),
            mnist_novelty, detector)
    except REFUSED as exc:
        blank = empty_figure("No field data shown")
        return _alert(exc), None, blank, "", blank, blank, no_update, no_update
    offered = [entry.name for entry in model_service().models()]
    options = [{"label": "all models", "value": ""}] + [{"label": n, "value": n} for n in sorted(set(names))]
    return ("", table, field_confusion_figure(summary["confusion_matrix"], LABELS),
            confusion_summary(summary["confusion_matrix"], LABELS), activity,
            distributions_figure(field_confidence, mnist_confidence, novelty, CONFIDENCE_BINS), options,
            [{"label": n, "value": n} for n in offered])


@callback(Output(ids.FIELD_DRIFT, "figure"), *FILTERS, Input(ids.FIELD_REFRESH, "data"),
          State(ids.SELECTED_MODEL, "data"))
def show_drift(token, model, start, end, _refresh, session):
    """MMD² between each week's field digits and MNIST test digits, in the analysis model's features."""
    from models.drift import mmd_test

    try:
        filters = _filters(token, model, start, end)
        samples = field_service().store.weekly_samples(filters, DRIFT_DIGITS)
        name = _analysis_model(filters, session)
        reference = mnist_reference(name).features
        digit_model = model_service().load(name)
    except (*REFUSED, MnistError, ModelLoadError) as exc:
        return empty_figure(str(exc)[:120])
    weeks = []
    for monday, inputs in samples.items():
        if len(inputs) < 2:
            continue
        mmd2, p_value = mmd_test(digit_model.features_and_logits(inputs)[0], reference, DRIFT_PERMUTATIONS)
        weeks.append({"week": monday.isoformat(), "mmd2": mmd2, "p_value": p_value, "digits": len(inputs)})
    return drift_figure(weeks, name)


def _card(record: dict[str, Any], heatmap: np.ndarray | None) -> html.Div:
    picture = heatmap_overlay_png(record["input"], heatmap if heatmap is not None else np.zeros((28, 28)),
                                  scale=CARD_SCALE)
    caption = (f"#{record['id']} · said {LABELS[record['label']]} · read {LABELS[record['answer']]} "
               f"({record['confidence']:.0%}) · {record['model']}")
    return html.Div([
        dcc.Link(html.Img(src=picture, alt=caption, width=28 * CARD_SCALE), href=f"/?field={record['id']}",
                 title="Open on the Predict page"),
        html.Div(caption, className="small"),
        dbc.Button("Delete", id={"type": ids.FIELD_DELETE, "id": record["id"]}, size="sm", color="danger",
                   outline=True, className="mt-1"),
    ], className="gallery-card d-inline-block text-center m-1 p-1 border rounded", style={"width": "10rem"})


def _maps(records: list[dict[str, Any]]) -> list[np.ndarray | None]:
    """Each record's Grad-CAM map of the model's answer, by its own model (batched per model)."""
    service = model_service()
    offered = {entry.name for entry in service.models()}
    maps: list[np.ndarray | None] = [None] * len(records)
    for name in {record["model"] for record in records} & offered:
        where = [i for i, record in enumerate(records) if record["model"] == name]
        try:
            model = service.load(name)
        except ModelLoadError:
            continue
        _, heatmaps, _, _ = model.explain_batch(np.stack([records[i]["input"] for i in where]))
        for i, heatmap in zip(where, heatmaps, strict=True):
            maps[i] = heatmap
    return maps


@callback(Output(ids.FIELD_GALLERY, "children"), Input(ids.FIELD_CONFUSION_MATRIX, "clickData"), *FILTERS,
          Input(ids.FIELD_REFRESH, "data"))
def show_cell(click, token, model, start, end, _refresh):
    if not click:
        return html.P("Click a cell of the matrix to see its digits, each with its map; a digit opens on the "
                      "Predict page.", className="text-muted")
    point = click["points"][0]
    names = ["none" if label == "not a digit" else label for label in LABELS]
    label, answer = names.index(str(point["y"])), names.index(str(point["x"]))
    try:
        records = field_service().store.cell(label, answer, _filters(token, model, start, end), GALLERY_LIMIT)
    except REFUSED as exc:
        return _alert(exc)
    if not records:
        return html.P(f"No field digit labelled {LABELS[label]} was read as {LABELS[answer]}.", className="text-muted")
    return [_card(record, heatmap) for record, heatmap in zip(records, _maps(records), strict=True)]


@callback(Output(ids.FIELD_SCORE, "children"), Input(ids.FIELD_SCORE_MODEL, "value"), *FILTERS)
def score_model(name, token, model, start, end):
    """Another model read the labelled field digits: its accuracy beside the model that answered them."""
    if not name:
        return html.P("Pick a model to score it on the labelled field digits.", className="text-muted")
    try:
        filters = _filters(token, model, start, end)
        _, inputs, labels, answers = field_service().store.labelled(filters)
        if not len(labels):
            return html.P("No labelled field digits yet.", className="text-muted")
        started = time.perf_counter()
        scored = model_service().load(name).probabilities(inputs).argmax(axis=1)
        seconds = time.perf_counter() - started
    except (*REFUSED, ModelLoadError) as exc:
        return _alert(exc)
    digits = labels < 10  # "not a digit" needs a novelty detector: scored on digits only
    theirs = float((answers == labels).mean())
    mine = float((scored[digits] == labels[digits]).mean()) if digits.any() else float("nan")
    who = filters.model or "the models that answered"
    return html.P(f"{name}: {mine:.1%} of {int(digits.sum()):,} labelled field digits (0-9) right, against "
                  f"{theirs:.1%} for {who} on all {len(labels):,} labelled records ({seconds * 1000:.0f} ms).")


@callback(Output(ids.FIELD_EXPORT_FILE, "data"), Output(ids.FIELD_STATUS, "children", allow_duplicate=True),
          Input(ids.FIELD_EXPORT, "n_clicks"), State(ids.FIELD_TOKEN, "data"), State(ids.FIELD_MODEL_FILTER, "value"),
          State(ids.FIELD_DATES, "start_date"), State(ids.FIELD_DATES, "end_date"), prevent_initial_call=True)
def export(_clicks, token, model, start, end):
    try:
        data = field_service().store.export(_filters(token, model, start, end))
    except REFUSED as exc:
        return no_update, _alert(exc)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **data)
    return dcc.send_bytes(buffer.getvalue(), "field-export.npz"), f"{len(data['y']):,} labelled digits exported."


@callback(Output(ids.FIELD_STATUS, "children", allow_duplicate=True), Output(ids.FIELD_REFRESH, "data"),
          Input({"type": ids.FIELD_DELETE, "id": ALL}, "n_clicks"), State(ids.FIELD_TOKEN, "data"),
          State(ids.FIELD_REFRESH, "data"), prevent_initial_call=True)
def delete_one(clicks, token, refresh):
    if not ctx.triggered_id or not any(clicks):
        raise PreventUpdate
    record_id = ctx.triggered_id["id"]
    try:
        field_service().check_admin(token)
        field_service().store.delete(int(record_id))
    except REFUSED as exc:
        return _alert(exc), no_update
    return f"Record {record_id} deleted.", (refresh or 0) + 1


@callback(Output(ids.FIELD_DELETE_CONFIRM, "displayed"), Input(ids.FIELD_DELETE_ALL, "n_clicks"),
          prevent_initial_call=True)
def ask_delete_all(_clicks):
    return True


@callback(Output(ids.FIELD_STATUS, "children", allow_duplicate=True), Output(ids.FIELD_REFRESH, "data",
                                                                               allow_duplicate=True),
          Input(ids.FIELD_DELETE_CONFIRM, "submit_n_clicks"), State(ids.FIELD_TOKEN, "data"),
          State(ids.FIELD_MODEL_FILTER, "value"), State(ids.FIELD_DATES, "start_date"),
          State(ids.FIELD_DATES, "end_date"), State(ids.FIELD_REFRESH, "data"), prevent_initial_call=True)
def delete_all(_submitted, token, model, start, end, refresh):
    try:
        deleted = field_service().store.delete_all(_filters(token, model, start, end))
    except REFUSED as exc:
        return _alert(exc), no_update
    return f"{deleted:,} records deleted.", (refresh or 0) + 1
