"""Train the pair reader that number segmentation asks "which two digits?": ``python -m train.pairs``.

Where two digits touch, segmentation tries a dozen cuts and the digit model reads each cut's
pieces; but a stub of one digit left on the other changes what the model reads (a 7 with the
foot of a 3 reads 2 surely, a 1 with a loop of its neighbour reads 6), and the model is as sure
of the wrong cut as of the right one. The pair reader looks at the touching ink *whole*, at its
own aspect ratio (``models.segment.count_input``, like the digit counter), and says which of the
hundred pairs it shows, which single digit, or that it is no digit at all (111 classes: ``d`` for
one digit ``d``, ``10 + 10 a + b`` for the pair ``ab``, 110 for none). Segmentation asks it about
each piece it tries to cut in two, and about ink the counter doubts is one digit: a cut whose
pieces read as the pair the reader expects is preferred to one that does not
(``models.segment.PAIR_WEIGHT``), ink it is sure is two digits may be cut (``PAIR_SURE``), and a
cut that reads as its pair is kept as two digits (``PAIR_AGREES``).

It is two networks of one shape, whose readings segmentation averages. The first learns from the digit
counter's recipe (``train.counter.counter_set``) without its looser hand (trained with it, the reader
read an infinity sign as 00 and numbers no better), with more pairs: MNIST *training* digits drawn
singly (pen, canvas, the drawings' styles) and composed in pairs touching, a hair apart or
overlapping, and as "no digit" the not-a-digit detector's exposure kinds (``no_digit_set``). The
second (``--boxes``) learns the same with a fifth of its inputs from MNIST's own boxes as it ships them,
one or two side by side (``box_set``): the first took a tenth of such pairs, and a third of the pairs
another hand pressed together, for no digit at all; alone, the second took a drawn H for 14. The
numbers they are measured on are made of MNIST *test* digits. Their weights are used by NumPy alone
(``models/pair_reader.npz``, ``models/pair_reader_boxes.npz``). Seeded.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from models import MODELS_DIR

PAIRS_PATH = MODELS_DIR / "pair_reader.npz"
BOXES_PATH = MODELS_DIR / "pair_reader_boxes.npz"  # the second reader (``--boxes``)
SAMPLES = 60000
EPOCHS = 12
CLASSES = 111  # 0-9: one digit; 10 + 10 a + b: the pair "ab"; 110: no digit at all
NO_DIGITS = 110
NO_DIGIT_SHARE = 0.15  # of the samples: characters of the novelty detector's exposure kinds, no digits
BOX_SHARE = 0.2  # of the second reader's samples: MNIST's own boxes, one or two side by side (``box_set``)


def _filed_input(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
    """The reader's input of ``ink`` saved as a file in one of the numbers' file styles (``train.numbers.save_as``)
    and read back as the app reads an upload; None where no ink is found in it."""
    from train.counter import _count_inputs
    from train.numbers import FILE_STYLES, save_as

    return _count_inputs([save_as(ink, FILE_STYLES[int(rng.integers(len(FILE_STYLES)))], rng)])[0]


def no_digit_set(count: int, seed: int) -> np.ndarray:
    """``count`` reader inputs of ink that is no digit: the novelty detector's exposure kinds
    (``train.nondigits.EXPOSURE_KINDS`` but the swollen digits, which joined them after the reader was
    trained: invented glyphs, typeset characters, shuffled tiles of a digit, ink blots; never the kinds
    its scoreboard measures), at the size of a number's digits, in the
    numbers' file styles."""
    import cv2

    from models.mnist import load_mnist
    from train.nondigits import exposure_inks

    x_train, _, _, _ = load_mnist()
    rng = np.random.default_rng(seed)
    inputs = []
    for ink in exposure_inks(count, seed, x_train, swollen=False):
        height = int(rng.integers(50, 130))
        size = (max(1, round(ink.shape[1] * height / ink.shape[0])), height)
        ink = np.clip(cv2.resize(ink.astype(np.float32), size, interpolation=cv2.INTER_LINEAR), 0.0, 1.0)
        filed = _filed_input(np.pad(ink, int(rng.integers(10, 60))), rng)
        if filed is not None:
            inputs.append(filed)
    return np.stack(inputs)


def box_set(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``count`` reader inputs of MNIST training digits as MNIST ships them (grey 28x28 boxes, not redrawn with a
    pen) and the digits each shows (N, 3), as the simplest composition puts them side by side: half one box, half
    two, the second moved along until the inks are from 2 px apart to 6 px into each other (most touch), up to
    2 px off the line; the whole blown up 1-5 times and saved in one of the numbers' file styles."""
    import cv2

    from models.mnist import load_mnist

    x_train, y_train, _, _ = load_mnist()
    rng = np.random.default_rng(seed)
    inputs, shown = [], []
    while len(inputs) < count:
        picks = rng.integers(len(x_train), size=1 if rng.random() < 0.5 else 2)
        boxes = [x_train[int(i)].astype(np.float32) / 255.0 for i in picks]
        field = np.zeros((36, 68), np.float32)
        field[4:32, 4:32] = boxes[0]
        if len(boxes) == 2:
            right = np.flatnonzero(boxes[0].max(axis=0) > 0.2).max()
            left = np.flatnonzero(boxes[1].max(axis=0) > 0.2).min()
            x = 4 + right - left + int(rng.integers(-5, 4))
            y = 4 + int(rng.integers(-2, 3))
            field[y:y + 28, x:x + 28] = np.maximum(field[y:y + 28, x:x + 28], boxes[1])
        field = field[:, :np.flatnonzero(field.max(axis=0) > 0).max() + 5]
        scale = rng.uniform(1.0, 5.0)
        field = np.clip(cv2.resize(field, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR), 0.0, 1.0)
        filed = _filed_input(field, rng)
        if filed is None:
            continue
        inputs.append(filed)
        shown.append([int(y_train[int(i)]) for i in picks] + [-1] * (3 - len(picks)))
    return np.stack(inputs), np.array(shown)


def pair_classes(shown: np.ndarray) -> np.ndarray:
    """The class of each row of digits shown (N, 3), -1 past the last; -1 for three digits."""
    single = shown[:, 1] < 0
    pair = ~single & (shown[:, 2] < 0)
    return np.where(single, shown[:, 0], np.where(pair, 10 + 10 * shown[:, 0] + shown[:, 1], -1))


def build_reader():
    from train.counter import build_shape_network

    return build_shape_network((32, 64, 64), 128, CLASSES, "pairs", 0.4)


def train(count: int, seed: int, epochs: int, out: Path, boxes: float = 0.0) -> dict:
    """Train a pair reader on ``count`` inputs, a share ``boxes`` of them from MNIST's own boxes (``box_set``)."""
    import keras

    from train.counter import counter_set, fit_and_save

    keras.utils.set_random_seed(seed)
    started = time.perf_counter()
    x, shown = counter_set(round(count * (1 - NO_DIGIT_SHARE - boxes)), seed, pairs=1.0, hand=False)
    none = no_digit_set(round(count * NO_DIGIT_SHARE), seed + 1)
    parts, classes = [x], [pair_classes(shown)]
    if boxes:
        boxed, shown_boxed = box_set(round(count * boxes), seed + 2)
        parts.append(boxed)
        classes.append(pair_classes(shown_boxed))
    x, y = np.concatenate([*parts, none]), np.concatenate([*classes, np.full(len(none), NO_DIGITS)])
    made = time.perf_counter() - started
    order = np.random.default_rng(seed).permutation(len(x))
    x, y = x[order], y[order]
    held = len(x) // 10
    guess = fit_and_save(build_reader(), keras.losses.SparseCategoricalCrossentropy(from_logits=True), x, y, held,
                         epochs, out).argmax(axis=1)
    truth = y[:held]
    kinds = {"pairs": (truth >= 10) & (truth < NO_DIGITS), "singles": truth < 10, "no_digits": truth == NO_DIGITS}
    return {"samples": len(x), "seconds_making": round(made, 1), "seconds": round(time.perf_counter() - started, 1),
            **{f"held_out_{kind}_read": float(np.mean(guess[rows] == truth[rows])) for kind, rows in kinds.items()}}


def main(argv: list[str] | None = None) -> int:
    """``python -m train.pairs [--boxes] [--count N] [--seed S] [--epochs E] [--out PATH]``: the first reader, or with
    ``--boxes`` the second (``BOX_SHARE`` of its inputs from MNIST's own boxes)."""
    import functools

    from train.counter import shape_network_main

    argv = list(sys.argv[1:] if argv is None else argv)
    boxes = "--boxes" in argv
    argv = [a for a in argv if a != "--boxes"]
    return shape_network_main(argv, "train.pairs", __doc__, functools.partial(train, boxes=BOX_SHARE if boxes else 0.0),
                              SAMPLES, EPOCHS, BOXES_PATH if boxes else PAIRS_PATH)


if __name__ == "__main__":
    sys.exit(main())
