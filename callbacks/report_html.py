"""The evaluation report as one self-contained HTML file, readable offline (no Dash needed).

Figures are Plotly charts drawn by the plotly.js bundle inlined once in the file (about 4.6 MB);
the digits are PNG data URIs. Nothing is fetched from a network when the file is opened.
"""

from __future__ import annotations

import datetime
import html
import json
from collections.abc import Sequence
from typing import Any

import plotly.io as pio
from plotly.offline import get_plotlyjs

from callbacks.explanation_figures import sanity_figure, sanity_text, scoreboard_figure, scoreboard_text
from callbacks.figures import confusion_matrix_figure, reliability_figure
from callbacks.novelty_figures import novelty_figure, novelty_text
from models.novelty import novelty_sentences
from models.scoreboard import recommendation_sentences

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2rem auto; padding: 0 1rem; color: #222; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border: 1px solid #ccc; padding: .25rem .6rem; text-align: right; }
.note { color: #555; font-size: .9rem; }
.samples { display: flex; flex-wrap: wrap; gap: .75rem; }
figure { margin: 0; width: 140px; font-size: .8rem; }
figure img { width: 140px; height: 140px; image-rendering: pixelated; }
"""


def _figure(figure: Any, alt: str) -> str:
    """A chart div drawn by the inlined plotly.js, with its text alternative under it."""
    chart = pio.to_html(figure, include_plotlyjs=False, full_html=False, config={"displayModeBar": False})
    return f'<div role="img" aria-label="{html.escape(alt)}">{chart}</div><p class="note">{html.escape(alt)}</p>'


def _metrics_table(report: dict[str, Any]) -> str:
    head = "<tr><th>digit</th><th>precision</th><th>recall</th><th>F1</th><th>test digits</th></tr>"
    rows = "".join(f"<tr><td>{r['digit']}</td><td>{r['precision']:.2%}</td><td>{r['recall']:.2%}</td>"
                   f"<td>{r['f1']:.2%}</td><td>{r['support']:,}</td></tr>" for r in report["classes"])
    return f"<table>{head}{rows}</table>"


def _robustness_figure(robustness: dict[str, Any]) -> dict[str, Any]:
    corruptions = robustness["corruptions"]
    return {"data": [{"type": "bar", "x": [c["name"] for c in corruptions], "y": [c["accuracy"] for c in corruptions],
                      "hovertemplate": "%{x}: %{y:.1%}<extra></extra>"}],
            "layout": {"height": 360, "yaxis": {"title": {"text": "accuracy"}, "tickformat": ".0%", "range": [0, 1]},
                       "title": {"text": f"MNIST-C: mean accuracy {robustness['mean_accuracy']:.1%}"}}}


def _mistakes(samples: Sequence[tuple[dict[str, Any], str]], explained_with: str) -> str:
    cards = "".join(
        f'<figure><img src="{png}" alt="test digit {s["index"]}, a {s["true"]} read as {s["predicted"]}">'
        f'<figcaption>#{s["index"]}: a {s["true"]} read as {s["predicted"]} ({s["confidence"]:.0%})</figcaption>'
        "</figure>" for s, png in samples)
    return f'<p class="note">{html.escape(explained_with)}</p><div class="samples">{cards}</div>'


def report_html(report: dict[str, Any], mistakes: Sequence[tuple[dict[str, Any], str]] = (),
                explained_with: str = "", generated: datetime.datetime | None = None) -> str:
    """The whole report as one HTML page.

    ``mistakes`` are (a report ``misclassified`` entry, its digit with the map over it as a PNG data
    URI); ``explained_with`` says which method and layer drew those maps.
    """
    name = html.escape(str(report.get("model", "model")))
    generated = generated or datetime.datetime.now(datetime.UTC)
    sections = [f"<h1>Digit Inspector: evaluation report of {name}</h1>",
                f'<p class="note">Written {generated:%Y-%m-%d %H:%M} UTC from the model\'s evaluation report.</p>',
                "<h2>Metrics</h2>",
                f"<p>Test accuracy <strong>{report['test_accuracy']:.2%}</strong> of {report['test_size']:,} "
                "MNIST test digits"
                + (f"; expected calibration error {report['calibration']['ece']:.2%}" if "calibration" in report
                   else "") + ".</p>",
                _metrics_table(report),
                "<h2>Confusion matrix</h2>",
                _figure(confusion_matrix_figure(report["confusion_matrix"]),
                        "Rows: the true digit; columns: the digit the model read; each cell counts test digits.")]
    if "calibration" in report:
        sections += ["<h2>Calibration</h2>",
                     _figure(reliability_figure(report["calibration"]),
                             "Accuracy against confidence in ten bins; on the diagonal the confidence is honest.")]
    if "robustness" in report:
        robustness = report["robustness"]
        sections += ["<h2>Robustness</h2>",
                     _figure(_robustness_figure(robustness), "Accuracy on each MNIST-C corruption: " + ", ".join(
                         f"{c['name']} {c['accuracy']:.1%}" for c in robustness["corruptions"]) + ".")]
    section = report.get("explanations")
    if section:
        sentences = "".join(f"<li>{html.escape(s)}</li>" for s in recommendation_sentences(section))
        sections += ["<h2>Which explanation to trust</h2>", f"<ul>{sentences}</ul>",
                     _figure(scoreboard_figure(section), scoreboard_text(section)),
                     _figure(sanity_figure(section), sanity_text(section))]
    novelty = report.get("novelty")
    if novelty:
        sentences = "".join(f"<li>{html.escape(s)}</li>" for s in novelty_sentences(novelty))
        sections += ["<h2>Is it a digit at all?</h2>", f"<ul>{sentences}</ul>",
                     _figure(novelty_figure(novelty), novelty_text(novelty))]
    if mistakes:
        sections += [f"<h2>A sample of mistakes ({len(mistakes)} of {len(report['misclassified'])})</h2>",
                     _mistakes(mistakes, explained_with)]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>Evaluation report: {name}</title><style>{STYLE}</style>"
            f"<script>{get_plotlyjs()}</script></head><body>{''.join(sections)}"
            f"<script type=\"application/json\" id=\"report-data\">{_json_for_script(report)}</script>"
            "</body></html>\n")


def _json_for_script(report: dict[str, Any]) -> str:
    """The report's numbers (without the digit images) for whoever reads the file later; safe inside <script>."""
    light = {key: value for key, value in report.items() if key != "misclassified"}
    return json.dumps(light).replace("</", "<\\/")
