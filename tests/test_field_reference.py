"""What the /field page sets field digits against: the MNIST test digits' confidence and novelty scores
(``models.drift.mnist_reference``), drawn beside the field digits' with the threshold, and drift."""

from __future__ import annotations

from types import SimpleNamespace

import cv2
import numpy as np

from callbacks.field import novelty_histograms
from callbacks.field_figures import NoveltyHistograms, distributions_figure
from models.drift import mmd_test, mnist_reference

BINS = 20


def test_mnist_reference_is_what_the_threshold_was_set_on(digit_model, mnist_test):
    """99 % of the MNIST test digits stay digits (DESIGN.md), so about 99 % of these scores are under the line."""
    x_test, _ = mnist_test
    images = x_test[:2000].astype(np.float32) / 255.0
    reference = mnist_reference(digit_model, images, sample=200)
    detector = digit_model.novelty
    kept = float(np.mean(reference.novelty[detector.detector] <= detector.threshold))
    assert 0.97 <= kept <= 1.0
    assert np.median(reference.confidence) > 0.99
    picks = np.random.default_rng(0).choice(len(images), 200, replace=False)
    assert np.allclose(reference.features, digit_model.features_and_logits(images[picks])[0], atol=1e-4)


def test_drift_tells_thick_pen_digits_from_mnist(digit_model, mnist_test):
    x_test, _ = mnist_test
    reference = mnist_reference(digit_model, x_test[:1000].astype(np.float32) / 255.0, sample=100).features
    alike = x_test[2000:2100]  # the same writers (MNIST's first 5000 test digits and its last 5000 differ)
    thick = np.stack([cv2.dilate(image, np.ones((3, 3), np.uint8), iterations=2) for image in alike])
    features = {name: digit_model.features_and_logits(images.astype(np.float32) / 255.0)[0]
                for name, images in (("alike", alike), ("thick", thick))}
    assert mmd_test(features["alike"], reference, permutations=100)[1] > 0.05
    assert mmd_test(features["thick"], reference, permutations=100)[1] < 0.05


def test_field_and_mnist_novelty_share_bins_and_the_threshold():
    asked = []

    def field_histogram(low, high):
        asked.append((low, high))
        return np.ones(BINS, np.int64)

    mnist = np.random.default_rng(0).normal(2.0, 1.0, 5000)
    histograms = novelty_histograms((4.0, 30.0), field_histogram, mnist, SimpleNamespace(threshold=5.0,
                                                                                          detector="vim"))
    assert asked == [(histograms.low, histograms.high)]
    assert histograms.low < 0.0 and histograms.high == 30.0  # both samples inside
    assert histograms.mnist.sum() == len(mnist) and histograms.threshold == 5.0
    assert novelty_histograms(None, field_histogram, None, None) is None


def test_novelty_panel_draws_field_and_mnist_with_the_threshold_line():
    histograms = NoveltyHistograms(np.arange(BINS), np.arange(BINS)[::-1], 0.0, 10.0, 6.5, "vim")
    figure = distributions_figure(np.ones(BINS), np.ones(BINS), histograms, BINS)
    novelty_bars = [trace for trace in figure.data if trace.xaxis == "x2"]
    assert sorted(trace.name for trace in novelty_bars) == ["MNIST test digits", "field digits"]
    assert [shape.x0 for shape in figure.layout.shapes] == [6.5]
    assert "vim" in " ".join(annotation.text for annotation in figure.layout.annotations)

    mnist_only = distributions_figure(np.ones(BINS), np.ones(BINS), histograms._replace(field=None), BINS)
    assert [trace.name for trace in mnist_only.data if trace.xaxis == "x2"] == ["MNIST test digits"]
    assert any("no field record" in annotation.text for annotation in mnist_only.layout.annotations)
