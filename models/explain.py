"""Class-activation maps: one engine, one small weighting rule per method.

The engine (``CamEngine``) does the shared work once per layer and method, inside a single
compiled ``tf.function`` with a fixed input signature: forward pass, class choice, the
gradient of the class score *before softmax* w.r.t. the layer's activations, the per-method
weighting, sum over channels, ReLU, bilinear upsampling to the input's size and scaling to [0, 1].
It reads everything about the model from its ``ModelSpec`` (``models.adapter``): the graph, the
logits, each conv layer's activation tap, the input size and the number of classes.
Each method below only says how activations and gradients become per-channel contributions
(the shape of pytorch-grad-cam's ``BaseCAM``).

Pixel-level methods (``needs_layer=False`` in the registry: occlusion, Integrated Gradients) need
no layer, as captum splits layer and input attribution: each is one function from the input
images to per-pixel attributions, and the engine finishes them as it finishes a CAM (ReLU: the
positive evidence; scaling to [0, 1]; the same empty flag and faithfulness scores).
"""

from __future__ import annotations

import functools
import itertools
import re
import threading
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import keras
import numpy as np
import tensorflow as tf

from models.adapter import ModelSpec, adapt
from models.faithfulness import faithfulness_auc
from models.inference import FAITHFULNESS_PRECISIONS
from models.methods import DEFAULT_METHOD, METHOD_NAMES, needs_layer
from models.novelty import NoveltyDetector

EPSILON = 1e-7


class CamInputs(NamedTuple):
    activations: tf.Tensor  # (B, h, w, K)
    gradients: tf.Tensor  # (B, h, w, K): d class logit / d activations
    images: tf.Tensor  # (B, H, W, 1)
    classes: tf.Tensor  # (B,)
    class_probability: Callable[[tf.Tensor, tf.Tensor], tf.Tensor]  # (images, classes) -> (N,)
    blank_probabilities: tf.Tensor  # (classes,): the network's answer for an all-zero input


def gradcam(c: CamInputs) -> tf.Tensor:
    """Selvaraju et al. 2017: channel weight = spatial mean of the gradient."""
    return c.activations * tf.reduce_mean(c.gradients, axis=(1, 2), keepdims=True)


def gradcam_plus_plus(c: CamInputs) -> tf.Tensor:
    """Chattopadhay et al. 2018: pixel-wise alphas from 2nd/3rd gradient powers (exp-score form)."""
    g2 = tf.square(c.gradients)
    g3 = g2 * c.gradients
    sum_a = tf.reduce_sum(c.activations, axis=(1, 2), keepdims=True)
    denominator = 2.0 * g2 + sum_a * g3
    alpha = tf.where(c.gradients != 0.0, g2 / tf.where(denominator != 0.0, denominator, 1.0), 0.0)
    weights = tf.reduce_sum(alpha * tf.nn.relu(c.gradients), axis=(1, 2), keepdims=True)
    return c.activations * weights


def hirescam(c: CamInputs) -> tf.Tensor:
    """Draelos & Carin 2020: element-wise gradient x activation, no spatial averaging."""
    return c.activations * c.gradients


def layercam(c: CamInputs) -> tf.Tensor:
    """Jiang et al. 2021: element-wise positive gradient x activation; useful at shallow layers."""
    return c.activations * tf.nn.relu(c.gradients)


def scorecam(c: CamInputs) -> tf.Tensor:
    """Wang et al. 2020: weight = class probability gain when the input is masked by each channel.

    All B*K masked inputs go through the network in one batched forward pass.
    """
    b, k = tf.shape(c.activations)[0], tf.shape(c.activations)[3]
    size = tf.shape(c.images)[1:3]
    maps = tf.image.resize(c.activations, size, method="bilinear")  # (B, H, W, K)
    low = tf.reduce_min(maps, axis=(1, 2), keepdims=True)
    high = tf.reduce_max(maps, axis=(1, 2), keepdims=True)
    masks = tf.math.divide_no_nan(maps - low, high - low)
    masked = c.images * masks  # (B, H, W, K)
    masked = tf.reshape(tf.transpose(masked, (0, 3, 1, 2)), (-1, size[0], size[1], 1))
    scores = c.class_probability(masked, tf.repeat(c.classes, k))
    baseline = tf.gather(c.blank_probabilities, c.classes)
    weights = tf.reshape(scores, (b, k)) - baseline[:, None]
    return c.activations * weights[:, None, None, :]


# One weighting rule per entry of the registry (``models.methods``), in its order.
WEIGHTINGS: dict[str, Callable[[CamInputs], tf.Tensor]] = {
    "gradcam": gradcam,
    "gradcam++": gradcam_plus_plus,
    "layercam": layercam,
    "hirescam": hirescam,
    "scorecam": scorecam,
}


class PixelInputs(NamedTuple):
    images: tf.Tensor  # (B, H, W, 1)
    classes: tf.Tensor  # (B,)
    logits: Callable[[tf.Tensor], tf.Tensor]  # the network: images (N, H, W, 1) -> class scores (N, classes)


OCCLUSION_PATCH = 7  # pixels per side of the blacked-out square: a quarter of the digit, about two strokes wide
OCCLUSION_STRIDE = 3  # 8 x 8 = 64 patch positions that tile 28 x 28 exactly, all in one batch
INTEGRATED_GRADIENTS_STEPS = 32  # path points, all in one batch: <= 10 ms per digit here


def occlusion_patches(size: tuple[int, int], patch: int = OCCLUSION_PATCH,
                      stride: int = OCCLUSION_STRIDE) -> np.ndarray:
    """(P, H, W) float masks, 1 inside each patch position: a grid that covers every pixel."""
    h, w = size
    tops = list(range(0, h - patch + 1, stride))
    lefts = list(range(0, w - patch + 1, stride))
    tops += [h - patch] if tops[-1] != h - patch else []
    lefts += [w - patch] if lefts[-1] != w - patch else []
    masks = np.zeros((len(tops) * len(lefts), h, w), np.float32)
    for i, (top, left) in enumerate(itertools.product(tops, lefts)):
        masks[i, top:top + patch, left:left + patch] = 1.0
    return masks


def occlusion(p: PixelInputs) -> tf.Tensor:
    """Zeiler & Fergus 2014: the class probability's drop when a patch is blacked out, averaged over
    the patches that cover each pixel (captum's ``Occlusion``). All B*P occluded inputs are one batch."""
    size = p.images.shape[1:3]
    masks = tf.constant(occlusion_patches(tuple(size)))  # (P, H, W)
    count = tf.shape(masks)[0]
    occluded = p.images[:, None, :, :, 0] * (1.0 - masks[None])  # (B, P, H, W): black is MNIST's background
    occluded = tf.reshape(occluded, (-1, size[0], size[1], 1))
    probabilities = tf.nn.softmax(p.logits(tf.concat([p.images, occluded], axis=0)))
    b = tf.shape(p.images)[0]
    original = tf.gather(probabilities[:b], p.classes, batch_dims=1)  # (B,)
    masked = tf.gather(probabilities[b:], tf.repeat(p.classes, count), batch_dims=1)
    drops = original[:, None] - tf.reshape(masked, (b, count))  # (B, P)
    covered = tf.reduce_sum(masks, axis=0)  # (H, W): patches over each pixel
    return tf.einsum("bp,phw->bhw", drops, masks) / covered


def integrated_gradient_path(steps: int = INTEGRATED_GRADIENTS_STEPS) -> tuple[np.ndarray, np.ndarray]:
    """Points alpha in (0, 1) and their weights: the midpoint rule in t with alpha = t^2.

    The class score of a ReLU network bends most near the black baseline, where each unit starts
    to fire; points spaced by t^2 sit denser there, which on the shipped model halves the
    completeness error of evenly spaced points at the same count.
    """
    t = (np.arange(steps, dtype=np.float64) + 0.5) / steps
    return (t ** 2).astype(np.float32), (2 * t / steps).astype(np.float32)


def integrated_gradients(p: PixelInputs, steps: int = INTEGRATED_GRADIENTS_STEPS) -> tf.Tensor:
    """Sundararajan et al. 2017, black baseline: (x - 0) times the path integral of the gradient of
    the class score (before softmax) from 0 to x. All B*steps path points are one batch."""
    alphas, weights = (tf.constant(a) for a in integrated_gradient_path(steps))
    size = p.images.shape[1:]
    path = tf.reshape(alphas[None, :, None, None, None] * p.images[:, None], (-1, *size))  # (B*steps, H, W, 1)
    with tf.GradientTape() as tape:
        tape.watch(path)
        score = tf.gather(p.logits(path), tf.repeat(p.classes, steps), batch_dims=1)
    gradients = tf.reshape(tape.gradient(score, path), (-1, steps, *size))
    return (p.images * tf.tensordot(weights, tf.transpose(gradients, (1, 0, 2, 3, 4)), axes=1))[..., 0]


# One attribution function per pixel-level entry of the registry, in its order.
PIXEL_ATTRIBUTIONS: dict[str, Callable[[PixelInputs], tf.Tensor]] = {
    "occlusion": occlusion,
    "integrated_gradients": integrated_gradients,
}
assert (*WEIGHTINGS, *PIXEL_ATTRIBUTIONS) == METHOD_NAMES


def finish_cam(contributions: tf.Tensor, size: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """Sum over channels, ReLU, bilinear upsampling, scale each map to [0, 1] by its maximum.

    A map with no positive evidence stays all zero (never NaN); the second result flags it.
    """
    cam = tf.nn.relu(tf.reduce_sum(contributions, axis=-1, keepdims=True))
    return scale_maps(tf.image.resize(cam, size, method="bilinear")[..., 0])


def scale_maps(cam: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """(B, H, W) non-negative maps -> each scaled to [0, 1] by its maximum, and the empty flags."""
    peak = tf.reduce_max(cam, axis=(1, 2))
    empty = peak <= EPSILON
    cam = tf.where(empty[:, None, None], 0.0, cam / tf.maximum(peak, EPSILON)[:, None, None])
    return tf.clip_by_value(cam, 0.0, 1.0), empty


_TAP_LAYERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def activation_layer_name(model: keras.Model, conv_name: str) -> str:
    """The name of the layer whose output is ``conv_name``'s activations in the loaded ``model`` (the block rule).

    For code that works on the loaded model itself, such as the naive baseline of ``make bench``;
    adapted once per model, so that calling it per request costs a dictionary look-up.
    """
    if model not in _TAP_LAYERS:
        _TAP_LAYERS[model] = {conv.name: conv.tap_layer for conv in adapt(model, fold_batch_norm=False).convs}
    return _TAP_LAYERS[model][conv_name]


BFLOAT16_TOLERANCE = 0.01  # largest class-probability change a bfloat16 twin may make on the probe digits


@functools.cache
def native_bfloat16() -> bool:
    """Whether this CPU multiplies bfloat16 natively (AVX512-BF16 or AMX); elsewhere it is emulated, slower."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return re.search(r"\b(avx512_bf16|amx_bf16)\b", flags) is not None


def bfloat16_twin(network: keras.Model) -> keras.Model:
    """The same network with its weights and arithmetic in bfloat16.

    Weights stored in bfloat16, not cast from float32 on each call as Keras's ``mixed_bfloat16``
    does: 7 % less model time per request here, and the same scores.
    """
    twin = keras.models.clone_model(network, clone_function=lambda layer: layer.__class__.from_config(
        {**layer.get_config(), "dtype": "bfloat16"}))
    twin.set_weights(network.get_weights())
    return twin


def faithfulness_network(network: keras.Model, shape: tuple[int, ...], precision: str = "auto") -> keras.Model:
    """The network that scores the faithfulness curves' perturbed inputs: ``network`` or its bfloat16 twin.

    The 14 perturbed copies of a digit are three quarters of a request's model time. In bfloat16
    they take a third less time where the CPU has bfloat16 arithmetic, and the areas move by at
    most 0.005 (mean 0.0007 over 400 test digits on the shipped model): a twentieth of what the
    curves' 8 steps already cost in accuracy (mean 0.016 against 56 steps). "auto" takes the twin
    on such a CPU if it builds and agrees with the network within ``BFLOAT16_TOLERANCE`` on probe
    digits, else the network itself; "float32" always takes the network.
    """
    if precision == "float32" or (precision == "auto" and not native_bfloat16()):
        return network
    if precision not in FAITHFULNESS_PRECISIONS:
        names = ", ".join(FAITHFULNESS_PRECISIONS[:-1]) + f" or {FAITHFULNESS_PRECISIONS[-1]}"
        raise ValueError(f"faithfulness precision must be {names}, not {precision!r}.")
    try:
        twin = bfloat16_twin(network)
    except Exception:  # a layer that cannot be rebuilt in another precision: score in float32
        if precision == "bfloat16":
            raise
        return network
    probes = np.zeros((4, *shape), np.float32)
    probes[1, 6:22, 12:16] = 1.0  # a 1
    probes[2, 6:22, 8:20] = np.linspace(0, 1, 12, dtype=np.float32)[None, :, None]  # a ramp
    probes[3] = np.random.default_rng(0).random(shape, dtype=np.float32)  # noise
    expected = tf.nn.softmax(network(probes, training=False))
    twin_answer = tf.nn.softmax(tf.cast(twin(probes, training=False), tf.float32))
    if precision == "auto" and float(tf.reduce_max(tf.abs(expected - twin_answer))) > BFLOAT16_TOLERANCE:
        return network
    return twin


class CamEngine:
    """Compiled probabilities + class-activation maps for one model, cached per (layer, method)."""

    def __init__(self, spec: ModelSpec, faithfulness_precision: str = "auto") -> None:
        """``faithfulness_precision``: "float32", "bfloat16" or "auto" (see ``faithfulness_network``)."""
        self.spec = spec
        self.network = spec.network  # BatchNorm folded by the adapter: 15-25 % less time per digit here
        self._shape = (*spec.image_size, 1)
        self._explainers: dict[tuple[str, str, int], Callable] = {}
        self._lock = threading.Lock()  # threaded workers: build each function once
        self.novelty: NoveltyDetector | None = None
        self._reader: Callable | None = None
        # Score-CAM's baseline and the end of every deletion curve: a constant of the model.
        self._blank = self._probabilities(tf.zeros((1, *self._shape)))[0]
        self.faithfulness_network = faithfulness_network(self.network, self._shape, faithfulness_precision)

    @property
    def faithfulness_precision(self) -> str:
        return "float32" if self.faithfulness_network is self.network else "bfloat16"

    def _probabilities(self, images: tf.Tensor) -> tf.Tensor:
        return tf.nn.softmax(self.network(images, training=False))

    def _scored_probabilities(self, images: tf.Tensor) -> tf.Tensor:
        """The faithfulness curves' class probabilities of perturbed inputs, in the scoring precision."""
        return tf.nn.softmax(tf.cast(self.faithfulness_network(images, training=False), tf.float32))

    def _class_probability(self, images: tf.Tensor, classes: tf.Tensor) -> tf.Tensor:
        return tf.gather(self._probabilities(images), classes, batch_dims=1)

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """images (B, H, W) in [0, 1] -> class probabilities (B, classes)."""
        return self._probabilities(tf.constant(np.asarray(images, np.float32).reshape(-1, *self._shape))).numpy()

    def set_novelty(self, detector: NoveltyDetector | None) -> None:
        """Score every explained digit with ``detector`` (``models.novelty``) in the same compiled call."""
        with self._lock:
            self.novelty = detector
            self._explainers.clear()
            self._reader = None

    def read(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """images (B, H, W) in [0, 1] -> class probabilities (B, classes) and novelty scores (B,) (zeros
        without a detector), in one compiled call: what a candidate digit is read as, and whether it is one."""
        with self._lock:
            if self._reader is None:
                novelty, scores = self.novelty, self.spec.scores

                @tf.function(input_signature=[tf.TensorSpec((None, *self._shape), tf.float32)])
                def reader(batch):
                    features, logits = scores(batch, training=False)
                    logits = tf.cast(logits, tf.float32)
                    found = novelty.score(features, logits) if novelty else tf.zeros(tf.shape(logits)[:1])
                    return tf.nn.softmax(logits), found

                self._reader = reader
            reader = self._reader
        probs, found = reader(tf.constant(np.asarray(images, np.float32).reshape(-1, *self._shape)))
        return probs.numpy(), found.numpy()

    def features_and_logits(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """images (B, H, W) in [0, 1] -> novelty features (B, D + C: the penultimate features, then the conv
        layers' activations averaged over space), logits (B, classes)."""
        features, logits = self.spec.scores(tf.constant(np.asarray(images, np.float32).reshape(-1, *self._shape)),
                                            training=False)
        return np.asarray(features), np.asarray(logits)

    def explainer(self, layer: str | None, method: str, faithfulness_steps: int = 0) -> Callable:
        """The compiled ``(images (B,H,W,1), classes (B,)) -> probs, cams, classes, empty, faithfulness, novelty``.

        A negative class means "the top-1 class of that image". With ``faithfulness_steps`` the
        same call also scores each map (deletion and insertion AUC, (B, 2)); else that is zeros.
        ``layer`` is ignored for a method that needs none. ``novelty`` (B,) is the novelty detector's
        score of each image, zeros without a detector.
        """
        layer = layer if needs_layer(method) else None
        key = (layer, method, faithfulness_steps)
        with self._lock:
            if key not in self._explainers:
                if layer is None:
                    maps = self._pixel_maps(PIXEL_ATTRIBUTIONS[method])
                else:
                    maps = self._cam_maps(layer, WEIGHTINGS[method])
                self._explainers[key] = self._compile(maps, faithfulness_steps)
            return self._explainers[key]

    def _cam_maps(self, layer: str, weighting: Callable[[CamInputs], tf.Tensor]) -> Callable:
        """(images, classes) -> logits, features, classes, maps, empty: one class-activation method at one layer."""
        taps = self.spec.taps_and_features(layer)

        def maps(images, classes):
            with tf.GradientTape() as tape:
                activations, features, logits = taps(images, training=False)
                classes = tf.where(classes < 0, tf.argmax(logits, axis=-1, output_type=tf.int32), classes)
                score = tf.gather(logits, classes, batch_dims=1)
            gradients = tape.gradient(score, activations)
            contributions = weighting(CamInputs(activations, gradients, images, classes, self._class_probability,
                                                self._blank))
            return (logits, features, classes, *finish_cam(contributions, tf.shape(images)[1:3]))

        return maps

    def _pixel_maps(self, attribution: Callable[[PixelInputs], tf.Tensor]) -> Callable:
        """(images, classes) -> logits, features, classes, maps, empty: one pixel-level method."""
        network, scores = self.network, self.spec.scores

        def maps(images, classes):
            features, logits = scores(images, training=False)
            classes = tf.where(classes < 0, tf.argmax(logits, axis=-1, output_type=tf.int32), classes)
            attributions = attribution(PixelInputs(images, classes, lambda x: network(x, training=False)))
            return (logits, features, classes, *scale_maps(tf.nn.relu(attributions)))

        return maps

    def _compile(self, maps: Callable, faithfulness_steps: int) -> Callable:
        novelty = self.novelty

        @tf.function(input_signature=[tf.TensorSpec([None, *self._shape], tf.float32),
                                      tf.TensorSpec([None], tf.int32)])
        def explain(images, classes):
            logits, features, classes, cams, empty = maps(images, classes)
            probabilities = tf.nn.softmax(logits)
            if faithfulness_steps:
                original = tf.gather(probabilities, classes, batch_dims=1)
                blank = tf.gather(self._blank, classes)
                scores = faithfulness_auc(images, cams, classes, original, blank, self._scored_probabilities,
                                          faithfulness_steps)
            else:
                scores = tf.zeros((tf.shape(images)[0], 2))
            novelty_scores = novelty.score(features, logits) if novelty else tf.zeros(tf.shape(images)[:1])
            return probabilities, cams, classes, empty, scores, novelty_scores

        return explain.get_concrete_function()  # called directly: no signature matching per call

    def explain(self, images: np.ndarray, layer: str | None, method: str = DEFAULT_METHOD,
                classes: np.ndarray | None = None, faithfulness_steps: int = 0) -> tuple[np.ndarray, ...]:
        """NumPy in and out: images (B, H, W) in [0, 1] -> probs (B, classes), cams (B, H, W), classes, empty,
        faithfulness (B, 2), novelty scores (B,)."""
        x = np.asarray(images, np.float32).reshape(-1, *self._shape)
        c = np.full(len(x), -1, np.int32) if classes is None else np.asarray(classes, np.int32).reshape(-1)
        outputs = self.explainer(layer, method, faithfulness_steps)(tf.constant(x), tf.constant(c))
        return tuple(t.numpy() for t in outputs)
