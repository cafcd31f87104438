"""MNIST-C corruptions, the report's robustness section, and the training augmentation."""

from __future__ import annotations

import numpy as np
import pytest

from models import DEFAULT_MODEL_PATH
from models.corruptions import NAMES, SEVERITY, corrupt, corrupt_many
from models.report import read_report
from models.robustness import MISREAD_CAP, robustness_report, robustness_subset
from train.augment import FAMILIES, augment_batch, bar_seven, flag_one, written_variants

DESIGN_NAMES = ("shot_noise", "impulse_noise", "glass_blur", "motion_blur", "shear", "scale", "rotate", "brightness",
                "translate", "stripe", "fog", "spatter", "dotted_line", "zigzag", "canny_edges")


@pytest.fixture(scope="module")
def digits(mnist_test):
    x, y = mnist_test
    return x[:20], y[:20]


def centre_of_mass(a: np.ndarray) -> np.ndarray:
    ys, xs = np.indices(a.shape)
    return np.array([(ys * a).sum(), (xs * a).sum()]) / a.sum()


def test_the_fifteen_mnist_c_corruptions_with_documented_severities():
    assert NAMES == DESIGN_NAMES
    assert set(SEVERITY) == set(NAMES)


@pytest.mark.parametrize("name", DESIGN_NAMES)
def test_each_corruption_is_seeded_mnist_shaped_and_changes_the_digit(digits, name):
    x, _ = digits
    first = corrupt_many(name, x, np.arange(len(x)), seed=3)
    again = corrupt_many(name, x, np.arange(len(x)), seed=3)
    assert first.shape == (len(x), 28, 28) and first.dtype == np.float32
    assert first.min() >= 0.0 and first.max() <= 1.0
    np.testing.assert_array_equal(first, again)  # the same digits every run: a report is reproducible
    np.testing.assert_array_equal(first[5], corrupt(name, x[5], 5, seed=3))  # one digit rebuilt on its own
    clean = x.astype(np.float32) / 255
    assert np.abs(first - clean).mean() > 0.005


def test_corruptions_do_what_their_names_say(digits):
    x, _ = digits
    digit = x[0]
    clean = digit.astype(np.float32) / 255
    bright = corrupt("brightness", digit, 0)
    assert bright[clean == 0].min() == pytest.approx(SEVERITY["brightness"])  # the background turns grey
    striped = corrupt("stripe", digit, 0)
    assert striped[:, 0].min() == 1.0 and striped[:, -1].min() == 1.0 and striped[:, 14].max() == clean[:, 14].max()
    moved = corrupt("translate", digit, 0)
    shift = np.abs(centre_of_mass(moved) - centre_of_mass(clean))
    assert (shift > 1.9).all() and (shift < 3.3).all()  # 3 px each way, less where ink left the frame
    small = corrupt("scale", digit, 0)
    rows = np.flatnonzero(small.max(axis=1) > 0.3)
    clean_rows = np.flatnonzero(clean.max(axis=1) > 0.3)
    assert np.ptp(rows) < 0.75 * np.ptp(clean_rows)
    edges = corrupt("canny_edges", digit, 0)
    assert set(np.unique(edges)) <= {0.0, 1.0} and edges.sum() < (clean > 0.5).sum() * 1.5
    foggy = corrupt("fog", digit, 0)
    assert foggy[clean == 0].mean() > 0.1  # fog lies over the background too


def test_unknown_corruption_names_the_known_ones():
    with pytest.raises(ValueError, match="shot_noise"):
        corrupt("snow", np.zeros((28, 28), np.uint8), 0)


class AlwaysOne:
    """A stand-in model that reads every digit as a 1 (probabilities)."""

    input_shape = (None, 28, 28, 1)

    def __call__(self, x, training=False):
        return np.tile(np.eye(10, dtype=np.float32)[1], (len(x), 1))


def test_robustness_section_schema_and_misread_indices(mnist_test):
    x, y = mnist_test
    section = robustness_report(AlwaysOne(), x, y, count=300, seed=5)
    indices = robustness_subset(300, 5)
    assert section["digits"] == 300 and len(set(indices)) == 300
    assert [row["name"] for row in section["corruptions"]] == list(DESIGN_NAMES)
    expected = float(np.mean(y[indices] == 1))
    for row in section["corruptions"]:
        assert row["accuracy"] == pytest.approx(expected, abs=1e-4)
        assert len(row["misread"]) == min(MISREAD_CAP, int((y[indices] != 1).sum()))
        assert all(y[i] != 1 for i in row["misread"]) and set(row["misread"]) <= set(indices.tolist())
        assert set(row["predicted"]) == {1}
    assert section["mean_accuracy"] == pytest.approx(expected, abs=1e-4)


def test_shipped_model_is_robust_and_accurate():
    """The shipped report: >= 99.6 % clean, mean MNIST-C >= 95 %, no corruption under 80 %."""
    report = read_report(DEFAULT_MODEL_PATH)
    assert report is not None and "robustness" in report, "run `python -m train.evaluate`"
    section = report["robustness"]
    assert [row["name"] for row in section["corruptions"]] == list(DESIGN_NAMES)
    assert report["test_accuracy"] >= 0.996
    assert section["mean_accuracy"] >= 0.95
    assert min(row["accuracy"] for row in section["corruptions"]) >= 0.80


def test_augmentation_is_reproducible_and_keeps_digits_in_range(digits):
    x, _ = digits
    images = x.astype(np.float32) / 255
    first, again, other = augment_batch(images, 1, 7), augment_batch(images, 1, 7), augment_batch(images, 1, 8)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    assert first.shape == images.shape and first.min() >= 0.0 and first.max() <= 1.0


def test_a_flag_goes_from_the_top_of_a_ones_stem_down_to_the_left_and_a_bar_across_a_seven(mnist_test):
    """The written variants the model learns: new ink only up and left of a 1's stem top (or a foot at its
    bottom), the digit still centred; on a 7, new ink only across the middle of its stem."""
    x, y = mnist_test
    rng = np.random.default_rng(0)
    for one in x[y == 1][:30].astype(np.float32) / 255:
        flagged = flag_one(one, rng)
        assert flagged.shape == (28, 28) and 0 <= flagged.min() and flagged.max() <= 1
        assert np.abs(centre_of_mass(flagged) - 13.5).max() < 1.0
        assert flagged.sum() > one.sum() * 1.1  # a stroke, not a speck
    for seven in x[y == 7][:30].astype(np.float32) / 255:
        barred = bar_seven(seven, rng)
        added = np.nonzero(barred - seven > 0.2)[0]
        rows = np.nonzero(seven.max(axis=1) > 0.3)[0]
        assert len(added) and rows.min() + 0.3 * np.ptp(rows) <= added.mean() <= rows.min() + 0.8 * np.ptp(rows)
    labels = np.array([0, 1, 7, 3] * 50)
    images = x[:200].astype(np.float32) / 255
    varied = written_variants(images, labels, np.random.default_rng(1))
    changed = np.abs(varied - images).max(axis=(1, 2)) > 0
    assert set(labels[changed]) == {1, 7} and 0.15 < changed[labels == 1].mean() < 0.6


def test_augmentation_never_uses_the_evaluated_corruptions():
    """Training holds out MNIST-C: none of its functions is a training family."""
    assert not {family.__name__ for family in FAMILIES} & set(DESIGN_NAMES)
