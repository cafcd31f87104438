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


def test_report_has_every_section_and_opens_offline():
    report = small_report()
    report["robustness"] = {"corruptions": [{"name": "fog", "accuracy": 0.5}, {"name": "shear", "accuracy": 0.9}],
                            "mean_accuracy": 0.7}
    mistake = report["misclassified"][0]
    png = heatmap_overlay_png(np.asarray(mistake["image"]), np.zeros((28, 28)))
    page = report_html(report, [(mistake, png)], "Grad-CAM at conv1", datetime.datetime(2026, 1, 1))
    assert page.startswith("<!DOCTYPE html>") and page.count("<h1>") == 1
    for heading in ("Metrics", "Confusion matrix", "Calibration", "Robustness", "Which explanation to trust",
                    "A sample of mistakes"):
        assert f"<h2>{heading}" in page
    assert "On this model, Integrated Gradients is the most faithful" in page
    assert "Grad-CAM at conv1 is empty for 26% of digits." in page
    assert png in page and f"#{mistake['index']}: a {mistake['true']}" in page
    assert page.count("Plotly.newPlot") == 5  # confusion, calibration, robustness, scoreboard, sanity
    # Offline: plotly.js is inlined, and nothing is loaded from elsewhere.
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=\"(https?:)?//", page)
    assert "window.Plotly" in page or "Plotly=" in page or "plotly.js v" in page


def test_report_without_optional_sections_still_renders():
    report = small_report()
    del report["explanations"], report["calibration"]
    page = report_html(report)
    assert "<h2>Confusion matrix" in page and "Which explanation" not in page and "Calibration" not in page
    assert "</script><script" not in page.split('id="report-data">')[1].split("</script>")[0]
