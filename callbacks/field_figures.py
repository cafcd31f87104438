"""Figures of the field page, as plain functions (no Dash, no database): unit-testable."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

MUTED = "#6c757d"
FIELD_COLOUR = "#2c5fb4"
MNIST_COLOUR = "#adb5bd"


def _layout(fig: go.Figure, height: int) -> go.Figure:
    fig.update_layout(height=height, margin={"l": 50, "r": 10, "t": 30, "b": 40}, plot_bgcolor="white",
                      paper_bgcolor="white", legend={"orientation": "h", "y": -0.2})
    return fig


def empty_figure(text: str, height: int = 260) -> dict[str, Any]:
    return {"data": [], "layout": {"height": height, "xaxis": {"visible": False}, "yaxis": {"visible": False},
                                   "annotations": [{"text": text, "showarrow": False, "font": {"color": MUTED}}],
                                   "margin": {"l": 10, "r": 10, "t": 10, "b": 10}}}


def field_confusion_figure(matrix: Sequence[Sequence[int]], labels: Sequence[str]) -> go.Figure:
    """11x11 counts, rows = the person's label, columns = the model's answer; right blue, wrong red.

    Empty cells are faint squares, not gaps, so that a click on one is reported (and says it is empty).
    """
    counts = np.asarray(matrix, dtype=np.int64)
    names = ["none" if label == "not a digit" else label for label in labels]
    diagonal = np.eye(len(counts), dtype=bool)
    shade = np.log10(1.0 + counts)
    traces = []
    for cells, colours in ((diagonal, "Blues"), (~diagonal & (counts > 0), "Reds"),
                           (~diagonal & (counts == 0), [[0, "#f1f3f5"], [1, "#f1f3f5"]])):
        traces.append(go.Heatmap(
            z=np.where(cells, shade, np.nan), x=names, y=names, customdata=counts,
            text=np.where(cells & (counts > 0), counts.astype(str), ""), texttemplate="%{text}",
            colorscale=colours, zmin=0, zmax=max(1.0, float(shade.max())), showscale=False, xgap=2, ygap=2,
            hoverongaps=False, hovertemplate="said %{y}, read as %{x}: %{customdata}<extra></extra>"))
    fig = go.Figure(traces)
    axis = {"type": "category", "fixedrange": True, "showgrid": False}
    fig.update_xaxes(title="model's answer (none: not a digit)", side="top", **axis)
    fig.update_yaxes(title="person's label", autorange="reversed", scaleanchor="x", **axis)
    fig = _layout(fig, 480)
    fig.update_layout(margin={"l": 60, "t": 70, "b": 10})
    return fig


def confusion_summary(matrix: Sequence[Sequence[int]], labels: Sequence[str]) -> str:
    counts = np.asarray(matrix, dtype=np.int64)
    wrong = counts.copy()
    np.fill_diagonal(wrong, 0)
    text = f"{int(counts.sum()):,} labelled field digits, {int(np.trace(counts)):,} read right"
    if not wrong.any():
        return text + "."
    cells = sorted(zip(*np.nonzero(wrong), strict=True), key=lambda cell: -wrong[cell])[:3]
    return text + ". Commonest mistakes: " + "; ".join(
        f"{labels[t]} read as {labels[r]} ({wrong[t, r]})" for t, r in cells) + "."


def activity_figure(rows: Sequence[dict[str, Any]]) -> go.Figure | dict[str, Any]:
    """Records (bars) and labelled records (lines) per day, one colour per model."""
    if not rows:
        return empty_figure("No records yet")
    fig = go.Figure()
    for model in sorted({row["model"] for row in rows}):
        mine = [row for row in rows if row["model"] == model]
        days = [row["day"] for row in mine]
        fig.add_bar(x=days, y=[row["records"] for row in mine], name=f"{model}: records", opacity=0.6)
        fig.add_scatter(x=days, y=[row["labeled"] for row in mine], name=f"{model}: labelled", mode="lines+markers")
    fig.update_xaxes(type="date")
    fig.update_yaxes(title="records", rangemode="tozero")
    fig.update_layout(barmode="group")
    return _layout(fig, 280)


class NoveltyHistograms(NamedTuple):
    """Novelty scores in equal bins over [low, high] (the edge bins hold what lies beyond)."""

    field: np.ndarray | None  # counts of the field records that carry a score; None when none does
    mnist: np.ndarray | None  # counts of the MNIST test digits, scored by the model's detector
    low: float
    high: float
    threshold: float | None  # above it, the model says "not a digit"
    detector: str | None


def distributions_figure(field_confidence: np.ndarray, mnist_confidence: np.ndarray,
                         novelty: NoveltyHistograms | None, bins: int) -> go.Figure:
    """Left: the top-1 probability of field digits against the MNIST test digits (share per bin).
    Right: their novelty scores, with the model's threshold as a dashed line."""
    title = "novelty score" + (f" ({novelty.detector})" if novelty and novelty.detector else "")
    fig = make_subplots(rows=1, cols=2, subplot_titles=("confidence (top-1 probability)", title))
    centres = (np.arange(bins) + 0.5) / bins
    for counts, name, colour in ((field_confidence, "field digits", FIELD_COLOUR),
                                 (mnist_confidence, "MNIST test digits", MNIST_COLOUR)):
        share = counts / max(1, counts.sum())
        fig.add_bar(x=centres, y=share, name=name, marker_color=colour, legendgroup=name, row=1, col=1)
    if novelty is not None:
        width = (novelty.high - novelty.low) / bins or 1.0
        novelty_centres = novelty.low + (np.arange(bins) + 0.5) * width
        for counts, name, colour in ((novelty.field, "field digits", FIELD_COLOUR),
                                     (novelty.mnist, "MNIST test digits", MNIST_COLOUR)):
            if counts is not None:
                fig.add_bar(x=novelty_centres, y=counts / max(1, counts.sum()), name=name, marker_color=colour,
                            legendgroup=name, showlegend=False, row=1, col=2)
        if novelty.threshold is not None:
            fig.add_vline(x=novelty.threshold, line_dash="dash", line_color="#c92a2a", row=1, col=2,
                          annotation_text="threshold", annotation_position="top right")
    if novelty is None or novelty.field is None:
        fig.add_annotation(text="no field record carries a novelty score", showarrow=False, xref="x2 domain",
                           yref="y2 domain", x=0.5, y=0.9, font={"color": MUTED})
    fig.update_yaxes(title="share of digits", row=1, col=1)
    fig.update_layout(barmode="overlay")
    fig.update_traces(opacity=0.75, selector={"type": "bar"})
    return _layout(fig, 300)


def drift_figure(weeks: Sequence[dict[str, Any]], model: str) -> go.Figure | dict[str, Any]:
    """MMD² per week (line) with its permutation p-value in the hover and as marker colour."""
    if not weeks:
        return empty_figure("No field digits in these days")
    fig = go.Figure(go.Scatter(
        x=[w["week"] for w in weeks], y=[w["mmd2"] for w in weeks], mode="lines+markers",
        customdata=[[w["p_value"], w["digits"]] for w in weeks],
        marker={"size": 10, "color": ["#c92a2a" if w["p_value"] < 0.05 else FIELD_COLOUR for w in weeks]},
        hovertemplate="week of %{x}: MMD² %{y:.4f}, p = %{customdata[0]:.3f} (%{customdata[1]} digits)<extra></extra>",
        name="MMD²"))
    fig.update_xaxes(type="date", title="week (Monday)")
    fig.update_yaxes(title=f"MMD² to MNIST ({model} features)", rangemode="tozero")
    return _layout(fig, 280)
