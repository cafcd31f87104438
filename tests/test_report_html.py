"""The downloadable report: one HTML file with every section, that needs no network to open."""

from __future__ import annotations

import datetime
import re

import numpy as np

from callbacks.figures import heatmap_overlay_png
from callbacks.report_html import report_html
from models.evaluation import evaluation_report


def small_report() -> dict:
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 10, 200)
    probabilities = rng.dirichlet(np.ones(10), 200)
    probabilities[np.arange(150), labels[:150]] += 2.0  # most right, some wrong
    probabilities /= probabilities.sum(1, keepdims=True)
    images = rng.integers(0, 256, (200, 28, 28)).astype(np.uint8)
    report = evaluation_report(probabilities, labels, images, "tiny")
    report["explanations"] = {"digits": 500, "sanity_digits": 100, "rows": [
        {"method": "gradcam", "layer": "conv1", "deletion_auc": 0.5, "insertion_auc": 0.6, "empty_rate": 0.26,
         "sanity_rank_correlation": 0.1, "ms": 1.0},
        {"method": "integrated_gradients", "layer": None, "deletion_auc": 0.1, "insertion_auc": 0.9,
         "empty_rate": 0.0, "sanity_rank_correlation": 0.2, "ms": 8.0}],
        "sanity": [{"method": "gradcam", "layer": "conv1", "rank_correlation": 0.1},
                   {"method": "integrated_gradients", "layer": "conv1", "rank_correlation": 0.2}]}
    return report


def novelty_section() -> dict:
    def detector(name, flagged, wrong):
        return {"name": name, "threshold": 1.0, "auroc": 0.9, "fpr_at_95_tpr": 0.2,
                "per_kind": {"letters": 0.9, "photos": 0.99}, "per_kind_fpr_at_95_tpr": {"letters": 0.3, "photos": 0.0},
                "nondigits_flagged": {"letters": flagged, "photos": 1.0},
                "digits_flagged": {"mnist-test": 0.01, "mnist-c": wrong}}
    return {"detector": "knn", "threshold": 1.0, "detectors": [detector("msp", 0.4, 0.05), detector("knn", 0.8, 0.02)]}


def test_novelty_scoreboard_figure_and_words():
    from callbacks.novelty_figures import novelty_figure, novelty_text
    from models.novelty import novelty_sentences

    section = novelty_section()
    figure = novelty_figure(section)
    flagged, wrong = figure["data"]
    assert flagged["y"] == ["Max. softmax", "KNN (used)"] and flagged["x"] == ["letters", "photos"]
    assert flagged["z"] == [[40.0, 100.0], [80.0, 100.0]] and wrong["x"] == ["mnist-test", "mnist-c"]
    assert "KNN: AUROC 0.900" in novelty_text(section)
    sentence = novelty_sentences(section)[0]
    assert sentence.startswith("On this model the app uses KNN") and "80% to 100%" in sentence
    assert "at most 2.0% of any other kind of digit (mnist-c)" in sentence
    assert "no not-a-digit scoreboard yet" in novelty_sentences(None)[0]


def test_report_has_every_section_and_opens_offline():
    report = small_report()
    report["novelty"] = novelty_section()
    report["robustness"] = {"corruptions": [{"name": "fog", "accuracy": 0.5}, {"name": "shear", "accuracy": 0.9}],
                            "mean_accuracy": 0.7}
    mistake = report["misclassified"][0]
    png = heatmap_overlay_png(np.asarray(mistake["image"]), np.zeros((28, 28)))
    page = report_html(report, [(mistake, png)], "Grad-CAM at conv1", datetime.datetime(2026, 1, 1))
    assert page.startswith("<!DOCTYPE html>") and page.count("<h1>") == 1
    for heading in ("Metrics", "Confusion matrix", "Calibration", "Robustness", "Which explanation to trust",
                    "Is it a digit at all?", "A sample of mistakes"):
        assert f"<h2>{heading}" in page
    assert "On this model, Integrated Gradients is the most faithful" in page
    assert "Grad-CAM at conv1 is empty for 26% of digits." in page
    assert png in page and f"#{mistake['index']}: a {mistake['true']}" in page
    assert page.count("Plotly.newPlot") == 6  # confusion, calibration, robustness, scoreboard, sanity, novelty
    # Offline: plotly.js is inlined, and nothing is loaded from elsewhere.
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=\"(https?:)?//", page)
    assert "window.Plotly" in page or "Plotly=" in page or "plotly.js v" in page


def test_report_without_optional_sections_still_renders():
    report = small_report()
    del report["explanations"], report["calibration"]
    page = report_html(report)
    assert "<h2>Confusion matrix" in page and "Which explanation" not in page and "Calibration" not in page
    assert "</script><script" not in page.split('id="report-data">')[1].split("</script>")[0]
