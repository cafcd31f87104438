"""Evaluation page: ``report-download`` saves the whole report as one self-contained HTML file."""

from __future__ import annotations

import numpy as np
from dash import Input, Output, State, callback, dcc
from dash.exceptions import PreventUpdate

from callbacks import model_service
from callbacks.figures import heatmap_overlay_png
from callbacks.models import session_model
from callbacks.report_html import report_html
from layouts import ids
from models.inference import ModelLoadError
from models.mnist import MnistError
from models.scoreboard import method_at

MISTAKES_SHOWN = 24  # the most confidently wrong test digits, with their maps


@callback(Output(ids.REPORT_DOWNLOAD_FILE, "data"), Input(ids.REPORT_DOWNLOAD, "n_clicks"),
          State(ids.SELECTED_MODEL, "data"), prevent_initial_call=True)
def download_report(clicks, name):
    if not clicks:
        raise PreventUpdate
    service = model_service()
    try:
        name = session_model(name)
        report = service.report(name)
        model = service.load(name)
    except (MnistError, ModelLoadError):
        raise PreventUpdate from None  # the page's status line already says why there is no report
    method, layer = service.recommended(name)
    shown = sorted(report["misclassified"], key=lambda m: -m["confidence"])[:MISTAKES_SHOWN]
    mistakes = []
    if shown:
        images = np.asarray([s["image"] for s in shown], np.float32) / 255.0
        predicted = np.array([s["predicted"] for s in shown])
        _, heatmaps, _, _ = model.explain_batch(images, layer, method, predicted)
        mistakes = [(s, heatmap_overlay_png(np.asarray(s["image"]), h)) for s, h in zip(shown, heatmaps, strict=True)]
    explained_with = (f"{method_at(method, layer)} for the digit the model read: where it saw it. "
                      "Most confidently wrong first.")
    page = report_html(report, mistakes, explained_with)
    return dcc.send_string(page, f"{report.get('model', 'model')}-report.html", type="text/html")
