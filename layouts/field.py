"""Field page (/field): what people drew, what the model answered and what they said was right."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts import ids
from layouts.shell import described_graph, session_stores

PAGE = {"path": "/field", "name": "Field", "title": "Digit Inspector: field data", "order": 4}
GRAPH = {"displayModeBar": False}


def _token_form() -> dbc.Row:
    """The admin token, asked once per browser session (kept in session storage); local servers need none."""
    return dbc.Row([
        dbc.Col(dbc.Input(id=ids.FIELD_TOKEN_INPUT, type="password", placeholder="admin token", size="sm",
                          autoComplete="off"), xs=8, sm=5, md=4),
        dbc.Col(dbc.Button("Use token", id=ids.FIELD_TOKEN_BUTTON, size="sm", color="dark", outline=True), xs="auto"),
        dbc.Col(dbc.FormText("Only a deployed server asks for it (DIGIT_INSPECTOR_ADMIN_TOKEN)."), xs=12, md=True),
    ], className="g-2 align-items-center mb-2")


def _filters() -> dbc.Row:
    return dbc.Row([
        dbc.Col([dbc.Label("Model", html_for=ids.FIELD_MODEL_FILTER, className="mb-0 small"),
                 dcc.Dropdown(id=ids.FIELD_MODEL_FILTER, clearable=False, searchable=False, value="")], xs=12, sm=5),
        dbc.Col([dbc.Label("Days (UTC)", html_for=ids.FIELD_DATES, className="mb-0 small d-block"),
                 dcc.DatePickerRange(id=ids.FIELD_DATES, clearable=True, display_format="YYYY-MM-DD")], xs=12, sm=7),
    ], className="g-2 mb-2")


def layout() -> html.Div:
    return html.Div([
        *session_stores(),
        dcc.Store(id=ids.FIELD_OPENED, data=True),
        dcc.Store(id=ids.FIELD_TOKEN, storage_type="session"),
        dcc.Store(id=ids.FIELD_REFRESH, data=0),
        html.H1("Field data: digits people sent, and the right answers they gave", className="h4"),
        _token_form(),
        _filters(),
        html.Div(id=ids.FIELD_STATUS, role="status"),
        dcc.Loading(html.Div(id=ids.FIELD_SUMMARY), delay_show=300),
        dbc.Row([
            dbc.Col([
                html.H2("Confusion matrix of labelled field digits", className="h5"),
                html.P("Rows: what the person said; columns: the model's answer. Click a cell to see its digits.",
                       className="text-muted mb-1"),
                described_graph(dcc.Graph(id=ids.FIELD_CONFUSION_MATRIX, config=GRAPH), "field-confusion-summary"),
                html.H2("Digits in the selected cell", className="h5 mt-3"),
                dcc.Loading(html.Div(id=ids.FIELD_GALLERY, className="mt-2")),
            ], lg=7),
            dbc.Col([
                html.H2("Records and labels per day", className="h5 mt-3 mt-lg-0"),
                dcc.Graph(id=ids.FIELD_ACTIVITY, config=GRAPH),
                html.H2("Field digits against the MNIST test digits", className="h5 mt-3"),
                dcc.Graph(id=ids.FIELD_DISTRIBUTIONS, config=GRAPH),
            ], lg=5),
        ]),
        html.H2("Drift", className="h5 mt-3"),
        html.P("Per week: how far the field digits' penultimate features are from MNIST's (maximum mean "
               "discrepancy, with the p-value of a permutation test; a small p-value means they differ).",
               className="text-muted mb-1"),
        dcc.Loading(dcc.Graph(id=ids.FIELD_DRIFT, config=GRAPH), delay_show=300),
        html.H2("Another model on the labelled field digits", className="h5 mt-3"),
        dbc.Row([dbc.Col([dbc.Label("Score", html_for=ids.FIELD_SCORE_MODEL, className="mb-0 small"),
                          dcc.Dropdown(id=ids.FIELD_SCORE_MODEL, clearable=True, searchable=False)], xs=12, sm=5)]),
        dcc.Loading(html.Div(id=ids.FIELD_SCORE, className="mt-2")),
        html.Div([
            dbc.Button("Export labelled digits (npz)", id=ids.FIELD_EXPORT, color="primary", outline=True, size="sm",
                       className="me-2"),
            dcc.Download(id=ids.FIELD_EXPORT_FILE),
            dbc.Button("Delete all records", id=ids.FIELD_DELETE_ALL, color="danger", outline=True, size="sm"),
            dcc.ConfirmDialog(id=ids.FIELD_DELETE_CONFIRM,
                              message="Delete every field record shown by the filters, for good?"),
        ], className="mt-3"),
    ])
