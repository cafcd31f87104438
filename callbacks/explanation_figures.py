"""Figures of the explanations page, as plain dicts (no go.Figure validation), and their text alternatives.

Each takes the report's ``explanations`` section (``models.scoreboard``) and nothing else, so the
HTML report draws the same figures.
"""

from __future__ import annotations

from typing import Any

from models.methods import METHOD_LABELS, METHOD_NAMES
from models.scoreboard import SANITY_THRESHOLD, faithfulness_score, method_at, passes_sanity, trusted

INPUT_COLUMN = "input (pixel-level)"  # the grid's column for methods that need no layer


def _layers(section: dict[str, Any]) -> list[str]:
    seen: list[str] = []
    for row in section["rows"]:
        if row["layer"] and row["layer"] not in seen:
            seen.append(row["layer"])
    return seen


def _methods(section: dict[str, Any]) -> list[str]:
    present = {row["method"] for row in section["rows"]}
    return [m for m in METHOD_NAMES if m in present] + sorted(present - set(METHOD_NAMES))


def scoreboard_figure(section: dict[str, Any], height: int = 420) -> dict[str, Any]:
    """Methods x layers, each cell coloured by insertion minus deletion AUC; the raw numbers on hover.

    A cell's text is its score, with a check mark when it passes the sanity check and is rarely empty.
    """
    layers, methods = _layers(section), _methods(section)
    columns = [*layers, INPUT_COLUMN]
    by_cell = {(row["method"], row["layer"] or INPUT_COLUMN): row for row in section["rows"]}
    z, text, custom = [], [], []
    for method in methods:
        cells = [by_cell.get((method, column)) for column in columns]
        z.append([round(faithfulness_score(row), 4) if row else None for row in cells])
        text.append([f"{faithfulness_score(row):.2f}{' ✓' if trusted(row) else ''}" if row else "" for row in cells])
        custom.append([[row["deletion_auc"], row["insertion_auc"], row["empty_rate"] * 100,
                        row["sanity_rank_correlation"] if row["sanity_rank_correlation"] is not None else float("nan"),
                        row["ms"]] if row else [None] * 5 for row in cells])
    hover = ("%{y} at %{x}<br>insertion - deletion AUC %{z:.3f}<br>deletion AUC %{customdata[0]:.3f} (lower is "
             "better)<br>insertion AUC %{customdata[1]:.3f} (higher is better)<br>empty for %{customdata[2]:.1f} % "
             "of digits<br>sanity rank correlation %{customdata[3]:.2f} (below "
             f"{SANITY_THRESHOLD} passes)<br>%{{customdata[4]:.1f}} ms per digit<extra></extra>")
    return {
        "data": [{"type": "heatmap", "z": z, "x": columns, "y": [METHOD_LABELS.get(m, m) for m in methods],
                  "text": text, "texttemplate": "%{text}", "customdata": custom, "hovertemplate": hover,
                  "colorscale": "Viridis", "xgap": 2, "ygap": 2,
                  "colorbar": {"title": {"text": "insertion −<br>deletion<br>AUC"}, "thickness": 12}}],
        "layout": {"height": height, "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
                   "title": {"text": "✓: passes the sanity check, rarely empty", "font": {"size": 13}},
                   "xaxis": {"type": "category", "automargin": True},
                   "yaxis": {"autorange": "reversed", "type": "category", "automargin": True}},
    }


def sanity_figure(section: dict[str, Any], height: int = 380) -> dict[str, Any]:
    """One line per method: rank correlation of its maps as the weights are randomised from the logits
    down to each layer (left to right: more of the network random). A class-activation method is
    read at the layer randomised down to; a pixel-level method at the input."""
    order = list(reversed(_layers(section)))
    traces = []
    for method in _methods(section):
        points = {s["layer"]: s["rank_correlation"] for s in section.get("sanity", []) if s["method"] == method}
        traces.append({"type": "scatter", "mode": "lines+markers", "name": METHOD_LABELS.get(method, method),
                       "x": [f"down to {layer}" for layer in order], "y": [points.get(layer) for layer in order],
                       "hovertemplate": "%{y:.2f}<extra>%{fullData.name}</extra>"})
    threshold = {"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": SANITY_THRESHOLD, "y1": SANITY_THRESHOLD,
                 "line": {"dash": "dot", "color": "gray"}}
    return {
        "data": traces,
        "layout": {"height": height, "margin": {"l": 10, "r": 10, "t": 40, "b": 10}, "shapes": [threshold],
                   "title": {"text": "Lower is better: the map depends on the learned weights", "font": {"size": 13}},
                   "legend": {"orientation": "h", "y": -0.3},
                   "xaxis": {"title": {"text": "weights randomised from the logits"}, "type": "category",
                             "automargin": True},
                   "yaxis": {"title": {"text": "rank correlation"}, "range": [-0.2, 1.05], "automargin": True}},
    }


def scoreboard_text(section: dict[str, Any]) -> str:
    """The grid as sentences, for screen readers and the HTML report."""
    rows = sorted(section["rows"], key=lambda row: -faithfulness_score(row))
    parts = [f"{method_at(row['method'], row['layer'])}: {faithfulness_score(row):.2f} (deletion "
             f"{row['deletion_auc']:.2f}, insertion {row['insertion_auc']:.2f}, empty {row['empty_rate']:.0%}, "
             f"sanity {_number(row['sanity_rank_correlation'])}, {row['ms']:.1f} ms)" for row in rows]
    return (f"Insertion minus deletion AUC over {section['digits']} test digits, most faithful first: "
            + "; ".join(parts) + ".")


def sanity_text(section: dict[str, Any]) -> str:
    passing = [method_at(row["method"], row["layer"]) for row in section["rows"] if passes_sanity(row)]
    failing = [method_at(row["method"], row["layer"]) for row in section["rows"] if not passes_sanity(row)]
    return (f"Rank correlation below {SANITY_THRESHOLD} once the weights are randomised (passes): "
            f"{', '.join(passing) or 'none'}. At or above it (fails): {', '.join(failing) or 'none'}.")


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def method_options(section: dict[str, Any] | None, layer: str | None) -> list[dict[str, Any]]:
    """The predict page's method menu with each option's score at ``layer`` (pixel-level ones: at the input).

    "Layer-CAM · 0.61 ✓" reads as in the scoreboard; without a scoreboard the plain labels.
    """
    rows = {(row["method"], row["layer"]): row for row in (section or {}).get("rows", [])}
    options = []
    for method in METHOD_NAMES:
        row = rows.get((method, layer)) or rows.get((method, None))
        label = METHOD_LABELS[method]
        if row:
            label += f" · {faithfulness_score(row):.2f}{' ✓' if trusted(row) else ''}"
        options.append({"label": label, "value": method})
    return options
