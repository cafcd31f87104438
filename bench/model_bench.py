"""Speed figures against the naive way, same model, same images, same run: ``make bench``."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

from models import DEFAULT_MODEL_PATH, METHOD_NAMES


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
    """What the original app did: model.predict, then a grad model built per call and an eager tape."""
    import keras
    import tensorflow as tf

    from models.explain import activation_layer_name

    def run(image: np.ndarray):
        x = image.reshape(1, 28, 28, 1)
        probs = model.predict(x, verbose=0)[0]
        top = np.argsort(-probs)[:3]
        grad_model = keras.Model(model.input, [model.get_layer(activation_layer_name(model, layer)).output,
                                               model.get_layer("logits").output])
        with tf.GradientTape() as tape:
            activations, logits = grad_model(x)
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.model_bench", description=__doc__)
    parser.add_argument("--model", default=str(DEFAULT_MODEL_PATH))
    parser.add_argument("--images", type=int, default=100, help="MNIST test digits to time")
    args = parser.parse_args(argv)

    from models.inference import DigitModel
    from models.mnist import load_mnist

    model = DigitModel.load(args.model)
    _, _, x_test, _ = load_mnist()
    images = x_test[: args.images].astype(np.float32) / 255
    layer = model.default_layer
    print(f"model {model.name}, layer {layer}, {len(images)} MNIST test digits, one image per call\n")
    print(f"{'latency (ms)':<44} {'median':>9} {'p90':>9} {'speedup':>8}")
    naive = timings(naive_top3_gradcam(model.keras_model, layer), images)
    print(row("naive: predict + grad model per call + tape", naive))
    ours = timings(lambda image: model.explain_batch(image[None], layer), images, repeats=5)
    print(row("ours: compiled top-3 + Grad-CAM", ours, naive))
    for method in METHOD_NAMES[1:]:
        ms = timings(lambda image, m=method: model.explain_batch(image[None], layer, m), images, repeats=2)
        print(row(f"ours: compiled top-3 + {method}", ms, naive))
    print(row("ours: predict() object, no faithfulness",
              timings(lambda image: model.predict(image, with_faithfulness=False), images, repeats=2), naive))
    print(row("ours: predict() object with faithfulness",
              timings(lambda image: model.predict(image), images, repeats=2), naive))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
