"""Evaluation page (/evaluation): the session's model on the 10,000 MNIST test digits, beside a second one."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts import ids
from layouts.shell import compare_menu, described_graph, session_stores

PAGE = {"path": "/evaluation", "name": "Evaluation", "title": "Digit Inspector: evaluation", "order": 2}

GALLERY_ORDERS = [{"label": "confidently wrong first", "value": "confidence"},
                  {"label": "test-set order", "value": "index"}]
DIGITS = [{"label": str(digit), "value": str(digit)} for digit in range(10)]


def _progress() -> html.Div:
    return html.Div([
        dbc.Spinner(color="primary"),
        html.P("Reading the evaluation report. If the model has none yet it is computed once over the "
               "10,000 MNIST test digits (about ten seconds) and saved next to the model.", className="mt-2"),
    ], className="text-center text-muted")


def _cell_picker() -> dbc.Row:
    """The confusion matrix from the keyboard: a cell is its row (true digit) and column (read as)."""
    def select(label: str, select_id: str) -> dbc.Col:
        return dbc.Col([dbc.Label(label, html_for=select_id, className="mb-0 small"),
                        dbc.Select(id=select_id, options=DIGITS, placeholder="pick a digit", size="sm")],
                       xs=6, sm=4)
    return dbc.Row([select("True digit", ids.CELL_TRUE), select("Read as", ids.CELL_READ_AS)],
                   className="g-2 mt-1")


def layout() -> html.Div:
    return html.Div([
        *session_stores(),
        dcc.Store(id=ids.EVALUATION_OPENED, data=True),
        html.H1("Evaluation on the 10,000 MNIST test digits", className="h4"),
        html.Div([compare_menu(),
                  html.Div([dbc.Button("Download the report (HTML)", id=ids.REPORT_DOWNLOAD, color="dark",
                                       outline=True, size="sm"), dcc.Download(id=ids.REPORT_DOWNLOAD_FILE)],
                           className="mb-2")],
                 className="d-flex flex-wrap justify-content-between align-items-center column-gap-3"),
        html.Div(id=ids.EVALUATION_STATUS),
        # Polled only while a report is being computed (the report callbacks turn it on while they run).
        dcc.Interval(id=ids.EVALUATION_PROGRESS_POLL, interval=500, disabled=True),
        html.Div(id=ids.EVALUATION_PROGRESS, role="status"),
        dbc.Row([
            dbc.Col([
                html.H2("Confusion matrix", className="h5"),
                html.P("Click a cell, or pick its true digit and what it was read as below, to see its digits.",
                       className="text-muted mb-1"),
                dcc.Loading(described_graph(dcc.Graph(id=ids.CONFUSION_MATRIX, config={"displayModeBar": False}),
                                            ids.CONFUSION_MATRIX_SUMMARY),
                            custom_spinner=_progress(), delay_show=300),
                _cell_picker(),
                html.H2("Digits in the selected cell", className="h5 mt-3"),
                dbc.RadioItems(id=ids.GALLERY_ORDER, options=GALLERY_ORDERS, value="confidence", inline=True),
                dcc.Loading(html.Div(id=ids.MISCLASSIFIED_GALLERY, className="mt-2")),
            ], lg=7),
            dbc.Col([
                html.H2("Metrics", className="h5 mt-3 mt-lg-0"),
                dcc.Loading([dbc.Table(id=ids.METRICS_TABLE, size="sm", striped=True, hover=True),
                             described_graph(dcc.Graph(id=ids.CALIBRATION_FIGURE, config={"displayModeBar": False}),
                                             ids.CALIBRATION_SUMMARY)],
                            delay_show=300),
            ], lg=5),
        ]),
        html.H2("Comparison", className="h5 mt-4"),
        dcc.Loading(html.Div(id=ids.COMPARISON), custom_spinner=_progress(), delay_show=300),
    ])
