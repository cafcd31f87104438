"""Fine-tuning on field data (``python -m train --finetune MODEL --field EXPORT``, ``train/finetune.py``)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import keras
import numpy as np
import pytest

from models import MODELS_DIR
from train.finetune import NOT_A_DIGIT, FieldExportError, load_field_export, outputs_probabilities, split_field

FIELD_DIGITS = 300
NONDIGITS = 30


def synthetic_export(x_test: np.ndarray, y_test: np.ndarray, path: Path, seed: int = 0) -> Path:
    """A field export as people would send it: MNIST test digits drawn with a thicker pen, 5 % of them
    mislabelled, and a few "not a digit" records (random strokes and boxes)."""
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(x_test), FIELD_DIGITS, replace=False)
    digits = np.stack([cv2.dilate(image, np.ones((3, 3), np.uint8)) for image in x_test[picks]])
    labels = y_test[picks].astype(np.int64)
    noisy = rng.random(FIELD_DIGITS) < 0.05
    labels[noisy] = rng.integers(0, 10, int(noisy.sum()))
    others = np.zeros((NONDIGITS, 28, 28), np.uint8)
    for image in others:
        for _ in range(3):
            x0, y0, x1, y1 = (int(v) for v in rng.integers(3, 25, 4))
            if rng.random() < 0.5:
                cv2.line(image, (x0, y0), (x1, y1), 255, 3)
            else:
                cv2.rectangle(image, (x0, y0), (x1, y1), 255, 2)
    x = np.concatenate([digits, others])
    y = np.concatenate([labels, np.full(NONDIGITS, NOT_A_DIGIT)])
    np.savez_compressed(path, x=x, y=y, ids=np.arange(len(y)))
    return path


def test_split_is_stratified_seeded_and_disjoint():
    labels = np.repeat(np.arange(11), [20] * 10 + [1])
    learn, held = split_field(labels, seed=3)
    assert not set(learn) & set(held) and len(learn) + len(held) == len(labels)
    assert [int(np.sum(labels[held] == digit)) for digit in range(10)] == [6] * 10  # 30 % of every label
    assert NOT_A_DIGIT in labels[learn]  # a label seen once is learnt from
    again_learn, again_held = split_field(labels, seed=3)
    assert (again_held == held).all() and (again_learn == learn).all()


def test_softmax_and_logits_outputs_are_told_apart():
    images = np.random.default_rng(0).integers(0, 256, (8, 28, 28)).astype(np.uint8)
    for activation, probabilities in (("softmax", True), (None, False)):
        model = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(),
                                  keras.layers.Dense(10, activation=activation)])
        assert outputs_probabilities(model, images) is probabilities


def test_an_unusable_export_is_one_sentence(tmp_path):
    bad = tmp_path / "bad.npz"
    np.savez(bad, x=np.zeros((20, 28, 28), np.float32), y=np.zeros(20))
    with pytest.raises(FieldExportError, match="uint8"):
        load_field_export(bad)
    with pytest.raises(FieldExportError, match="cannot be read"):
        load_field_export(tmp_path / "missing.npz")


def test_finetune_writes_a_new_model_within_the_mnist_budget(tmp_path, mnist_test, capsys, monkeypatch):
    """One epoch on a few hundred thick-pen field digits: a new model the menu offers, the old one untouched,
    MNIST test accuracy within 0.1 point, and a report the pages read plus the comparison."""
    from models.catalog import model_files
    from train.__main__ import main

    folder = tmp_path / "models"
    folder.mkdir()
    original = shutil.copy(MODELS_DIR / "seed_cnn.h5", folder / "seed_cnn.h5")
    before = Path(original).read_bytes()
    (folder / "seed_cnn_field.keras").write_bytes(b"taken")  # a name in use is never overwritten
    export = synthetic_export(*mnist_test, tmp_path / "field.npz")

    monkeypatch.setenv("DIGIT_INSPECTOR_MODELS", str(folder))
    assert main(["--finetune", "seed_cnn", "--field", str(export), "--epochs", "1"]) == 0  # a name in that folder

    written = folder / "seed_cnn_field_2.keras"
    assert "seed_cnn_field_2" in model_files(folder) and Path(original).read_bytes() == before
    assert (folder / "seed_cnn_field.keras").read_bytes() == b"taken"
    report = json.loads(written.with_suffix(".report.json").read_text())
    assert {"test_accuracy", "classes", "confusion_matrix", "misclassified", "calibration"} <= set(report)
    section = report["finetune"]
    old, new = section["before"], section["after"]
    assert new["mnist_test_accuracy"] >= old["mnist_test_accuracy"] - 0.001
    counts = np.bincount(np.load(export)["y"])
    assert section["held_out"] == sum(max(1, round(c * 0.3)) for c in counts)  # 30 % of every label
    assert section["held_out_nondigits"] == round(NONDIGITS * 0.3)
    assert new["field_digits_accuracy"] >= old["field_digits_accuracy"]
    metadata = json.loads(written.with_suffix(".meta.json").read_text())
    assert metadata["name"] == "seed_cnn_field_2" and metadata["finetuned_from"] == "seed_cnn"
    out = capsys.readouterr().out
    assert "wrote" in out and "MNIST test set" in out and "budget" in out
