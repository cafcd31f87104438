"""Class-activation maps against a direct implementation of each paper's formula, on every kind of model.

``any_model`` (conftest) runs each test over the shipped CNN and every model of ``tests/model_zoo.py``;
the references take the activations and logits from the adapter's graph *without* BatchNorm
folding, by an eager tape, one image and one channel at a time.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import tensorflow as tf

from models.adapter import ModelSpec, adapt
from models.explain import finish_cam
from models.inference import FAITHFULNESS_STEPS, DigitModel
from models.methods import LAYER_METHODS

_REFERENCES: dict[int, ModelSpec] = {}


def reference_spec(model: DigitModel) -> ModelSpec:
    """The model's graph with every BatchNorm kept (the engine runs a folded copy)."""
    if id(model) not in _REFERENCES:
        _REFERENCES[id(model)] = adapt(model.keras_model, fold_batch_norm=False)
    return _REFERENCES[id(model)]


def reference_probabilities(model: DigitModel, x: np.ndarray) -> np.ndarray:
    return tf.nn.softmax(reference_spec(model).network(x.reshape(-1, 28, 28, 1).astype(np.float32))).numpy()


def bilinear_upsample(a: np.ndarray, size: int = 28) -> np.ndarray:
    """Plain NumPy bilinear resize with half-pixel centres, edges clamped."""
    def axis(n_in):
        src = np.clip((np.arange(size) + 0.5) * n_in / size - 0.5, 0, n_in - 1)
        low = np.floor(src).astype(int)
        high = np.minimum(low + 1, n_in - 1)
        return low, high, src - low

    (y0, y1, wy), (x0, x1, wx) = axis(a.shape[0]), axis(a.shape[1])
    top = a[y0][:, x0] * (1 - wx) + a[y0][:, x1] * wx
    bottom = a[y1][:, x0] * (1 - wx) + a[y1][:, x1] * wx
    return top * (1 - wy)[:, None] + bottom * wy[:, None]


def finish(contributions: np.ndarray) -> np.ndarray:
    cam = bilinear_upsample(np.maximum(contributions.sum(-1), 0))
    return cam / cam.max() if cam.max() > 0 else cam


def activations_and_gradients(model: DigitModel, image: np.ndarray, layer: str, digit: int):
    """Eager tape, as in the keras-io Grad-CAM example: d logit[digit] / d activations."""
    taps = reference_spec(model).taps(layer)
    x = tf.constant(image.reshape(1, 28, 28, 1), tf.float32)
    with tf.GradientTape() as tape:
        a, logits = taps(x, training=False)
        score = logits[0, digit]
    g = tape.gradient(score, a)
    return a.numpy()[0], g.numpy()[0]


def reference_cam(model: DigitModel, image: np.ndarray, layer: str, digit: int, method: str) -> np.ndarray:
    a, g = activations_and_gradients(model, image, layer, digit)
    if method == "gradcam":  # Selvaraju et al.: alpha_k = mean_ij dy/dA_ij^k
        return finish(a * g.mean(axis=(0, 1)))
    if method == "hirescam":  # Draelos & Carin: sum_k dy/dA^k * A^k, element-wise
        return finish(a * g)
    if method == "layercam":  # Jiang et al.: sum_k relu(dy/dA^k) * A^k
        return finish(a * np.maximum(g, 0))
    if method == "gradcam++":  # Chattopadhay et al., eq. 19 with exp(score)
        sum_a = a.sum(axis=(0, 1))
        denominator = 2 * g**2 + sum_a * g**3
        alpha = np.divide(g**2, denominator, out=np.zeros_like(g), where=denominator != 0)
        return finish(a * (alpha * np.maximum(g, 0)).sum(axis=(0, 1)))
    if method == "scorecam":  # Wang et al.: weight_k = p_c(X * norm(up(A^k))) - p_c(baseline)
        weights = []
        baseline = reference_probabilities(model, np.zeros((28, 28)))[0, digit]
        for k in range(a.shape[-1]):
            up = bilinear_upsample(a[..., k])
            span = up.max() - up.min()
            mask = (up - up.min()) / span if span > 0 else np.zeros_like(up)
            weights.append(reference_probabilities(model, image * mask)[0, digit] - baseline)
        return finish(a * np.array(weights))
    raise ValueError(method)


@pytest.fixture(scope="module")
def samples(mnist_test):
    x, y = mnist_test
    return (x[:4].astype(np.float32) / 255), y[:4]


@pytest.mark.parametrize("method", LAYER_METHODS)
@pytest.mark.parametrize("depth", ["first", "last"])
def test_engine_matches_the_formula(any_model, samples, method, depth):
    images, labels = samples
    layer = any_model.layer_names[0 if depth == "first" else -1]
    classes = np.array([labels[0], labels[1], (labels[2] + 3) % 10, 0])  # true, true, other, any class
    _, cams, explained, _ = any_model.explain_batch(images, layer, method, classes)
    np.testing.assert_array_equal(explained, classes)
    for image, digit, cam in zip(images, classes, cams, strict=True):
        expected = reference_cam(any_model, image, layer, int(digit), method)
        np.testing.assert_allclose(cam, expected, atol=2e-3)


def test_default_class_is_the_top_one(any_model, samples):
    images, _ = samples
    probs, _, explained, _ = any_model.explain_batch(images)
    np.testing.assert_array_equal(explained, probs.argmax(1))
    assert np.allclose(probs.sum(1), 1.0, atol=1e-5)
    np.testing.assert_allclose(probs, reference_probabilities(any_model, images), atol=1e-5)


def test_probabilities_match_the_keras_model(digit_model, samples):
    images, _ = samples
    probs = digit_model.explain_batch(images)[0]
    np.testing.assert_allclose(probs, digit_model.keras_model.predict(images[..., None], verbose=0), atol=1e-5)


def test_heatmap_is_hot_on_the_stroke(digit_model, mnist_test):
    """At the last conv layer the map is hotter on the ink than on background away from it: HiResCAM's
    on every digit, Grad-CAM's on most (behind Flatten + Dense its averaged gradient loses where the
    evidence is: 180 of these 200 on the 30-epoch model, 178 on the shipped one)."""
    x, _ = mnist_test
    images = x[:200].astype(np.float32) / 255
    ink = images > 0.5
    far = np.stack([cv2.dilate(i.astype(np.uint8), np.ones((9, 9), np.uint8)) == 0 for i in ink])
    for method, share in (("gradcam", 0.85), ("hirescam", 0.98)):
        _, cams, _, _ = digit_model.explain_batch(images, digit_model.default_layer, method)
        hot_on_ink = [cam[i].mean() > cam[b].mean() for cam, i, b in zip(cams, ink, far, strict=True)]
        assert np.mean(hot_on_ink) >= share, method


def test_maps_are_in_unit_range_and_never_nan(digit_model):
    blank = np.zeros((3, 28, 28), np.float32)
    for method in ("gradcam", "layercam", "scorecam"):
        _, cams, _, _ = digit_model.explain_batch(blank, digit_model.layer_names[0], method)
        assert np.isfinite(cams).all() and cams.min() >= 0 and cams.max() <= 1


def test_zero_map_stays_zero_and_is_flagged():
    contributions = -tf.ones((2, 7, 7, 4))  # no positive evidence anywhere
    cams, empty = finish_cam(contributions, tf.constant([28, 28]))
    assert np.all(cams.numpy() == 0) and np.all(empty.numpy())
    cams, empty = finish_cam(tf.ones((1, 7, 7, 4)), tf.constant([28, 28]))
    assert cams.numpy().max() == pytest.approx(1.0) and not empty.numpy()[0]


def test_empty_map_carries_a_note(digit_model, mnist_test):
    x, _ = mnist_test
    first = digit_model.layer_names[0]
    results = [digit_model.predict(i.astype(np.float32) / 255, layer=first, with_faithfulness=False) for i in x[:30]]
    for result in results:
        explanation = result["explanation"]
        assert explanation["empty"] == (max(map(max, explanation["heatmap"])) == 0)
        assert ("note" in explanation) == explanation["empty"]


def test_one_compiled_function_per_layer_and_method(digit_model, samples):
    images, _ = samples
    function = digit_model.engine.explainer(digit_model.layer_names[-2], "gradcam")
    for batch in (images[:1], images, images[:2]):
        digit_model.explain_batch(batch, digit_model.layer_names[-2])
    assert digit_model.engine.explainer(digit_model.layer_names[-2], "gradcam") is function
    # One traced graph serves every batch size: a concrete function cannot be retraced.
    assert isinstance(function, tf.types.experimental.ConcreteFunction)
    assert function.structured_input_signature[0][0].shape.as_list() == [None, 28, 28, 1]


def test_layers_and_methods_are_validated(digit_model, samples):
    images, _ = samples
    with pytest.raises(ValueError, match="Unknown layer"):
        digit_model.explain_batch(images, "dense")
    with pytest.raises(ValueError, match="Unknown method"):
        digit_model.explain_batch(images, None, "guessing")
    with pytest.raises(ValueError, match="0 to 9"):
        digit_model.predict(images[0], class_index=10)


def faithfulness_reference(model: DigitModel, image: np.ndarray, heatmap: np.ndarray, digit: int,
                           steps: int = FAITHFULNESS_STEPS) -> tuple[float, float]:
    """Deletion / insertion AUC step by step: pixels zeroed / revealed hottest first."""
    order = np.argsort(-heatmap.ravel(), kind="stable")
    deletion, insertion = [], []
    for count in np.round(np.linspace(0, 784, steps + 1)).astype(int):
        removed = np.zeros(784, bool)
        removed[order[:count]] = True
        for curve, x in ((deletion, np.where(removed, 0, image.ravel())),
                         (insertion, np.where(removed, image.ravel(), 0))):
            curve.append(reference_probabilities(model, x)[0, digit])
    return np.trapezoid(deletion, dx=1 / steps), np.trapezoid(insertion, dx=1 / steps)


def random_map_scores(model: DigitModel, images: np.ndarray, classes: np.ndarray) -> np.ndarray:
    return np.array([faithfulness_reference(model, image, np.random.default_rng(i).random((28, 28)), digit)
                     for i, (image, digit) in enumerate(zip(images, classes, strict=True))])


_FLOAT32: dict[int, DigitModel] = {}


def scored_in_float32(model: DigitModel) -> DigitModel:
    """The same model with its faithfulness curves scored in float32, whatever this CPU offers."""
    if id(model) not in _FLOAT32:
        _FLOAT32[id(model)] = DigitModel(model.keras_model, model.path, faithfulness_precision="float32")
    return _FLOAT32[id(model)]


def test_faithfulness_matches_the_step_by_step_curves(any_model, mnist_test):
    """The batched AUCs equal pixel-by-pixel curves (in float32), and deleting Grad-CAM-hot pixels first
    hurts more than random."""
    x, _ = mnist_test
    images = x[:20].astype(np.float32) / 255
    model = scored_in_float32(any_model)
    _, cams, classes, _, scores = model.explain_with_faithfulness(images, model.default_layer)
    for image, cam, digit, score in zip(images[:3], cams, classes, scores, strict=False):
        np.testing.assert_allclose(score, faithfulness_reference(model, image, cam, digit), atol=1e-4)
    assert np.all((scores >= 0) & (scores <= 1))
    assert scores[:, 0].mean() < random_map_scores(model, images, classes)[:, 0].mean()  # lower is better


def test_bfloat16_scoring_moves_the_areas_by_less_than_a_hundredth(any_model, mnist_test):
    """The bfloat16 twin scores only the perturbed copies: the answer and the map are the float32 ones,
    and each area is within 0.01 of float32 scoring (the 8 steps themselves are off by ~0.016)."""
    x, _ = mnist_test
    images = x[:40].astype(np.float32) / 255
    exact = scored_in_float32(any_model)
    twin = DigitModel(any_model.keras_model, any_model.path, faithfulness_precision="bfloat16")
    assert twin.engine.faithfulness_precision == "bfloat16" and exact.engine.faithfulness_precision == "float32"
    expected = exact.explain_with_faithfulness(images, exact.default_layer)
    got = twin.explain_with_faithfulness(images, twin.default_layer)
    for name, a, b in zip(("probabilities", "maps", "classes", "empty"), expected[:4], got[:4], strict=True):
        np.testing.assert_array_equal(a, b, err_msg=name)
    assert np.abs(got[4] - expected[4]).max() <= 0.01
    # The shipped model's mean is 0.0007; the zoo's briefly trained models, whose answers sit nearer
    # the middle of the softmax, measured up to 0.0021 here, also on the commit before this bound.
    assert np.abs(got[4] - expected[4]).mean() <= 0.003


def test_auto_precision_takes_the_twin_only_where_it_helps_and_agrees(monkeypatch, digit_model):
    from models import explain

    network, shape = digit_model.engine.network, (28, 28, 1)
    monkeypatch.setattr(explain, "native_bfloat16", lambda: False)
    assert explain.faithfulness_network(network, shape) is network  # emulated bfloat16 would be slower
    monkeypatch.setattr(explain, "native_bfloat16", lambda: True)
    twin = explain.faithfulness_network(network, shape)
    assert twin is not network and twin.layers[-1].dtype_policy.compute_dtype == "bfloat16"
    assert explain.faithfulness_network(network, shape, "float32") is network
    monkeypatch.setattr(explain, "BFLOAT16_TOLERANCE", -1.0)  # a twin that does not agree on the probes
    assert explain.faithfulness_network(network, shape) is network
    with pytest.raises(ValueError, match="auto, float32 or bfloat16"):
        explain.faithfulness_network(network, shape, "float16")


@pytest.mark.parametrize("shipped", ["digit_cnn", "seed_cnn"])
def test_faithfulness_rewards_a_good_map_of_a_trained_model(shipped, digit_model, mnist_test):
    """On the fully trained shipped models, revealing the hot pixels first also beats a random order.

    (Not asserted for the briefly trained zoo models: a model at 84 % may well prefer scattered pixels.)
    """
    from models import MODELS_DIR

    model = digit_model if shipped == "digit_cnn" else DigitModel.load(MODELS_DIR / "seed_cnn.h5")
    x, _ = mnist_test
    images = x[:20].astype(np.float32) / 255
    _, _, classes, _, scores = model.explain_with_faithfulness(images, model.default_layer)
    random_scores = random_map_scores(model, images, classes)
    assert scores[:, 0].mean() < random_scores[:, 0].mean()  # deletion: lower is better
    assert scores[:, 1].mean() > random_scores[:, 1].mean()  # insertion: higher is better
