"""The not-a-digit detector scoreboard (the report's ``novelty`` section) as a figure, in words and as advice.

Plain dicts, no Dash: the explanations page and the HTML report draw the same things.
"""

from __future__ import annotations

from typing import Any

from models.novelty import DETECTOR_LABELS


def _label(name: str) -> str:
    return DETECTOR_LABELS.get(name, name)


def novelty_figure(section: dict[str, Any], height: int = 360) -> dict[str, Any]:
    """Detectors x kinds: left, the share of each non-digit kind flagged (higher is better); right, the share
    of each digit kind wrongly flagged (lower is better), both at the detector's threshold; AUROC on hover."""
    rows = section["detectors"]
    names = [_label(row["name"]) + (" (used)" if row["name"] == section["detector"] else "") for row in rows]
    others = list(rows[0]["nondigits_flagged"])
    digits = list(rows[0]["digits_flagged"])
    flagged = {"type": "heatmap", "x": others, "y": names, "xaxis": "x", "yaxis": "y",
               "z": [[row["nondigits_flagged"][k] * 100 for k in others] for row in rows],
               "text": [[f"{row['nondigits_flagged'][k]:.0%}" for k in others] for row in rows],
               "texttemplate": "%{text}", "zmin": 0, "zmax": 100, "colorscale": "Viridis", "xgap": 2, "ygap": 2,
               "customdata": [[[row["per_kind"][k], row["per_kind_fpr_at_95_tpr"][k]] for k in others]
                              for row in rows],
               "hovertemplate": "%{y} on %{x}: %{z:.1f} % flagged<br>AUROC %{customdata[0]:.3f}<br>"
                                "taken for digits "
                                "at 95 % TPR: %{customdata[1]:.1%}<extra></extra>",
               "colorbar": {"title": {"text": "non-digits<br>flagged %"}, "thickness": 10, "x": 0.58, "len": 0.9}}
    wrong = {"type": "heatmap", "x": digits, "y": names, "xaxis": "x2", "yaxis": "y",
             "z": [[row["digits_flagged"][k] * 100 for k in digits] for row in rows],
             "text": [[f"{row['digits_flagged'][k]:.1%}" for k in digits] for row in rows],
             "texttemplate": "%{text}", "zmin": 0, "zmax": 10, "colorscale": "Reds", "xgap": 2, "ygap": 2,
             "hovertemplate": "%{y} on %{x}: %{z:.1f} % of these digits wrongly flagged<extra></extra>",
             "colorbar": {"title": {"text": "digits<br>flagged %"}, "thickness": 10, "len": 0.9}}
    return {
        "data": [flagged, wrong],
        "layout": {"height": height, "margin": {"l": 10, "r": 10, "t": 50, "b": 10},
                   "title": {"text": "Share flagged as not a digit, at each detector's threshold",
                             "font": {"size": 13}},
                   "xaxis": {"domain": [0, 0.52], "type": "category", "automargin": True, "tickangle": -35,
                             "title": {"text": "non-digits (higher is better)"}},
                   "xaxis2": {"domain": [0.66, 0.96], "type": "category", "automargin": True, "tickangle": -35,
                              "title": {"text": "digits (lower is better)"}},
                   "yaxis": {"autorange": "reversed", "type": "category", "automargin": True}},
    }


def novelty_text(section: dict[str, Any]) -> str:
    """The scoreboard in sentences, for screen readers and the HTML report."""
    parts = []
    for row in section["detectors"]:
        worst = min(row["nondigits_flagged"], key=row["nondigits_flagged"].get)
        most = max(row["digits_flagged"], key=row["digits_flagged"].get)
        parts.append(f"{_label(row['name'])}: AUROC {row['auroc']:.3f}, {row['fpr_at_95_tpr']:.1%} of non-digits "
                     f"taken for digits at 95 % TPR; flags {row['nondigits_flagged'][worst]:.0%} of {worst} (its "
                     f"weakest non-digit kind) and {row['digits_flagged'][most]:.1%} of {most} digits")
    return "; ".join(parts) + "."
