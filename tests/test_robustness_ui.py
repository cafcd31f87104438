"""The evaluation page's robustness chart and its gallery of corrupted, misread digits (no browser)."""

from __future__ import annotations

import numpy as np

from callbacks.figures import robustness_figure, robustness_summary
from callbacks.robustness import corruption_samples, robustness_sections
from models import DEFAULT_MODEL_PATH
from models.corruptions import NAMES
from models.report import read_report


def section(accuracies: dict[str, float], misread=(), predicted=()) -> dict:
    rows = [{"name": name, "accuracy": accuracy, "misread": list(misread), "predicted": list(predicted)}
            for name, accuracy in accuracies.items()]
    return {"corruptions": rows, "mean_accuracy": float(np.mean(list(accuracies.values()))), "digits": 100,
            "seed": 0}


def test_robustness_figure_has_a_bar_per_corruption_that_a_click_can_name():
    shipped = read_report(DEFAULT_MODEL_PATH)["robustness"]
    figure = robustness_figure([("digit_cnn", shipped)])
    (bars,) = figure["data"]
    assert bars["y"] == list(NAMES) and len(bars["x"]) == 15
    assert bars["customdata"][0] == ["digit_cnn", NAMES[0]]
    assert figure["layout"]["xaxis"]["range"] == [0, 1] and not figure["layout"]["showlegend"]


def test_robustness_figure_shows_two_models_side_by_side():
    first, second = section({"fog": 0.9, "stripe": 0.5}), section({"fog": 0.4, "stripe": 0.8})
    figure = robustness_figure([("a", first), ("b", second)])
    assert [bars["x"] for bars in figure["data"]] == [[0.9, 0.5], [0.4, 0.8]]
    assert figure["layout"]["barmode"] == "group" and figure["layout"]["showlegend"]
    assert figure["data"][1]["customdata"] == [["b", "fog"], ["b", "stripe"]]
    assert "mean 70.0%" in figure["data"][0]["name"]


def test_robustness_summary_names_the_mean_the_weakest_and_every_corruption():
    text = robustness_summary([("a", section({"fog": 0.9, "stripe": 0.5}))])
    assert "mean accuracy 70.0%" in text and "weakest stripe (50.0%)" in text and "fog 90.0%" in text


def test_robustness_sections_skips_reports_without_one():
    assert robustness_sections({"old": {"test_accuracy": 0.9}, "new": {"robustness": section({"fog": 1.0})}}) \
        == [("new", section({"fog": 1.0}))]


def test_corruption_samples_rebuild_the_digits_the_model_misread(mnist_test, digit_model):
    """The rebuilt corrupted digits are the evaluated ones: the model reads them as the report says."""
    images, labels = mnist_test
    shipped = read_report(DEFAULT_MODEL_PATH)["robustness"]
    row = min(shipped["corruptions"], key=lambda row: row["accuracy"])
    samples = corruption_samples(shipped, row["name"], images, labels, limit=8)
    assert [s["index"] for s in samples] == row["misread"][:8]
    assert all(s["true"] == labels[s["index"]] != s["predicted"] for s in samples)
    assert all(s["image"].shape == (28, 28) and 0 <= s["image"].min() <= s["image"].max() <= 1 for s in samples)
    probabilities, heatmaps, _, _ = digit_model.explain_batch(np.stack([s["image"] for s in samples]),
                                                              method="gradcam")
    assert list(probabilities.argmax(axis=1)) == [s["predicted"] for s in samples]
    assert heatmaps.shape == (8, 28, 28)
    assert corruption_samples(shipped, "no_such_corruption", images, labels) == []
