"""Layers page (/layers): the conv layers; picking one makes it the explanation target."""

from __future__ import annotations

from dash import dash_table, dcc, html

from layouts import ids
from layouts.shell import described_graph, session_stores

PAGE = {"path": "/layers", "name": "Layers", "title": "Digit Inspector: layers", "order": 1}

COLUMNS = [
    {"id": "name", "name": "layer"},
    {"id": "type", "name": "type"},
    {"id": "output_shape", "name": "output shape (h × w × channels)"},
    {"id": "params", "name": "parameters"},
    {"id": "kernel", "name": "kernel"},
    {"id": "receptive_field", "name": "receptive field"},
]


def layout() -> html.Div:
    return html.Div([
        *session_stores(),
        html.H1("Convolution layers", className="h4"),
        html.P("Click a row to make that layer the Grad-CAM target: the Predict page's layer menu follows. "
               "Early layers see small patches (edges, stroke ends); the last one sees most of the digit.",
               className="text-muted"),
        dash_table.DataTable(
            id=ids.LAYERS_TABLE, columns=COLUMNS, data=[], cell_selectable=True,
            style_as_list_view=True,
            # On a phone the table scrolls inside its own box, never the page, and headers wrap.
            style_table={"overflowX": "auto"},
            style_header={"fontWeight": "bold", "backgroundColor": "#f8f9fa", "whiteSpace": "normal",
                          "height": "auto"},
            style_cell={"textAlign": "left", "padding": "8px", "cursor": "pointer",
                        "fontFamily": "var(--bs-body-font-family)"},
        ),
        html.H2("Feature maps", className="h5 mt-4"),
        html.P("The selected layer's activations for the digit last read on the Predict page.",
               className="text-muted"),
        described_graph(dcc.Graph(id=ids.FEATURE_MAPS, config={"displayModeBar": False}), ids.FEATURE_MAPS_SUMMARY),
    ])
