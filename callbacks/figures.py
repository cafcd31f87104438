"""Figure builders: plain functions from NumPy/report data to ``go.Figure`` (no Dash, no model)."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import cv2
import numpy as np
import plotly.colors
import plotly.graph_objects as go
from PIL import Image
from plotly.subplots import make_subplots

from models.preprocess import CANVAS_SIZE, CANVAS_WIDTH, DEFAULT_PEN_WIDTH

INK = "#1f2933"
ACCENT = "#4582ec"  # the theme's primary blue
MUTED = "#adb5bd"
HEATMAP_COLORSCALE = "Jet"
GREY = [[0.0, "rgb(0,0,0)"], [1.0, "rgb(255,255,255)"]]  # plotly.js knows no "gray" scale (plotly.py does)
# Jet, transparent at zero and fading in over the coldest tenth: where the map is cold the digit
# under it shows as it is, instead of behind a dark blue veil.
OVERLAY_COLORSCALE = [[0.0, "rgba(0,0,131,0)"], [0.1, "rgba(0,60,170,0.85)"], [0.3, "rgb(5,255,255)"],
                      [0.5, "rgb(255,255,0)"], [0.8, "rgb(250,0,0)"], [1.0, "rgb(128,0,0)"]]
# Canvas units are screen pixels (a 280x280 plot area, no margins) and the same units the
# rasteriser reads, so the pen the user sees is the pen the model gets.
PEN = {"color": INK, "width": DEFAULT_PEN_WIDTH}
# The predict page's figures are plain dicts, not go.Figure: plotly's validation costs 8-15 ms a
# figure, and they are rebuilt on every stroke.
HIDDEN_AXIS = {"showticklabels": False, "showgrid": False, "zeroline": False, "ticks": "", "fixedrange": True}
PIXEL_AXES = {"xaxis": {**HIDDEN_AXIS, "constrain": "domain"},
              "yaxis": {**HIDDEN_AXIS, "autorange": "reversed", "scaleanchor": "x", "constrain": "domain"}}


PLOTLY_INK = "#2a3f5f"  # plotly.py's default template's text colour, which go.Figure figures here show
GAP = 255  # feature maps: a cell between tiles (tiles hold percents, 0-100)
# Viridis over the percents, white over the gaps.
FEATURE_COLORSCALE = [*([i / 9 * 100 / GAP, colour] for i, colour in enumerate(plotly.colors.sequential.Viridis)),
                      [101 / GAP, "white"], [1.0, "white"]]
IMPORTANCE_COLORBAR = {"title": {"text": "importance", "side": "right"}, "thickness": 12,
                       "tickvals": [0, 20, 40, 60, 80, 100], "ticktext": ["0", "0.2", "0.4", "0.6", "0.8", "1"]}


def _bare_layout(fig: go.Figure, height: int, title: str | None = None) -> go.Figure:
    top = 40 if title else 10
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": top, "b": 10}, title=title,
                      plot_bgcolor="white", paper_bgcolor="white", showlegend=False)
    return fig


def _bare(height: int, title: str | None = None, **layout: Any) -> dict[str, Any]:
    """The dict layout every predict-page figure starts from: white, no legend, small margins."""
    return {"height": height, "margin": {"l": 10, "r": 10, "t": 40 if title else 10, "b": 10},
            "title": {"text": title or ""}, "plot_bgcolor": "white", "paper_bgcolor": "white",
            "showlegend": False, **layout}


def _pixel_axes(fig: go.Figure) -> go.Figure:
    """Square pixels, row 0 at the top, no ticks: how an image is read."""
    hidden = {"showticklabels": False, "showgrid": False, "zeroline": False, "ticks": "", "fixedrange": True}
    fig.update_xaxes(constrain="domain", **hidden)
    fig.update_yaxes(autorange="reversed", scaleanchor="x", constrain="domain", **hidden)
    return fig


def _typed_array(array: np.ndarray) -> dict[str, str]:
    """A NumPy array as a plotly.js typed array: its bytes in base64, its dtype and shape."""
    dtype = {np.dtype(np.uint8): "u1", np.dtype(np.uint16): "u2"}[array.dtype]
    return {"dtype": dtype, "bdata": base64.b64encode(np.ascontiguousarray(array).tobytes()).decode("ascii"),
            "shape": ", ".join(str(n) for n in array.shape)}


def percent_array(grid: np.ndarray | Sequence[Sequence[float]]) -> dict[str, str]:
    """A grid of values in [0, 1] as whole percents in a plotly.js typed array: one byte a cell, base64.

    A 28x28 grid is 1 kB this way, against ~5 kB as a JSON list of floats, and it is what a stroke's
    answer carries three times. Steps of 1 % are finer than a colour scale shows.
    """
    return _typed_array(np.clip(np.rint(np.asarray(grid, dtype=np.float64) * 100), 0, 100).astype(np.uint8))


def compact_grid(grid: np.ndarray | Sequence[Sequence[float]]) -> list[list[float]]:
    """A grid rounded to 4 decimals, its whole numbers written as such: most of a digit is background,
    and ``0`` is a third of ``0.0`` in JSON. The same numbers for anything that reads them back."""
    rounded = np.asarray(grid, dtype=np.float64).round(4).tolist()
    return [[int(v) if v.is_integer() else v for v in row] for row in rounded]


def message_figure(text: str, height: int = 300) -> dict[str, Any]:
    """An empty figure that says why it is empty."""
    annotation = {"text": text, "showarrow": False, "x": 0.5, "y": 0.5, "xref": "paper", "yref": "paper",
                  "font": {"size": 14, "color": "#6c757d"}}
    return {"data": [], "layout": _bare(height, annotations=[annotation], xaxis={"visible": False},
                                        yaxis={"visible": False})}


def canvas_figure(paths: Sequence[str] = (), pen_width: float = DEFAULT_PEN_WIDTH) -> dict[str, Any]:
    """The drawing canvas: 0-560 across, 0-280 down (room for a short number), pen strokes as SVG path shapes.

    Plotly does not draw here (``dragmode`` off): assets/canvas.js does, and adds each stroke as a
    shape in ``newshape``'s style. Plotly's own drawing makes shapes editable, so a stroke that
    started on old ink grabbed that stroke instead of drawing a new one.
    """
    axis = {"fixedrange": True, "visible": False}
    pen = {**PEN, "width": pen_width}
    # No width or height: the page's stylesheet sizes the canvas (2:1, as wide as a phone allows)
    # and plotly fills it, so the units stay square at any size.
    return {"data": [], "layout": {
        "autosize": True, "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
        "xaxis": {**axis, "range": [0, CANVAS_WIDTH]}, "yaxis": {**axis, "range": [CANVAS_SIZE, 0]},
        "plot_bgcolor": "white", "paper_bgcolor": "white", "showlegend": False, "dragmode": False,
        "hovermode": False, "newshape": {"line": pen, "layer": "below"},
        "shapes": [{"type": "path", "path": path, "line": pen, "layer": "below", "editable": False}
                   for path in paths],
    }}


def top3_figure(top: Sequence[dict[str, Any]], explained: int | None = None, muted: bool = False) -> dict[str, Any]:
    """The three most likely digits as bars; the explained digit is highlighted.

    ``muted`` (the input does not look like a digit): every bar grey and hatched, and the title says
    these are only the closest digits.
    """
    digits = [int(t["digit"]) for t in top]
    probabilities = [float(t["probability"]) for t in top]
    colours = [MUTED if muted else ACCENT if d == explained else MUTED for d in digits]
    marker: dict[str, Any] = {"color": colours}
    if muted:
        marker["pattern"] = {"shape": "/", "fgcolor": "#ffffff", "size": 6}
    bar = {"type": "bar", "x": [str(d) for d in digits], "y": probabilities, "customdata": digits,
           "text": [f"{p:.1%}" for p in probabilities], "textposition": "outside", "cliponaxis": False,
           "marker": marker, "opacity": 0.6 if muted else 1.0,
           "hovertemplate": "digit %{x}: %{y:.2%}<extra></extra>"}
    title = "Not a digit? The closest digits" if muted else "Top 3"
    layout = _bare(260, title, bargap=0.35, hovermode="x",  # a click anywhere in a column picks it
                   xaxis={"type": "category", "title": {"text": "digit (click a bar to explain it)"},
                          "fixedrange": True},
                   yaxis={"range": [0, 1.15], "tickformat": ".0%", "fixedrange": True, "showgrid": True,
                          "gridcolor": "#eee"})
    layout["margin"].update(l=50, b=40)
    return {"data": [bar], "layout": layout}


def model_input_figure(image: np.ndarray | Sequence[Sequence[float]]) -> dict[str, Any]:
    """The 28x28 input exactly as the model saw it (white ink on black), one cell per pixel, in percent."""
    trace = {"type": "heatmap", "z": percent_array(image), "colorscale": GREY, "zmin": 0,
             "zmax": 100, "showscale": False, "xgap": 1, "ygap": 1,
             "hovertemplate": "pixel (%{x}, %{y}): %{z}% ink<extra></extra>"}
    return {"data": [trace], "layout": _bare(300, "What the model saw (28×28)", **PIXEL_AXES)}


def gradcam_figure(image: np.ndarray | Sequence[Sequence[float]], heatmap: np.ndarray | Sequence[Sequence[float]],
                   opacity: float = 0.5, title: str = "Heatmap") -> dict[str, Any]:
    """The explanation map over the 28x28 input, with a colour bar; trace 1 is the map (opacity).

    The map's colour scale is transparent at zero, so the digit stays visible where the map is cold.
    Both grids travel in percent (``percent_array``); the colour bar still reads 0 to 1.
    """
    digit = {"type": "heatmap", "z": percent_array(image), "colorscale": GREY, "zmin": 0,
             "zmax": 100, "showscale": False, "hoverinfo": "skip"}
    overlay = {"type": "heatmap", "z": percent_array(heatmap), "colorscale": OVERLAY_COLORSCALE, "zmin": 0,
               "zmax": 100, "opacity": opacity, "colorbar": IMPORTANCE_COLORBAR,
               "hovertemplate": "pixel (%{x}, %{y}): importance %{z}%<extra></extra>"}
    return {"data": [digit, overlay], "layout": _bare(340, title, **PIXEL_AXES)}


def _colour_table(colorscale: Sequence[Sequence[Any]]) -> np.ndarray:
    """A plotly colour scale as a (101, 4) RGBA uint8 table, one row per whole percent: the colours
    plotly.js interpolates between the stops, looked up instead of drawn by a heatmap trace."""
    stops = np.array([float(stop) for stop, _ in colorscale])
    colours = []
    for _, colour in colorscale:
        channels = [float(v) for v in colour[colour.index("(") + 1:-1].split(",")]
        colours.append(channels[:3] + [channels[3] * 255 if len(channels) == 4 else 255.0])
    colours = np.array(colours)
    percents = np.arange(101) / 100
    table = np.stack([np.interp(percents, stops, colours[:, c]) for c in range(4)], axis=1)
    return np.rint(table).astype(np.uint8)


OVERLAY_TABLE = _colour_table(OVERLAY_COLORSCALE)


def _percents(grid: np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:
    return np.clip(np.rint(np.asarray(grid, dtype=np.float64) * 100), 0, 100).astype(np.uint8)


def _grid_png(pixels: np.ndarray) -> str:
    """A uint8 grid (greyscale, or RGBA in the last axis) as a PNG data URI, one pixel a cell: the
    browser scales it up without smoothing (``image-rendering: pixelated`` in predict.css)."""
    return _png_uri(Image.fromarray(pixels))


def pixel_map(image: np.ndarray | Sequence[Sequence[float]],
              heatmap: np.ndarray | Sequence[Sequence[float]]) -> dict[str, str]:
    """The explanation map as two 28x28 pictures, the digit (white ink on black) and the map over it
    (``OVERLAY_COLORSCALE``, transparent at zero), and the map's whole percents in base64 (hover,
    tests).

    What ``gradcam_figure`` shows, drawn by the browser as two ``<img>`` instead of two heatmap
    traces: a heatmap trace took ~30 ms to draw in the browser, a 28x28 PNG well under 1 ms.
    """
    digit, heat = _percents(image), _percents(heatmap)
    # The overlay as a palette PNG (one byte a cell, the table's colours and opacities): a third
    # of the size of RGBA, the very same pixels.
    overlay = Image.frombytes("P", heat.shape[::-1], heat.tobytes())
    overlay.putpalette(OVERLAY_TABLE[:, :3].tobytes())
    buffer = io.BytesIO()
    overlay.save(buffer, "PNG", transparency=OVERLAY_TABLE[:, 3].tobytes())
    return {"digit": _grid_png(np.rint(digit * 2.55).astype(np.uint8)),
            "overlay": "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii"),
            "grid": base64.b64encode(heat.tobytes()).decode("ascii")}


def input_picture(image: np.ndarray | Sequence[Sequence[float]]) -> str:
    """The 28x28 input as the model saw it (white ink on black), a PNG data URI in whole percents of ink."""
    return _grid_png(np.rint(_percents(image) * 2.55).astype(np.uint8))


def top3_summary(top: Sequence[dict[str, Any]]) -> str:
    """The top-3 chart in words, for screen readers."""
    return "Top 3: " + ", ".join(f"{int(t['digit'])} ({float(t['probability']):.0%})" for t in top) + "."


def heatmap_summary(heatmap: np.ndarray | Sequence[Sequence[float]], title: str) -> str:
    """The explanation map in words: where it is hottest and how much of the image it covers."""
    heat = np.asarray(heatmap, dtype=np.float64)
    if heat.max() <= 0:
        return f"{title}: the map is empty."
    row, column = np.unravel_index(int(heat.argmax()), heat.shape)
    vertical = ("top", "middle", "bottom")[min(2, row * 3 // heat.shape[0])]
    horizontal = ("left", "centre", "right")[min(2, column * 3 // heat.shape[1])]
    share = float((heat >= 0.5).mean())
    return (f"{title}: hottest at the {vertical} {horizontal} (row {row}, column {column}); "
            f"{share:.0%} of the pixels are above half.")


def digit_png(image: np.ndarray | Sequence[Sequence[float]], scale: int = 4) -> str:
    """A 28x28 input in [0, 1] as a small PNG (data URI), dark ink on white as it is drawn."""
    grey = np.clip(np.asarray(image, dtype=np.float32), 0.0, 1.0)
    pixels = np.uint8((1.0 - grey) * 255).repeat(scale, axis=0).repeat(scale, axis=1)
    return _png_uri(Image.fromarray(pixels))


def confusion_matrix_figure(matrix: Sequence[Sequence[int]]) -> go.Figure:
    """Counts, rows = true digit, columns = predicted; correct answers blue, mistakes red, empty cells grey.

    Colour follows log(1 + count) so that a handful of mistakes shows next to ~1000 hits. Empty
    cells are faint squares rather than gaps: plotly reports no click on a gap, and a click on an
    empty cell should say that it is empty.
    """
    counts = np.asarray(matrix, dtype=np.int64)
    digits = list(range(len(counts)))
    diagonal = np.eye(len(counts), dtype=bool)
    shade = np.log10(1.0 + counts)
    empty_cell = "#f1f3f5"
    traces = []
    for cells, colorscale in ((diagonal, "Blues"), (~diagonal & (counts > 0), "Reds"),
                              (~diagonal & (counts == 0), [[0, empty_cell], [1, empty_cell]])):
        z = np.where(cells, shade, np.nan)
        text = np.where(cells & (counts > 0), counts.astype(str), "")
        traces.append(go.Heatmap(
            z=z, x=digits, y=digits, text=text, texttemplate="%{text}", customdata=counts,
            colorscale=colorscale, zmin=0, zmax=max(1.0, float(shade.max())), showscale=False,
            xgap=2, ygap=2, hoverongaps=False,
            hovertemplate="true %{y}, read as %{x}: %{customdata} digits<extra></extra>",
        ))
    fig = go.Figure(traces)
    square = {"range": [-0.5, len(counts) - 0.5], "dtick": 1, "constrain": "domain", "fixedrange": True,
              "showgrid": False, "zeroline": False}
    fig.update_xaxes(title="predicted digit", side="top", **square)
    fig.update_yaxes(title="true digit", scaleanchor="x", **square)
    fig.update_yaxes(range=[len(counts) - 0.5, -0.5])  # true 0 at the top
    fig = _bare_layout(fig, 470, None)
    fig.update_layout(margin={"l": 60, "t": 60, "b": 10})
    return fig


def reliability_figure(calibration: dict[str, Any]) -> go.Figure:
    """Reliability diagram (accuracy per confidence bin vs. the diagonal) over a confidence histogram."""
    bins = calibration["bins"]
    centres = [(b["lower"] + b["upper"]) / 2 for b in bins]
    width = bins[0]["upper"] - bins[0]["lower"]
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.68, 0.32], vertical_spacing=0.08)
    fig.add_trace(go.Bar(x=centres, y=[b["accuracy"] for b in bins], width=width * 0.95, marker_color=ACCENT,
                         name="accuracy", hovertemplate="confidence %{x:.2f}: accuracy %{y:.2%}<extra></extra>"),
                  row=1, col=1)
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line={"dash": "dash", "color": INK},
                             name="perfect calibration", hoverinfo="skip"), row=1, col=1)
    fig.add_trace(go.Bar(x=centres, y=[b["count"] for b in bins], width=width * 0.95, marker_color=MUTED,
                         name="digits", hovertemplate="confidence %{x:.2f}: %{y} digits<extra></extra>"),
                  row=2, col=1)
    fig.update_xaxes(range=[0, 1], fixedrange=True)
    fig.update_xaxes(title="confidence (top-1 probability)", row=2, col=1)
    fig.update_yaxes(range=[0, 1], title="accuracy", tickformat=".0%", fixedrange=True, row=1, col=1)
    fig.update_yaxes(type="log", title="digits", fixedrange=True, row=2, col=1)
    fig = _bare_layout(fig, 420, f"Reliability diagram (ECE {calibration['ece']:.2%})")
    fig.update_layout(margin={"l": 60, "b": 40})
    return fig


def feature_maps_figure(maps: np.ndarray, layer: str, columns: int = 16) -> dict[str, Any]:
    """A grid of a layer's channels (h, w, K), each scaled to its own maximum, in one heatmap.

    The mosaic travels as whole percents, one byte a cell (``percent_array``), and so does each
    cell's channel for the hover: the float mosaic with NaN gaps was ~200 kB a digit. The gaps
    between tiles are the value 255, drawn white by the colour scale; a gap's hover names the
    channel on its left or above.
    """
    maps = np.asarray(maps, dtype=np.float64)
    h, w, k = maps.shape
    columns = min(columns, k)
    rows = -(-k // columns)
    peaks = maps.reshape(-1, k).max(axis=0)
    scaled = np.where(peaks > 0, maps / np.where(peaks > 0, peaks, 1.0), 0.0)
    tiles = np.full((rows * columns, h + 1, w + 1), GAP, dtype=np.uint8)
    tiles[:k, :h, :w] = np.rint(np.clip(scaled, 0, 1) * 100).astype(np.uint8).transpose(2, 0, 1)
    mosaic = tiles.reshape(rows, columns, h + 1, w + 1).transpose(0, 2, 1, 3).reshape(rows * (h + 1), -1)[:-1, :-1]
    channel = (np.arange(mosaic.shape[0])[:, None] // (h + 1)) * columns + np.arange(mosaic.shape[1]) // (w + 1)
    trace = {"type": "heatmap", "z": _typed_array(mosaic),
             "customdata": _typed_array(channel.astype(np.uint8 if k <= 256 else np.uint16)),
             "colorscale": FEATURE_COLORSCALE, "zmin": 0, "zmax": GAP, "showscale": False,
             "hovertemplate": "channel %{customdata}<extra></extra>"}
    title = f"{layer}: {k} channels of {h}×{w}, each scaled to its own maximum"
    layout = _bare(80 + 70 * rows, title, font={"color": PLOTLY_INK}, **PIXEL_AXES)
    layout["title"]["x"] = 0.05  # where plotly.py's default template put it, as this figure has always been
    return {"data": [trace], "layout": layout}


@lru_cache(maxsize=1)
def jet_colours() -> np.ndarray:
    """OpenCV's Jet as a (256, 3) RGB table in [0, 1].

    Looked up, not applied: ``cv2.applyColorMap`` builds its table on every call, ~6 ms each,
    which was 85 % of the evaluation gallery's 30 cards.
    """
    bgr = cv2.applyColorMap(np.arange(256, dtype=np.uint8)[:, None], cv2.COLORMAP_JET)[:, 0]
    return bgr[:, ::-1].astype(np.float32) / 255.0  # OpenCV's colours are BGR


def heatmap_overlay_png(image: np.ndarray, heatmap: np.ndarray, opacity: float = 0.8, scale: int = 3) -> str:
    """A small PNG (data URI) of a 28x28 digit with its heatmap blended over it, for galleries.

    A gallery of dozens of digits as ``<img>`` tags is far lighter in the browser than as many graphs.
    """
    return _png_uri(heatmap_overlay_picture(image, heatmap, opacity, scale))


def heatmap_overlay_picture(image: np.ndarray, heatmap: np.ndarray, opacity: float = 0.8,
                            scale: int = 3) -> Image.Image:
    """A 28x28 digit with its heatmap blended over it, each pixel ``scale`` x ``scale``.

    Each pixel's colour weighs as much as its importance, so the digit stays readable where the
    map is cold.
    """
    grey = np.asarray(image, dtype=np.float32)
    if grey.max() > 1.0:
        grey = grey / 255.0
    heat = np.clip(np.asarray(heatmap, dtype=np.float32), 0.0, 1.0)
    colour = jet_colours()[np.uint8(heat * 255)]
    alpha = opacity * heat[..., None]
    blend = (1.0 - alpha) * grey[..., None] + alpha * colour
    pixels = np.uint8(np.clip(blend, 0.0, 1.0) * 255).repeat(scale, axis=0).repeat(scale, axis=1)
    return Image.fromarray(pixels)


def png_bytes(picture: Image.Image) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    return buffer.getvalue()


def _png_uri(picture: Image.Image) -> str:
    return "data:image/png;base64," + base64.b64encode(png_bytes(picture)).decode("ascii")


def robustness_figure(sections: Sequence[tuple[str, dict[str, Any]]], height: int = 460) -> dict[str, Any]:
    """Accuracy per MNIST-C corruption, one horizontal bar per corruption and model (a plain dict).

    ``sections`` are (model name, report ``robustness`` section) pairs: one model, or two side by
    side when comparing. Each bar's customdata is [model name, corruption], which a click reads.
    """
    colours = (ACCENT, "#f0ad4e")
    data = []
    for (name, section), colour in zip(sections, colours, strict=False):
        rows = section["corruptions"]
        data.append({
            "type": "bar", "orientation": "h", "name": f"{name} (mean {section['mean_accuracy']:.1%})",
            "y": [row["name"] for row in rows], "x": [row["accuracy"] for row in rows],
            "customdata": [[name, row["name"]] for row in rows], "marker": {"color": colour},
            "text": [f"{row['accuracy']:.1%}" for row in rows],
            "hovertemplate": "%{y}: %{x:.1%} read right<extra>" + name + "</extra>",
            # Two models' bars are too thin to print on: their numbers are in the hover and the summary.
            "textposition": "auto" if len(sections) == 1 else "none",
        })
    return {"data": data, "layout": _bare(
        height, barmode="group", showlegend=len(data) > 1, legend={"orientation": "h", "y": -0.15},
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis={"range": [0, 1], "tickformat": ".0%", "fixedrange": True, "title": {"text": "accuracy"},
               "automargin": True},
        yaxis={"autorange": "reversed", "fixedrange": True, "automargin": True})}


def robustness_summary(sections: Sequence[tuple[str, dict[str, Any]]]) -> str:
    """The robustness chart in words: each model's mean, weakest corruption and every accuracy."""
    parts = []
    for name, section in sections:
        rows = section["corruptions"]
        weakest = min(rows, key=lambda row: row["accuracy"])
        every = "; ".join(f"{row['name']} {row['accuracy']:.1%}" for row in rows)
        parts.append(f"{name}: mean accuracy {section['mean_accuracy']:.1%} over {len(rows)} MNIST-C corruptions, "
                     f"weakest {weakest['name']} ({weakest['accuracy']:.1%}). {every}.")
    return " ".join(parts)
