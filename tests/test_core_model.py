"""The shipped model, MNIST loading, training and the evaluation report."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest

from models import DEFAULT_MODEL_PATH
from models.adapter import adapt
from models.evaluation import calibration, confusion_matrix, evaluation_report, per_class_metrics
from models.inference import ModelLoadError
from models.mnist import MnistError, load_mnist
from models.report import read_metadata, read_report

ROOT = Path(__file__).resolve().parents[1]


def test_shipped_model_is_a_functional_cnn_with_separate_softmax(digit_model):
    model = digit_model.keras_model
    assert not isinstance(model, keras.Sequential)
    assert len(digit_model.layer_names) >= 3
    logits = model.get_layer("logits")
    assert isinstance(logits, keras.layers.Dense) and logits.units == 10
    assert logits.get_config()["activation"] == "linear"  # Grad-CAM needs the score before softmax
    softmax = model.get_layer("probabilities")
    assert isinstance(softmax, keras.layers.Activation) and softmax.get_config()["activation"] == "softmax"
    assert model.layers[-1] is softmax
    assert DEFAULT_MODEL_PATH.stat().st_size < 20e6


def test_folded_batch_norm_gives_the_same_answers_and_taps(digit_model, mnist_test):
    """The explainer runs a graph with BatchNorm folded into the convs: same probabilities, same activations."""
    model = digit_model.keras_model
    folded, plain = adapt(model), adapt(model, fold_batch_norm=False)
    assert folded.folded_batch_norms > 0 and plain.folded_batch_norms == 0
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in folded.network.layers)
    x = mnist_test[0][:64, ..., None].astype(np.float32) / 255
    np.testing.assert_allclose(keras.ops.softmax(folded.network(x)), model(x, training=False), atol=1e-5)
    for name in digit_model.layer_names:
        np.testing.assert_allclose(folded.activations(name)(x), plain.activations(name)(x), rtol=1e-4, atol=1e-4)
    assert any(isinstance(layer, keras.layers.BatchNormalization) for layer in model.layers)  # loaded model as it was


def test_folding_leaves_a_shared_output_alone_and_a_reused_conv_is_refused():
    inputs = keras.Input((28, 28, 1))
    conv_layer = keras.layers.Conv2D(4, 3, padding="same")
    conv = conv_layer(inputs)
    relu = keras.layers.ReLU()(keras.layers.BatchNormalization()(conv))
    branching = keras.Model(inputs, keras.layers.Dense(10)(keras.layers.Flatten()(keras.layers.Add()([conv, relu]))))
    spec = adapt(branching)  # the conv's output also feeds the Add: BN cannot be folded into it
    assert spec.folded_batch_norms == 0 and spec.convs[0].tap_layer == conv_layer.name
    shared = keras.layers.Conv2D(1, 3, padding="same")
    twice = keras.Model(inputs, keras.layers.Dense(10)(keras.layers.Flatten()(shared(shared(inputs)))))
    with pytest.raises(ModelLoadError, match="more than once"):
        adapt(twice)


def test_shipped_model_reaches_99_5_percent(digit_model, mnist_test):
    x, y = mnist_test
    probs = digit_model.keras_model.predict(x[..., None].astype(np.float32) / 255, batch_size=1000, verbose=0)
    accuracy = (probs.argmax(1) == y).mean()
    assert accuracy >= 0.995, accuracy
    assert read_metadata(DEFAULT_MODEL_PATH)["test_accuracy"] == pytest.approx(accuracy, abs=1e-4)


def _written_by_stroke_fonts(digit: int, count: int) -> np.ndarray:
    """``digit`` as ``count`` hands of ``train.numbers.font_hand`` write it (stroke fonts, warped anew), each
    alone on a white page, as the model sees it after the app's normalisation."""
    import cv2

    from models.preprocess import image_ink, load_image, normalize_ink
    from train.numbers import font_hand

    rng = np.random.default_rng(3)
    pages = [255 - np.pad((font_hand(rng)(digit, 120) * 255).astype(np.uint8), 30) for _ in range(count)]
    return np.stack([normalize_ink(image_ink(load_image(cv2.imencode(".png", page)[1].tobytes()))) for page in pages])


def test_a_one_written_with_a_flag_reads_one_and_a_seven_still_seven(digit_model, mnist_test):
    """MNIST's 1s are bare strokes, and the model read a 1 with a flag (as much of Europe writes it) as a
    7: 17 of these 48 before it learnt flagged 1s (``train.augment.flag_one``). Its 7s must stay 7s."""
    for digit in (1, 7):
        read = digit_model.probabilities(_written_by_stroke_fonts(digit, 48)).argmax(1)
        assert (read == digit).sum() >= 46, (digit, read.tolist())
    x, y = mnist_test
    sevens = digit_model.probabilities(x[y == 7].astype(np.float32) / 255).argmax(1)
    assert (sevens == 7).mean() >= 0.99


def test_shipped_report_matches_the_model(digit_model, mnist_test):
    report = read_report(DEFAULT_MODEL_PATH)
    assert report is not None, "run `python -m train.evaluate` to write the report"
    matrix = np.array(report["confusion_matrix"])
    assert matrix.shape == (10, 10) and matrix.sum() == 10000
    assert report["test_accuracy"] == pytest.approx(np.trace(matrix) / 10000)
    assert len(report["misclassified"]) == 10000 - np.trace(matrix)
    x, y = mnist_test
    mistake = report["misclassified"][0]
    assert mistake["true"] == y[mistake["index"]] != mistake["predicted"]
    assert np.array_equal(np.array(mistake["image"]), x[mistake["index"]])
    probs = digit_model.explain_batch(x[mistake["index"]][None].astype(np.float32) / 255)[0][0]
    assert probs.argmax() == mistake["predicted"]
    assert [c["digit"] for c in report["classes"]] == list(range(10))


def test_report_metrics_on_a_known_case():
    labels = np.array([0, 0, 1, 1, 1, 2])
    predicted = np.array([0, 1, 1, 1, 2, 2])
    matrix = confusion_matrix(labels, predicted, classes=3)
    assert matrix.tolist() == [[1, 1, 0], [0, 2, 1], [0, 0, 1]]
    rows = per_class_metrics(matrix)
    assert rows[1]["precision"] == pytest.approx(2 / 3) and rows[1]["recall"] == pytest.approx(2 / 3)
    assert rows[2]["precision"] == pytest.approx(0.5) and rows[2]["f1"] == pytest.approx(2 / 3)
    probs = np.eye(10)[predicted] * 0.9 + 0.01
    images = np.zeros((6, 28, 28), np.uint8)
    report = evaluation_report(probs, labels, images, "toy")
    assert report["test_accuracy"] == pytest.approx(4 / 6)
    assert [(m["index"], m["true"], m["predicted"]) for m in report["misclassified"]] == [(1, 0, 1), (4, 1, 2)]


def test_expected_calibration_error():
    confidence = np.array([0.95, 0.95, 0.95, 0.95, 0.55, 0.55])
    correct = np.array([True, True, True, False, True, False])
    result = calibration(confidence, correct)
    # bin (0.9, 1]: acc 0.75, conf 0.95; bin (0.5, 0.6]: acc 0.5, conf 0.55
    assert result["ece"] == pytest.approx(4 / 6 * 0.2 + 2 / 6 * 0.05)
    assert sum(b["count"] for b in result["bins"]) == 6


def test_mnist_npz_loads_offline():
    x_train, y_train, x_test, y_test = load_mnist()
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28) and x_test.dtype == np.uint8


@pytest.mark.parametrize("kind", ["missing", "not-a-zip", "wrong-keys", "wrong-shape"])
def test_bad_mnist_file_gives_one_clear_sentence(tmp_path, monkeypatch, kind):
    path = tmp_path / "mnist.npz"
    if kind == "not-a-zip":
        path.write_bytes(b"not a zip file")
    elif kind == "wrong-keys":
        np.savez(path, images=np.zeros(3))
    elif kind == "wrong-shape":
        np.savez(path, x_train=np.zeros((5, 28, 28)), y_train=np.zeros(5), x_test=np.zeros((5, 28, 28)),
                 y_test=np.zeros(5))
    monkeypatch.setenv("MNIST_NPZ", str(path))
    with pytest.raises(MnistError) as error:
        load_mnist()
    message = str(error.value)
    assert str(path) in message and "MNIST_NPZ" in message and "x_train (60000,28,28)" in message
    assert "\n" not in message


def test_train_cli_writes_a_model_and_metadata(tmp_path):
    out = tmp_path / "tiny.keras"
    result = subprocess.run(
        [sys.executable, "-m", "train", "--epochs", "1", "--train-size", "512", "--out", str(out), "--seed", "3"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "4/4" in result.stdout  # Keras's progress bar, one step per batch of 128
    metadata = read_metadata(out)
    assert metadata["epochs"] == 1 and metadata["seed"] == 3 and metadata["train_size"] == 512
    assert 0 <= metadata["test_accuracy"] <= 1
    assert zipfile.is_zipfile(out)
    more = tmp_path / "more.keras"  # goes on from the model just written, at a tenth of the learning rate
    result = subprocess.run(
        [sys.executable, "-m", "train", "--from", str(out), "--epochs", "1", "--train-size", "256", "--out", str(more)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    continued = read_metadata(more)["continued_from"]
    assert continued["model"] == "tiny.keras" and continued["learning_rate"] == pytest.approx(1e-4)
    assert continued["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest() and continued["metadata"]["seed"] == 3


def test_train_cli_says_in_one_sentence_when_there_is_no_model_to_go_on_from(tmp_path, capsys):
    from train.__main__ import main

    (tmp_path / "junk.keras").write_bytes(b"not a model")
    for name, sentence in (("none.keras", "no such model file"), ("junk.keras", "cannot load it as a model")):
        with pytest.raises(SystemExit) as stop:
            main(["--from", str(tmp_path / name)])
        error = capsys.readouterr().err
        assert stop.value.code == 2 and sentence in error and "Traceback" not in error


def test_train_cli_reports_a_bad_mnist_path(tmp_path):
    env = {"MNIST_NPZ": str(tmp_path / "nowhere.npz"), "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-m", "train", "--out", str(tmp_path / "m.keras")],
                            cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 2
    assert "does not exist" in result.stderr and "Traceback" not in result.stderr
