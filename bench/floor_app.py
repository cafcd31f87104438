"""The floor of pen-up -> map: a bare Dash page that does nothing but the round trip.

Its canvas is the predict page's (the same ``assets/canvas.js`` writes the ``strokes`` store on
pen-up), and one callback answers an already computed 28x28 heatmap figure of the predict page's
map size: no model, no rasterising, nothing else on the page. Served like the app
(``gunicorn bench.floor_app:server``), it is what ``bench.browser_bench`` times the predict page
against.
"""

from __future__ import annotations

from pathlib import Path

import dash
import numpy as np
from dash import Input, Output, dcc, html

from callbacks.figures import (
    IMPORTANCE_COLORBAR,
    OVERLAY_COLORSCALE,
    PIXEL_AXES,
    _bare,
    canvas_figure,
    message_figure,
    percent_array,
)

ASSETS = Path(__file__).resolve().parents[1] / "dashapp" / "assets"


def heatmap_figures(count: int = 8, seed: int = 0) -> list[dict]:
    """``count`` different 28x28 heatmap figures, so that each stroke's answer is drawn anew."""
    rng = np.random.default_rng(seed)
    figures = []
    for i in range(count):
        heat = rng.random((28, 28)) ** 3
        trace = {"type": "heatmap", "z": percent_array(heat), "colorscale": OVERLAY_COLORSCALE, "zmin": 0,
                 "zmax": 100, "colorbar": IMPORTANCE_COLORBAR,
                 "hovertemplate": "pixel (%{x}, %{y}): importance %{z}%<extra></extra>"}
        figures.append({"data": [trace], "layout": _bare(340, f"Floor map {i}", **PIXEL_AXES)})
    return figures


FIGURES = heatmap_figures()

app = dash.Dash(__name__, assets_folder=str(ASSETS), title="Floor")
app.layout = html.Div([
    dcc.Store(id="strokes", data=[]),
    dcc.Graph(id="canvas", figure=canvas_figure(), config={"displayModeBar": False, "responsive": False}),
    html.Button("Clear", id="clear-button"),
    html.Div("Draw a digit", id="status"),
    dcc.Graph(id="gradcam-figure", config={"displayModeBar": False}),
])
server = app.server
server.add_url_rule("/api/health", "health", lambda: {"status": "ok"})  # what bench.loadtools waits for


@app.callback(Output("gradcam-figure", "figure"), Input("strokes", "data"), prevent_initial_call=True)
def answer(strokes: list[str]) -> dict:
    if not strokes:
        return message_figure("No heatmap yet", 340)  # as the predict page after a clear
    return FIGURES[sum(map(len, strokes)) % len(FIGURES)]


@app.callback(Output("canvas", "figure"), Output("strokes", "data"), Input("clear-button", "n_clicks"),
              prevent_initial_call=True)
def clear(_clicks: int) -> tuple[dict, list]:
    return canvas_figure(), []
