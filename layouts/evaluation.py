"""Evaluation page (/evaluation): the model on the 10,000 MNIST test digits."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts import ids
from layouts.shell import session_stores

PAGE = {"path": "/evaluation", "name": "Evaluation", "title": "Digit Inspector: evaluation", "order": 2}

GALLERY_ORDERS = [{"label": "confidently wrong first", "value": "confidence"},
                  {"label": "test-set order", "value": "index"}]


def _progress() -> html.Div:
    return html.Div([
        dbc.Spinner(color="primary"),
        html.P("Reading the evaluation report. If there is none yet it is computed once over the "
               "10,000 MNIST test digits (about ten seconds) and saved next to the model.", className="mt-2"),
    ], className="text-center text-muted")


def layout() -> html.Div:
    return html.Div([
        *session_stores(),
        dcc.Store(id=ids.EVALUATION_OPENED, data=True),
        html.Div(id=ids.EVALUATION_STATUS),
        html.Div([dbc.Button("Download the report (HTML)", id=ids.REPORT_DOWNLOAD, color="primary", outline=True,
                             size="sm"), dcc.Download(id=ids.REPORT_DOWNLOAD_FILE)], className="mb-2 text-end"),
        dbc.Row([
            dbc.Col([
                html.H5("Confusion matrix: click a cell to see its digits"),
                dcc.Loading(dcc.Graph(id=ids.CONFUSION_MATRIX, config={"displayModeBar": False}),
                            custom_spinner=_progress(), delay_show=300),
                html.H5("Digits in the selected cell", className="mt-3"),
                dbc.RadioItems(id=ids.GALLERY_ORDER, options=GALLERY_ORDERS, value="confidence", inline=True),
                dcc.Loading(html.Div(id=ids.MISCLASSIFIED_GALLERY, className="mt-2")),
            ], lg=7),
            dbc.Col([
                html.H5("Metrics"),
                dcc.Loading([dbc.Table(id=ids.METRICS_TABLE, size="sm", striped=True, hover=True),
                             dcc.Graph(id=ids.CALIBRATION_FIGURE, config={"displayModeBar": False})],
                            delay_show=300),
            ], lg=5),
        ]),
    ])
