"""Train the digit counter that number segmentation asks "one digit, or several?": ``python -m train.counter``.

Segmentation (``models/segment.py``) lets the digit model judge whether ink is one digit or a
cut of it several, but a digit model reads two touching digits as one digit as surely as it
reads a real one ("16" as a 6, "41" as a 4): it was never shown two. Before this counter, how
wide the ink is for its height was the only other evidence, and a 1 touching its neighbour is
no wider than many single digits. The counter is a small CNN on the ink's shape at its own
aspect ratio (``models.segment.count_input``), trained here on

- one digit: MNIST *training* digits drawn with a pen (as ``train.numbers`` draws a number's
  digits), as the predict page's canvas sends them, and as ``train.drawings`` renders them (both
  polarities, photos, tight crops, frame-filling scans, blown-up thumbnails, small on a big canvas);
- several: two or three MNIST training digits composed as ``train.numbers`` composes them,
  touching (half of them), a hair apart or overlapping; half of them by a looser hand (``HAND``:
  further off the line, touching digits written into each other), the rest turned now and then
  (``TILT``), as the pen-drawn single digits are.

The numbers it is measured on (``python -m train.numbers``) are composed from MNIST *test*
digits, and its weights are used by NumPy alone (``models/digit_counter.npz``), so segmentation
needs no second network runtime. Seeded: the same seed gives the same file.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from models import MODELS_DIR

COUNTER_PATH = MODELS_DIR / "digit_counter.npz"
SAMPLES = 40000  # half one digit, half several
EPOCHS = 10
# A looser hand for half the several digits: each digit up to this share of the height off the line,
# touching digits written into each other by up to this share of it (``train.numbers.compose``);
# the other half of them, and the pen-drawn single digits, turned half the time up to TILT degrees.
HAND = (0.15, 0.15)
TILT = 8.0


def _count_inputs(files: list[bytes]) -> np.ndarray:
    from models.preprocess import NoDigitFound, image_ink, load_image
    from models.segment import count_input_of_image

    inputs = []
    for data in files:
        try:
            inputs.append(count_input_of_image(image_ink(load_image(data))))
        except NoDigitFound:
            inputs.append(None)
    return inputs


def tilted(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Half the time, ink turned by up to ``TILT`` degrees either way (a number written askew)."""
    import cv2

    if rng.random() < 0.5:
        return ink
    h, w = ink.shape
    turn = cv2.getRotationMatrix2D((w / 2, h / 2), rng.uniform(-TILT, TILT), 1.0)
    return cv2.warpAffine(ink, turn, (w, h))


def counter_set(count: int, seed: int, pairs: float = 0.7, hand: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """``count`` counter inputs (N, COUNT_HEIGHT, COUNT_WIDTH) and the digits each shows, left to
    right (N, 3), -1 past the last: half one digit, half several (two of them a share ``pairs``); with
    ``hand``, half the several by the looser ``HAND`` and the rest, and the pen-drawn digits, ``tilted``."""
    from PIL import Image

    from models.mnist import load_mnist
    from train.drawings import EDGE_KINDS, STYLES, _encode, realistic_drawings
    from train.nondigits import canvas_digit
    from train.numbers import FILE_STYLES, compose, save_as

    x_train, y_train, _, _ = load_mnist()
    rng = np.random.default_rng(seed)
    files, digits = [], []
    singles = count // 2
    # One digit: a third drawn with the numbers' pen, a sixth as the predict page's canvas sends it,
    # the rest as the drawings render single digits.
    for n in range(singles // 2):
        index = int(rng.integers(len(x_train)))
        digit = x_train[index]
        digits.append([int(y_train[index])])
        if n % 3 == 2:
            files.append(_encode(Image.fromarray(canvas_digit(digit, rng)), "PNG"))
        else:
            ink = compose([digit], "separated", rng)
            ink = tilted(ink, rng) if hand else ink
            files.append(save_as(ink, FILE_STYLES[int(rng.integers(len(FILE_STYLES)))], rng))
    for styles in (STYLES, EDGE_KINDS):
        drawn = realistic_drawings(x_train, y_train, (singles - singles // 2) // 2, int(rng.integers(1 << 30)), styles)
        files += [d.data for d in drawn]
        digits += [[d.label] for d in drawn]
    # Several: two (or three) digits touching (half of them), a hair apart, or overlapping; with
    # ``hand``, half of them by a looser hand (``HAND``).
    for n in range(count - len(files)):
        kind = ("touching", "touching", "overlaps", "gaps")[n % 4]
        picks = rng.integers(len(x_train), size=2 if rng.random() < pairs else 3)
        digits_drawn = [x_train[int(i)] for i in picks]
        if hand and n % 2:
            ink = compose(digits_drawn, kind, rng, *HAND)
        else:
            ink = compose(digits_drawn, kind, rng)
            ink = tilted(ink, rng) if hand else ink
        files.append(save_as(ink, FILE_STYLES[int(rng.integers(len(FILE_STYLES)))], rng))
        digits.append([int(y_train[int(i)]) for i in picks])
    inputs = _count_inputs(files)
    keep = [i for i, x in enumerate(inputs) if x is not None]
    shown = np.full((len(keep), 3), -1)
    for row, i in enumerate(keep):
        shown[row, :len(digits[i])] = digits[i]
    return np.stack([inputs[i] for i in keep]), shown


def build_shape_network(filters: tuple[int, int, int], hidden: int, outputs: int, output: str, dropout: float):
    """The small CNN segmentation runs in NumPy (``models.segment._shape_network``) on ink seen at its own
    aspect ratio: three 3x3 convolutions (two max-pooled), a hidden dense layer, and ``outputs`` logits."""
    import keras
    from keras import layers

    from models.segment import COUNT_HEIGHT, COUNT_WIDTH

    inputs = keras.Input((COUNT_HEIGHT, COUNT_WIDTH, 1))
    x = inputs
    for k, width in enumerate(filters, start=1):
        x = layers.Conv2D(width, 3, padding="same", activation="relu", name=f"conv{k}")(x)
        if k < len(filters):
            x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(dropout)(x)
    x = layers.Dense(hidden, activation="relu", name="dense")(x)
    return keras.Model(inputs, layers.Dense(outputs, name=output)(x))


def build_counter():
    return build_shape_network((16, 32, 32), 32, 1, "several", 0.3)


def train(count: int, seed: int, epochs: int, out: Path) -> dict:
    import keras

    keras.utils.set_random_seed(seed)
    started = time.perf_counter()
    x, shown = counter_set(count, seed)
    y = shown[:, 1] >= 0
    made = time.perf_counter() - started
    order = np.random.default_rng(seed).permutation(len(x))
    x, y = x[order], y[order].astype(np.float32)
    held = len(x) // 10
    logits = fit_and_save(build_counter(), keras.losses.BinaryCrossentropy(from_logits=True), x, y, held, epochs,
                          out)[:, 0]
    held_out = y[:held].astype(bool)
    return {"samples": len(x), "seconds_making": round(made, 1), "seconds": round(time.perf_counter() - started, 1),
            "held_out_accuracy": float(np.mean((logits > 0) == held_out)),
            "one_digit_called_several": float(np.mean(logits[~held_out] > 0)),
            "several_called_one": float(np.mean(logits[held_out] <= 0))}


def fit_and_save(model, loss, x: np.ndarray, y: np.ndarray, held: int, epochs: int, out: Path) -> np.ndarray:
    """Train a shape network on all but the first ``held`` inputs, save its weights for NumPy (by layer
    name) at ``out``, and return its outputs for the ``held`` inputs it did not learn from."""
    import keras

    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss, metrics=["accuracy"])
    model.fit(x[held:, ..., None], y[held:], batch_size=128, epochs=epochs, verbose=2,
              validation_data=(x[:held, ..., None], y[:held]))
    weights = {f"{layer.name}.{i}": w for layer in model.layers if layer.weights
               for i, w in enumerate(layer.get_weights())}
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, **weights)
    return model.predict(x[:held, ..., None], verbose=0)


def shape_network_main(argv: list[str] | None, module: str, doc: str, train, samples: int, epochs: int,
                       out: Path) -> int:
    """The command line of ``python -m MODULE``: train a shape network with ``train(count, seed, epochs, out)``."""
    parser = argparse.ArgumentParser(prog=f"python -m {module}", description=doc.splitlines()[0])
    parser.add_argument("--count", type=int, default=samples)
    parser.add_argument("--epochs", type=int, default=epochs)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=out)
    args = parser.parse_args(argv)
    print(train(args.count, args.seed, args.epochs, args.out))
    return 0


def main(argv: list[str] | None = None) -> int:
    return shape_network_main(argv, "train.counter", __doc__, train, SAMPLES, EPOCHS, COUNTER_PATH)


if __name__ == "__main__":
    sys.exit(main())
