"""DESIGN.md's "Any model": the adapter over models of every accepted shape, refusals in one sentence."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from models import MODELS_DIR
from models.adapter import adapt
from models.inference import DigitModel, ModelLoadError
from models.methods import DEFAULT_METHOD, METHOD_LABELS, METHOD_NAMES, METHODS, needs_layer
from models.report import read_metadata, read_report

ROOT = Path(__file__).resolve().parents[1]
SEED = MODELS_DIR / "seed_cnn.h5"

# What each zoo model's conv layers explain, by the block rule: the conv itself when its
# activation is fused, else the ReLU reached through the BatchNorm after it.
EXPECTED_TAPS = {
    "seed_h5": ["Conv2D", "Conv2D"],
    "seed_keras": ["Conv2D", "Conv2D"],
    "functional_fused": ["Conv2D", "Conv2D", "DepthwiseConv2D"],
    "conv_bn_relu_blocks": ["ReLU", "ReLU", "ReLU", "ReLU"],
    "nested_sequential": ["Conv2D", "Conv2D"],
}


def probabilities_of_the_file(model: keras.Model, images: np.ndarray, logits_output: bool) -> np.ndarray:
    out = np.asarray(model(images, training=False))
    return np.asarray(keras.ops.softmax(out)) if logits_output else out


@pytest.mark.parametrize("name", list(EXPECTED_TAPS))
def test_every_accepted_shape_loads_with_one_tap_per_conv(model_zoo, mnist_test, name):
    model = DigitModel.load(model_zoo[name])
    tap_types = [type(next(layer for layer in _all_layers(model.keras_model) if layer.name == conv.tap_layer)).__name__
                 for conv in model.spec.convs]
    assert tap_types == EXPECTED_TAPS[name]
    assert [row["type"] for row in model.conv_layers()] == [type(c.layer).__name__ for c in model.spec.convs]
    assert model.default_layer == model.layer_names[-1]
    x, _ = mnist_test
    images = x[:64].astype(np.float32) / 255
    logits_output = name == "conv_bn_relu_blocks"
    file_input = images if model.spec.input_rank == 2 else images[..., None]
    np.testing.assert_allclose(model.probabilities(images),
                               probabilities_of_the_file(model.keras_model, file_input, logits_output), atol=2e-5)


def _all_layers(model: keras.Model) -> list:
    found = []
    for layer in model.layers:
        found.extend(_all_layers(layer) if isinstance(layer, keras.Model) else [layer])
    return found


def test_batch_norm_is_folded_only_where_it_is_provably_equal(model_zoo, digit_model, mnist_test):
    """conv -> BN folds (4 blocks, 4 folds); BN after a fused ReLU does not; taps and answers are unchanged."""
    counts = {}
    x = mnist_test[0][:32].astype(np.float32)[..., None] / 255
    for name in ("conv_bn_relu_blocks", "functional_fused"):
        model = keras.models.load_model(model_zoo[name], safe_mode=True, compile=False)
        folded, plain = adapt(model), adapt(model, fold_batch_norm=False)
        counts[name] = folded.folded_batch_norms
        np.testing.assert_allclose(folded.network(x), plain.network(x), rtol=1e-4, atol=1e-4)
        for conv in plain.convs:
            np.testing.assert_allclose(folded.activations(conv.name)(x), plain.activations(conv.name)(x),
                                       rtol=1e-4, atol=1e-4)
    assert counts == {"conv_bn_relu_blocks": 4, "functional_fused": 0}
    assert digit_model.spec.folded_batch_norms == 5  # four convs and the Dense


def test_a_linear_conv_followed_by_batch_norm_only_keeps_its_own_output():
    """No activation after the BN: the conv's own output is its tap, so that BN is not folded away."""
    inputs = keras.Input((28, 28, 1))
    conv = keras.layers.Conv2D(4, 3, name="plain")(inputs)
    x = keras.layers.Flatten()(keras.layers.BatchNormalization()(conv))
    spec = adapt(keras.Model(inputs, keras.layers.Dense(10)(x)))
    assert spec.convs[0].tap_layer == "plain" and spec.folded_batch_norms == 0


def test_the_loaded_model_is_never_changed(model_zoo):
    model = keras.models.load_model(model_zoo["seed_keras"], safe_mode=True, compile=False)
    config, weights = model.get_config(), [w.copy() for w in model.get_weights()]
    nodes = [len(layer._inbound_nodes) for layer in model.layers]
    DigitModel(model)
    assert model.get_config() == config
    assert model.layers[-1].get_config()["activation"] == "softmax"  # the fused softmax is split off a copy
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), weights, strict=True))
    assert [len(layer._inbound_nodes) for layer in model.layers] == nodes  # its layers were not called again


@pytest.mark.parametrize(("name", "words"), [
    ("lambda", "Lambda layer"),
    ("random_bytes", "not a model Keras 3 can load"),
    ("text_h5", "not a model Keras 3 can load"),
    ("five_outputs", "(None, 5)"),
    ("wrong_input", "(32, 32, 3)"),
    ("no_conv", "no convolution layer"),
    ("nested_two_inputs", "cannot be flattened"),
    ("missing", "does not exist"),
])
def test_files_that_are_not_digit_models_are_refused_in_one_sentence(refused_models, name, words):
    path = refused_models[name]
    with pytest.raises(ModelLoadError) as error:
        DigitModel.load(path)
    message = str(error.value)
    assert str(path) in message and words in message and "send a Keras 3 .keras" in message
    assert "\n" not in message and message.count(". ") == 0 and message.endswith(".")


def test_seed_network_is_shipped_as_the_original_app_trained_it(mnist_test):
    model = DigitModel.load(SEED)
    assert isinstance(model.keras_model, keras.Sequential)
    assert model.keras_model.layers[-1].get_config()["activation"] == "softmax"  # fused, as in its README
    metadata = read_metadata(SEED)
    assert metadata["epochs"] == 3 and metadata["validation_split"] == 0.1
    x, y = mnist_test
    accuracy = (model.probabilities(x.astype(np.float32) / 255).argmax(1) == y).mean()
    assert accuracy >= 0.98 and metadata["test_accuracy"] == pytest.approx(accuracy, abs=1e-4)
    report = read_report(SEED)
    assert report["test_accuracy"] == pytest.approx(accuracy, abs=1e-4) and report["model"] == "seed_cnn"
    for method in METHOD_NAMES:
        result = model.predict(x[0].astype(np.float32) / 255, method=method)
        layer = model.default_layer if needs_layer(method) else None
        assert result["top"][0]["digit"] == y[0] and result["explanation"]["layer"] == layer


def test_cli_reads_a_digit_with_the_seed_network(tmp_path, mnist_test):
    from PIL import Image

    x, y = mnist_test
    image = tmp_path / "digit.png"
    Image.fromarray(255 - x[0]).resize((140, 140)).save(image)
    result = subprocess.run([sys.executable, "-m", "models", "predict", str(image), "--model", str(SEED), "--json"],
                            cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    line = json.loads(result.stdout)
    assert line["top"][0]["digit"] == y[0] and line["explanation"]["layer"] == "conv2d_1"


def test_method_registry_spells_each_method_once():
    assert METHOD_NAMES == tuple(m.name for m in METHODS) and DEFAULT_METHOD in METHOD_NAMES
    assert len(set(METHOD_NAMES)) == len(METHODS) and all(METHOD_LABELS[m.name] == m.label for m in METHODS)
    assert all(m.description for m in METHODS)
    from models.explain import PIXEL_ATTRIBUTIONS, WEIGHTINGS

    assert (*WEIGHTINGS, *PIXEL_ATTRIBUTIONS) == METHOD_NAMES
    check = "import models.methods, layouts.predict, sys; assert 'tensorflow' not in sys.modules"
    subprocess.run([sys.executable, "-c", check], cwd=ROOT, check=True, timeout=60)


def test_the_loaded_models_tap_layer_is_found_by_the_block_rule(model_zoo):
    """What the naive baseline of ``make bench`` taps on the loaded model itself."""
    from models.explain import activation_layer_name

    model = keras.models.load_model(model_zoo["conv_bn_relu_blocks"], safe_mode=True, compile=False)
    convs = [layer.name for layer in model.layers if isinstance(layer, keras.layers.SeparableConv2D)]
    tap = model.get_layer(activation_layer_name(model, convs[0]))
    assert isinstance(tap, keras.layers.ReLU)
