"""Predict page (/): draw, upload or pick a digit, read the top 3 and the explanation map."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts import ids
from layouts.shell import compare_menu, session_stores
from models.methods import DEFAULT_METHOD, METHOD_LABELS, METHOD_NAMES, METHODS  # the registry: no TensorFlow
from models.preprocess import DEFAULT_PEN_WIDTH

PAGE = {"path": "/", "name": "Predict", "title": "Digit Inspector: predict", "order": 0}

METHOD_HELP = {method.name: f"{method.label}: {method.description}" for method in METHODS}
LAYER_HELP = ("Early layers see strokes, deeper ones see larger parts of the digit (the px is how much of the "
              "input one cell sees).")

# Only what drawing needs: no modebar, no zoom, no double-click autoscale, fixed size.
CANVAS_CONFIG = {"displayModeBar": False, "scrollZoom": False, "doubleClick": False,
                 "showAxisDragHandles": False, "responsive": True, "staticPlot": False}
STATIC = {"displayModeBar": False}


def _hidden_summary(summary_id: str) -> html.P:
    """A chart's text alternative: read by screen readers, not shown."""
    return html.P(id=summary_id, className="visually-hidden")


def _drawing_column() -> dbc.Col:
    return dbc.Col([
        html.H2("Draw a digit or a number", className="h5"),
        html.Div(id=ids.CANVAS_PANEL, children=[
            dcc.Graph(id=ids.CANVAS, config=CANVAS_CONFIG, className="canvas"),
            dbc.Label("Pen width", html_for=ids.PEN_WIDTH, className="mt-2 mb-0 small"),
            html.Div(dcc.Slider(id=ids.PEN_WIDTH, min=8, max=40, step=2, value=DEFAULT_PEN_WIDTH,
                                marks={8: "thin", 40: "thick"}, persistence=True, persistence_type="session"),
                     className="pen-width"),
            dbc.ButtonGroup([
                dbc.Button("Undo stroke", id=ids.UNDO_BUTTON, color="dark", outline=True),
                dbc.Button("Clear", id=ids.CLEAR_BUTTON, color="dark", outline=True),
            ], className="my-2"),
            html.Div(dbc.Switch(id=ids.LIVE_READING, label="Live reading (answers while you draw)", value=True,
                                persistence=True, persistence_type="session", className="small"),
                     id=ids.LIVE_OPTIONS),
        ]),
        html.Div(id=ids.SOURCE_PANEL, hidden=True, className="source-panel", children=[
            html.Img(id=ids.SOURCE_IMAGE, className="source-image"),
            html.Div(id=ids.SOURCE_NAME, className="small text-muted text-break my-1"),
            dbc.Button("Remove", id=ids.REMOVE_BUTTON, color="dark", outline=True, size="sm",
                       title="Remove this image and draw instead"),
        ]),
        dcc.Upload(id=ids.UPLOAD, accept="image/*", multiple=False, className="upload-zone",
                   children=html.Div(["or drop an image here / ", html.A("choose a file", href="#")])),
        html.Div(id=ids.UPLOAD_LIMIT, hidden=True),
    ], xs=12, xl="auto", className="drawing-column")  # the wide canvas has a row of its own below 1200 px


FEEDBACK_LABELS = [{"label": str(digit), "value": str(digit)} for digit in range(10)] + [
    {"label": "not a digit", "value": "not a digit"}]


def feedback_row() -> html.Div:
    """Right / "Wrong, it is ..." below the answer, and the sentence that says what pressing them keeps."""
    return html.Div([
        html.Div([
            dbc.Button("Right", id=ids.FEEDBACK_RIGHT, color="success", outline=True, size="sm", className="me-2"),
            dbc.Label("Wrong, it is", html_for=ids.FEEDBACK_LABEL, className="mb-0 me-2 small"),
            dbc.Select(id=ids.FEEDBACK_LABEL, options=FEEDBACK_LABELS, placeholder="pick…", size="sm",
                       style={"width": "8rem"}),
        ], className="d-flex align-items-center flex-wrap gap-1"),
        html.Div(id=ids.FEEDBACK_KEPT, className="small text-muted mt-1"),
        html.Div(id=ids.FEEDBACK_STATUS, role="status", className="small mt-1"),
        dcc.Store(id=ids.FIELD_RECORD),
    ], className="feedback mb-2")


def _number_panel() -> html.Section:
    """The number read and one card per digit, shown only for several digits. It sits in the answer
    column, beside the canvas (below it on a phone): appearing never moves the canvas under the pen."""
    return html.Section(id=ids.NUMBER_PANEL, hidden=True, className="mb-2", children=[
        html.Div(id=ids.NUMBER_READ, className="number-read", role="status"),
        html.Div(id=ids.DIGIT_STRIP, className="digit-strip",
                 **{"aria-label": "The digits read, left to right: choose one to explain it"}),
    ])


def _answer_column() -> dbc.Col:
    return dbc.Col([
        _number_panel(),
        html.Div("Loading…", id=ids.STATUS, role="status", className="status alert alert-info py-2"),
        dcc.Graph(id=ids.TOP3_CHART, config=STATIC),
        _hidden_summary(ids.TOP3_SUMMARY),
        html.Div(id=ids.NOVELTY_SUMMARY, className="small text-muted mb-2"),
        feedback_row(),
        html.Div([html.Span("Explain digit", className="me-2 small"),
                  dbc.RadioItems(id=ids.EXPLAIN_CLASS, options=[], inline=True, className="explain-class")],
                 role="radiogroup", **{"aria-label": "Digit to explain"}),
        html.Div(id=ids.MODEL_INPUT, className="pixel-map model-input", **{"aria-hidden": "true"}),
        _hidden_summary(ids.MODEL_INPUT_SUMMARY),
    ], xs=12, md=True, xl=3)


def colour_bar() -> html.Div:
    """The map's colour bar (predict.css: callbacks/figures.py OVERLAY_COLORSCALE), 0 at the bottom."""
    return html.Div([html.Div(className="colour-bar-scale"),
                     html.Div([html.Span(tick) for tick in ("1", "0.8", "0.6", "0.4", "0.2", "0")],
                              className="colour-bar-ticks"),
                     html.Div("importance", className="colour-bar-title")], className="colour-bar")


def _explanation_column() -> dbc.Col:
    return dbc.Col([
        dbc.Row([
            dbc.Col([dbc.Label("Layer", html_for=ids.LAYER_DROPDOWN),
                     dcc.Dropdown(id=ids.LAYER_DROPDOWN, clearable=False, searchable=False),
                     dbc.FormText(LAYER_HELP)], xs=12, sm=6, lg=12, xl=6),
            dbc.Col([dbc.Label("Method", html_for=ids.METHOD_DROPDOWN),
                     # Its value is the session's choice or the recommended method (callbacks/predict.py).
                     dcc.Dropdown(id=ids.METHOD_DROPDOWN, clearable=False, searchable=False,
                                  options=[{"label": METHOD_LABELS[m], "value": m, "title": METHOD_HELP[m]}
                                           for m in METHOD_NAMES]),
                     dcc.Store(id=ids.SELECTED_METHOD, storage_type="session"),
                     dbc.FormText(METHOD_HELP[DEFAULT_METHOD], id=ids.METHOD_HELP)], xs=12, sm=6, lg=12, xl=6),
        ], className="g-2"),
        # Above the map, not below its controls: on a laptop screen (and beside the wide canvas) the
        # column's end is below the fold, and the download is what the map is for.
        html.Div(dbc.Button("Download JSON + PNG", id=ids.DOWNLOAD_BUTTON, color="primary", outline=True, size="sm",
                            title="The prediction as JSON and the map as PNG"),
                 className="d-flex justify-content-end mt-2"),
        # The map and, above it while the pen moves, the live map that assets/live.js draws.
        html.Div([html.Div(id=ids.GRADCAM_FIGURE, className="pixel-map", **{"aria-hidden": "true"}),
                  html.Div(className="pixel-map live-map", hidden=True, **{"aria-hidden": "true"}),
                  colour_bar()],
                 id=ids.MAP_STACK, className="map-stack"),
        _hidden_summary(ids.GRADCAM_SUMMARY),
        dbc.Label("Heatmap opacity", html_for=ids.OPACITY_SLIDER),
        dcc.Slider(id=ids.OPACITY_SLIDER, min=0, max=1, step=0.05, value=0.5,
                   marks={0: "0", 0.5: "0.5", 1: "1"}),
        html.Div(id=ids.FAITHFULNESS, className="small text-muted mt-2"),
    ], xs=12, md=True)


def compare_section() -> html.Section:
    """A second model (compare-dropdown) reads the same digit: its top 3 and its map, beside the first's."""
    return html.Section([
        compare_menu(),
        html.Div(id=ids.COMPARE_PANEL, hidden=True, children=[
            html.H2(id=ids.COMPARE_HEADING, className="h5"),
            html.Div(dbc.Row([dbc.Col(dcc.Graph(id=ids.COMPARE_TOP3, config=STATIC), xs=12, md=5),
                              dbc.Col(dcc.Graph(id=ids.COMPARE_MAP, config=STATIC), xs=12, md=7)], className="g-3"),
                     **{"aria-hidden": "true"}),
            html.P(id=ids.COMPARE_SUMMARY, className="visually-hidden"),
        ]),
    ], className="mt-3")


def layout(test: str | None = None, field: str | None = None, **_query: str) -> html.Div:
    """``test`` is N of ``/?test=N``: MNIST test digit N is read instead of the drawing; ``field`` is ID of
    ``/?field=ID``: that field record is read instead."""
    return html.Div([
        dcc.Store(id=ids.REQUESTED_FIELD, data=field),
        dcc.Store(id=ids.FIELD_TOKEN, storage_type="session"),
        *session_stores(),
        dcc.Store(id=ids.STROKES, storage_type="session", data=[]),
        dcc.Store(id=ids.DIGIT_SOURCE, storage_type="session"),
        dcc.Store(id=ids.REQUESTED_TEST, data=test),
        dcc.Store(id=ids.PREDICTION),
        dcc.Store(id=ids.UPLOAD_REFUSED),
        dcc.Download(id=ids.DOWNLOAD_JSON),
        dcc.Download(id=ids.DOWNLOAD_PNG),
        html.H1("Read a handwritten digit or number", className="h4 mb-1"),
        html.P("Draw a digit (or a number), upload a picture of one or pick an example: the network reads it, "
               "and the map shows which pixels made it decide.", className="intro mb-2"),
        html.Div(id=ids.EXAMPLE_DIGITS, className="example-digits mb-3",
                 **{"aria-label": "Example digits from the MNIST test set"}),
        dcc.Store(id=ids.PREDICT_MODEL),
        dcc.Store(id=ids.SELECTED_DIGIT, data=0),
        dbc.Row([_drawing_column(), _answer_column(), _explanation_column()], className="g-3"),
        compare_section(),
    ])
