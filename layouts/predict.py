"""Predict page (/): draw or upload a digit, read the top 3 and the explanation map."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts import ids
from layouts.shell import compare_menu, session_stores
from models.methods import DEFAULT_METHOD, METHOD_LABELS, METHOD_NAMES  # the registry: imports no TensorFlow

PAGE = {"path": "/", "name": "Predict", "title": "Digit Inspector: predict", "order": 0}

# Only what drawing needs: no modebar, no zoom, no double-click autoscale, fixed size.
CANVAS_CONFIG = {"displayModeBar": False, "scrollZoom": False, "doubleClick": False,
                 "showAxisDragHandles": False, "responsive": False}


def _drawing_column() -> dbc.Col:
    return dbc.Col([
        html.H5("Draw a digit"),
        dcc.Graph(id=ids.CANVAS, config=CANVAS_CONFIG, className="canvas"),
        dbc.ButtonGroup([
            dbc.Button("Undo stroke", id=ids.UNDO_BUTTON, color="dark", outline=True),
            dbc.Button("Clear", id=ids.CLEAR_BUTTON, color="dark", outline=True),
        ], className="my-2"),
        dcc.Upload(id=ids.UPLOAD, accept="image/*", multiple=False, className="upload-zone",
                   children=html.Div(["or drop an image here / ", html.A("choose a file", href="#")])),
        dcc.Store(id=ids.STROKES, storage_type="session", data=[]),
    ], width="auto")


def _answer_column() -> dbc.Col:
    return dbc.Col([
        dbc.Alert("Draw a digit", id=ids.STATUS, color="info", className="py-2"),
        dcc.Graph(id=ids.TOP3_CHART, config={"displayModeBar": False}),
        dcc.Graph(id=ids.MODEL_INPUT, config={"displayModeBar": False}),
    ])


def _explanation_column() -> dbc.Col:
    return dbc.Col([
        dbc.Row([
            dbc.Col([dbc.Label("Layer", html_for=ids.LAYER_DROPDOWN),
                     dcc.Dropdown(id=ids.LAYER_DROPDOWN, clearable=False, searchable=False)], width=7),
            dbc.Col([dbc.Label("Method", html_for=ids.METHOD_DROPDOWN),
                     dcc.Dropdown(id=ids.METHOD_DROPDOWN, value=DEFAULT_METHOD, clearable=False, searchable=False,
                                  options=[{"label": METHOD_LABELS[m], "value": m} for m in METHOD_NAMES],
                                  persistence=True, persistence_type="session")]),
        ], className="g-2"),
        dcc.Graph(id=ids.GRADCAM_FIGURE, config={"displayModeBar": False}),
        dbc.Label("Heatmap opacity", html_for=ids.OPACITY_SLIDER),
        dcc.Slider(id=ids.OPACITY_SLIDER, min=0, max=1, step=0.05, value=0.5,
                   marks={0: "0", 0.5: "0.5", 1: "1"}),
        html.Div(id=ids.FAITHFULNESS, className="small text-muted mt-2"),
    ])


def compare_section() -> html.Section:
    """A second model (compare-dropdown) reads the same digit: its top 3 and its map, beside the first's."""
    static = {"displayModeBar": False}
    return html.Section([
        compare_menu(),
        html.Div(id=ids.COMPARE_PANEL, hidden=True, children=[
            html.H2(id=ids.COMPARE_HEADING, className="h5"),
            html.Div(dbc.Row([dbc.Col(dcc.Graph(id=ids.COMPARE_TOP3, config=static), xs=12, md=5),
                              dbc.Col(dcc.Graph(id=ids.COMPARE_MAP, config=static), xs=12, md=7)], className="g-3"),
                     **{"aria-hidden": "true"}),
            html.P(id=ids.COMPARE_SUMMARY, className="visually-hidden"),
        ]),
    ], className="mt-3")


def layout() -> html.Div:
    return html.Div([*session_stores(), dcc.Store(id=ids.PREDICT_MODEL),
                     dbc.Row([_drawing_column(), _answer_column(), _explanation_column()]),
                     compare_section()])
