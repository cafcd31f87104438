"""Speed figures against the naive way, same model, same images, same run: ``make bench``."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from models import DEFAULT_MODEL_NAME, METHOD_NAMES

# Ours beside the original Streamlit app's network (models/seed_cnn.h5), which the naive row reproduces.
DEFAULT_MODELS = (DEFAULT_MODEL_NAME, "seed_cnn")


def timings(function: Callable[[np.ndarray], object], images: np.ndarray, repeats: int = 1) -> np.ndarray:
    """Milliseconds per call, one call per image (after one warm-up call)."""
    function(images[0])
    samples = []
    for _ in range(repeats):
        for image in images:
            started = time.perf_counter()
            function(image)
            samples.append((time.perf_counter() - started) * 1000)
    return np.array(samples)


def naive_top3_gradcam(model, layer: str) -> Callable[[np.ndarray], object]:
    """What the original app did: model.predict, then a grad model built per call and an eager tape.

    The grad model's tensors (the layer's activations, the logits) come from the adapter, unfolded,
    so that any model of DESIGN.md's contract runs here, not only one with a layer named "logits".
    """
    import keras
    import tensorflow as tf

    from models.adapter import adapt

    spec = adapt(model, fold_batch_norm=False)
    tap = spec.conv(layer).tap
    shape = (1, *spec.image_size, 1)[: spec.input_rank + 1]  # what the file's own model takes

    def run(image: np.ndarray):
        x = image.reshape(shape)
        probs = model.predict(x, verbose=0)[0]
        top = np.argsort(-probs)[:3]
        grad_model = keras.Model(spec.inputs, [tap, spec.logits])
        with tf.GradientTape() as tape:
            activations, logits = grad_model(image.reshape(1, *spec.image_size, 1))
            score = logits[:, int(top[0])]
        grads = tape.gradient(score, activations)
        cam = tf.nn.relu(tf.reduce_sum(activations * tf.reduce_mean(grads, axis=(1, 2), keepdims=True), -1))
        cam = tf.image.resize(cam[..., None], (28, 28))[0, ..., 0].numpy()
        return probs, top, cam / cam.max() if cam.max() > 0 else cam

    return run


def row(name: str, ms: np.ndarray, baseline: np.ndarray | None = None) -> str:
    median, p90 = np.median(ms), np.percentile(ms, 90)
    speedup = f"{np.median(baseline) / median:7.1f}x" if baseline is not None else " " * 8
    return f"{name:<44} {median:9.2f} {p90:9.2f} {speedup}"


def bench_model(path: Path, images: np.ndarray) -> None:
    """The latency table of one model: the naive way, then ours with every method."""
    from models.inference import DigitModel

    model = DigitModel.load(path)
    layer = model.default_layer
    print(f"\nmodel {model.name} ({path.name}), layer {layer}, {len(images)} MNIST test digits, one image per call")
    print(f"{'latency (ms)':<44} {'median':>9} {'p90':>9} {'speedup':>8}")
    naive = timings(naive_top3_gradcam(model.keras_model, layer), images)
    print(row("naive: predict + grad model per call + tape", naive))
    ours = timings(lambda image: model.explain_batch(image[None], layer), images, repeats=5)
    print(row("ours: compiled top-3 + Grad-CAM", ours, naive))
    for method in METHOD_NAMES[1:]:  # a pixel-level method ignores the layer
        ms = timings(lambda image, m=method: model.explain_batch(image[None], layer, m), images, repeats=2)
        print(row(f"ours: compiled top-3 + {method}", ms, naive))
    print(row("ours: predict() object, no faithfulness",
              timings(lambda image: model.predict(image, with_faithfulness=False), images, repeats=2), naive))
    print(row("ours: predict() object with faithfulness",
              timings(lambda image: model.predict(image), images, repeats=2), naive))
    with_novelty, without = novelty_cost(model, path, images)
    print(row(f"ours: the same with its {model.novelty.detector} novelty score", with_novelty, naive))
    print(row("ours: the same without a novelty detector", without, naive))
    print(f"{'novelty score adds (median of the difference)':<44} "
          f"{np.median(with_novelty) - np.median(without):9.2f} ms")


def novelty_cost(model, path: Path, images: np.ndarray, blocks: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """The prediction object with and without the novelty score, in interleaved blocks of the same images
    (the machine meets both in the same state): the score's cost, which it shares one compiled call with."""
    from models.inference import DigitModel

    bare = DigitModel.load(path, novelty=False)
    with_novelty, without = [], []
    for _ in range(blocks):
        with_novelty.append(timings(lambda image: model.predict(image), images[:20]))
        without.append(timings(lambda image: bare.predict(image), images[:20]))
    return np.concatenate(with_novelty), np.concatenate(without)


def read_file(model, data: bytes) -> dict:
    """What the API and the CLI do with an image file: decode, find the digits, explain them in one batch."""
    from models.preprocess import image_ink, load_image
    from models.segment import number_inputs, number_object

    found = number_inputs(image_ink(load_image(data)), model.read)
    return number_object([box for box, _ in found], model.predict_batch(np.stack([digit for _, digit in found])))


def bench_number(path: Path, x_test: np.ndarray, y_test: np.ndarray, count: int = 20) -> None:
    """A 4-digit number against one digit, whole file to prediction object, side by side in one run."""
    from models.inference import DigitModel
    from train.numbers import compose, save_as

    model = DigitModel.load(path)
    rng = np.random.default_rng(0)
    files = {}
    for digits in (1, 4):
        files[digits] = []
        for _ in range(count):
            picks = rng.choice(len(x_test), size=digits, replace=False)
            if digits > 1:
                ink = compose([x_test[i] for i in picks], "separated", rng)
            else:
                ink = compose([x_test[picks[0]]] * 2, "separated", rng)
                ink = ink[:, :ink.shape[1] // 2]  # the first of two: one digit, the same height and margins
            files[digits].append(save_as(ink, "black-on-white", rng))
    read_file(model, files[1][0])
    ms = {digits: timings(lambda data: read_file(model, data), data_list, repeats=2)
          for digits, data_list in files.items()}
    print(f"\nmodel {model.name}: a number read from its PNG (decode, find the digits, explain each with faithfulness)")
    print(f"{'latency (ms)':<44} {'median':>9} {'p90':>9} {'x one':>8}")
    print(row("one digit", ms[1]))
    print(f"{'4-digit number (one batched call)':<44} {np.median(ms[4]):9.2f} {np.percentile(ms[4], 90):9.2f} "
          f"{np.median(ms[4]) / np.median(ms[1]):7.2f}x")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.model_bench", description=__doc__)
    parser.add_argument("--model", nargs="+", default=list(DEFAULT_MODELS), metavar="PATH_OR_NAME",
                        help="model files or names in models/ (default: ours and the original app's seed_cnn)")
    parser.add_argument("--images", type=int, default=100, help="MNIST test digits to time")
    args = parser.parse_args(argv)

    from models.catalog import resolve_model
    from models.inference import ModelLoadError
    from models.mnist import load_mnist

    try:
        paths = [resolve_model(model) for model in args.model]
    except ModelLoadError as exc:
        parser.error(str(exc))
    _, _, x_test, y_test = load_mnist()
    images = x_test[: args.images].astype(np.float32) / 255
    for path in paths:
        bench_model(path, images)
    bench_number(paths[0], x_test, y_test)
    return 0

if __name__ == "__main__":
    raise SystemExit(main())
