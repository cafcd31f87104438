"""Numbers of 2 to 6 digits composed from MNIST test digits, to measure how well numbers are read.

Each digit is drawn with a pen (as in ``train.drawings``) at a height in pixels, and the digits
are put side by side in one of the ``KINDS`` of layout:

- ``separated``: gaps of 15-60 % of the digit height;
- ``gaps``: each gap either tiny (2-8 %, less than a stroke) or wide (0.8-2 heights);
- ``overlaps``: each digit as close to the previous one as their shapes allow with 5-10 % of the
  height of paper between the inks (a 7's bar over the next digit): their boxes overlap;
- ``touching``: one pair whose strokes touch (they overlap by 1-3 px), the others separated;
- ``slant``: the baseline rises or falls by up to 35 % of a digit's width per digit;
- ``sizes``: each digit 55-100 % of the tallest, bottoms aligned or not.

The number is then saved as a person would send it: white on black, black on white, or a
JPEG photo of unevenly lit paper. A second hand (``SCAN_KINDS``, ``make_scanned_numbers``), which
nothing in segmentation was tuned on, writes numbers otherwise: scanned MNIST boxes scaled whole,
off the line, turned, in other file styles, apart or with one pair pressed together. A third hand
(``FONT_KINDS``, ``make_font_numbers``) writes no MNIST digit at all: each digit in one of OpenCV's stroke
fonts, warped anew as a hand warps it, laid out as the first hand's kinds. Everything is seeded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from PIL import Image

from train.drawings import _encode, _ink_box, present

KINDS = ("separated", "gaps", "overlaps", "touching", "slant", "sizes")
FILE_STYLES = ("white-on-black", "black-on-white", "paper-photo")


@dataclass(frozen=True)
class Number:
    data: bytes  # the file a person would upload
    text: str  # the digits written, left to right
    kind: str
    style: str


def pen_digit(digit: np.ndarray, height: int, pen: float) -> np.ndarray:
    """An MNIST digit (uint8 28x28) ``height`` pixels tall as a crisp pen stroke; pen 0 thin, 1 thick."""
    ys, xs = np.nonzero(digit > 30)
    crop = digit[ys.min():ys.max() + 1, xs.min():xs.max() + 1].astype(np.float32) / 255.0
    scale = height / crop.shape[0]
    size = (max(1, round(crop.shape[1] * scale)), max(1, height))
    big = cv2.resize(crop, size, interpolation=cv2.INTER_CUBIC)
    ink = np.clip((big - (0.75 - 0.6 * pen)) * 6.0, 0.0, 1.0)
    return cv2.GaussianBlur(ink, (3, 3), 0)


def _touching_offset(left: np.ndarray, left_x: int, right: np.ndarray, top_left: int, top_right: int,
                     overlap: int) -> int:
    """The column at which ``right`` must start so that its strokes overlap ``left``'s by ``overlap`` px."""
    best = None
    for y in range(right.shape[0]):
        row = y + top_right - top_left
        if not 0 <= row < left.shape[0]:
            continue
        lx, rx = np.flatnonzero(left[row] > 0.5), np.flatnonzero(right[y] > 0.5)
        if len(lx) and len(rx):
            start = left_x + lx.max() - rx.min() - overlap  # right's ink starts where left's ends
            best = start if best is None else max(best, start)
    if best is None:  # no row in common: lean them together anyway
        best = left_x + left.shape[1] - overlap
    return best


def _inks_within(left: np.ndarray, left_x: int, left_y: int, right: np.ndarray, x: int, y: int, gap: int) -> bool:
    """Whether any ink of ``right`` placed at (x, y) comes within ``gap`` px of ``left``'s (even faint ink)."""
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * gap + 1, 2 * gap + 1))
    near = cv2.dilate((left > 0.05).astype(np.uint8), kernel)
    x0, y0 = max(x, left_x), max(y, left_y)
    x1 = min(x + right.shape[1], left_x + left.shape[1])
    y1 = min(y + right.shape[0], left_y + left.shape[0])
    if x0 >= x1 or y0 >= y1:
        return False
    a = near[y0 - left_y:y1 - left_y, x0 - left_x:x1 - left_x]
    b = right[y0 - y:y1 - y, x0 - x:x1 - x] > 0.05
    return bool((a.astype(bool) & b).any())


def compose(digits: list, kind: str, rng: np.random.Generator, jitter: float = 0.05,
            depth: float = 0.0, write: Callable[[Any, int], np.ndarray] | None = None) -> np.ndarray:
    """Digits (uint8 28x28 each) as one ink image (float32, 1 = ink) laid out as ``kind`` says; each digit
    up to ``jitter`` of the height above or below the line, and a touching pair's strokes overlapping by
    1-3 px or, with ``depth``, by up to that share of the height (written into each other). ``write``:
    another hand, which writes each of ``digits`` (whatever it takes) as ink of a height in pixels."""
    height = int(rng.integers(50, 130))
    pen = rng.uniform(0.0, 1.0)
    scales = rng.uniform(0.55, 1.0, len(digits)) if kind == "sizes" else np.ones(len(digits))
    scales[rng.integers(len(digits))] = 1.0
    if write is None:
        def write(digit: np.ndarray, tall: int) -> np.ndarray:
            return pen_digit(digit, tall, pen)
    inks = [write(d, max(12, round(height * s))) for d, s in zip(digits, scales, strict=True)]
    slope = rng.uniform(0.15, 0.35) * rng.choice([-1, 1]) if kind == "slant" else 0.0
    touching = int(rng.integers(len(digits) - 1)) if kind == "touching" else -1
    bottoms_aligned = rng.random() < 0.5
    xs, ys = [], []
    x = 0
    for i, ink in enumerate(inks):
        h, w = ink.shape
        shift = rng.uniform(-jitter, jitter) * height
        if kind == "sizes" and not bottoms_aligned:
            y = rng.uniform(0, height - h) + shift
        else:
            y = height - h + shift
        y += slope * x
        y = int(round(y))
        if i > 0:
            previous = inks[i - 1]
            if kind == "gaps":
                gap = height * (rng.uniform(0.02, 0.08) if rng.random() < 0.5 else rng.uniform(0.8, 2.0))
            else:
                gap = height * rng.uniform(0.15, 0.6)
            x = xs[-1] + previous.shape[1] + int(round(gap))
            if i - 1 == touching:
                overlap = int(rng.integers(1, max(4, round(depth * height) + 1)))
                x = _touching_offset(previous, xs[-1], ink, ys[-1], y, overlap)
            elif kind == "overlaps":  # as close as their shapes allow, a little paper between the inks
                gap = max(2, round(height * rng.uniform(0.05, 0.1)))
                x = min(x, _touching_offset(previous, xs[-1], ink, ys[-1], y, -gap))
                while _inks_within(previous, xs[-1], ys[-1], ink, x, y, gap):
                    x += 1
        xs.append(x)
        ys.append(y)
    x0, y0 = min(xs), min(ys)
    width = max(x + ink.shape[1] for x, ink in zip(xs, inks, strict=True)) - x0
    tall = max(y + ink.shape[0] for y, ink in zip(ys, inks, strict=True)) - y0
    margin = int(rng.integers(10, 60))
    field = np.zeros((tall + 2 * margin, width + 2 * margin), np.float32)
    for x, y, ink in zip(xs, ys, inks, strict=True):
        rows = slice(y - y0 + margin, y - y0 + margin + ink.shape[0])
        cols = slice(x - x0 + margin, x - x0 + margin + ink.shape[1])
        field[rows, cols] = np.maximum(field[rows, cols], ink)
    return field


def save_as(ink: np.ndarray, style: str, rng: np.random.Generator) -> bytes:
    """An ink image as the file a person would send in ``style``."""
    if style in ("white-on-black", "black-on-white"):
        return present(ink, style, rng)
    if style == "paper-photo":
        yy, xx = np.mgrid[0:ink.shape[0], 0:ink.shape[1]].astype(np.float32)
        angle = rng.uniform(0, 2 * np.pi)
        ramp = (np.cos(angle) * xx + np.sin(angle) * yy) / max(ink.shape)
        paper = rng.uniform(0.7, 0.9) + rng.uniform(0.05, 0.15) * (ramp - ramp.mean())
        grey = paper * (1 - ink) + rng.uniform(0.05, 0.3) * ink + rng.normal(0, 0.03, ink.shape)
        rgb = np.clip(grey[..., None] * np.array([1.0, 0.98, 0.93]) * 255, 0, 255).astype(np.uint8)
        return _encode(Image.fromarray(rgb), "JPEG", quality=int(rng.integers(50, 90)))
    raise ValueError(f"unknown style {style!r}")


def make_numbers(images: np.ndarray, labels: np.ndarray, count: int, seed: int = 0,
                 kinds: tuple[str, ...] = KINDS) -> list[Number]:
    """``count`` numbers of 2-6 random MNIST digits, the ``kinds`` in turn, styles at random."""
    rng = np.random.default_rng(seed)
    numbers = []
    for n in range(count):
        kind = kinds[n % len(kinds)]
        picks = rng.choice(len(images), size=int(rng.integers(2, 7)), replace=False)
        ink = compose([images[i] for i in picks], kind, rng)
        style = FILE_STYLES[int(rng.integers(len(FILE_STYLES)))]
        numbers.append(Number(save_as(ink, style, rng), "".join(str(int(labels[i])) for i in picks), kind, style))
    return numbers


# A second hand, never tuned on: scanned MNIST boxes rather than pen strokes.
SCAN_KINDS = ("scans-apart", "scans-pressed")
SCAN_STYLES = ("black-on-white", "blue-on-cream", "transparent", "grey-photo")


def scanned_number(digits: list[np.ndarray], kind: str, rng: np.random.Generator) -> tuple[bytes, str]:
    """Digits (uint8 28x28 each) written by another hand than ``compose``'s: each MNIST box scaled whole
    (grey, anti-aliased; 36-110 px), strokes thickened by 0-2 px, each digit up to 12 % of the box above or
    below the line, the whole number turned up to 7 degrees; ``scans-apart``: inks 5-50 % of a box apart,
    ``scans-pressed``: one pair pressed together (its inks' columns overlapping by 2-20 % of a box: most
    touch, some only overlap), the others apart. Saved dark on light, blue ink on cream paper, as a
    transparent PNG or a low-contrast JPEG photo. Returns the file and its style."""
    size = int(rng.integers(36, 110))
    thick = int(rng.integers(0, 3))
    pressed = int(rng.integers(1, len(digits))) if kind == "scans-pressed" else -1
    placed, right = [], 0
    for k, digit in enumerate(digits):
        box = cv2.resize(digit, (size, size), interpolation=cv2.INTER_LINEAR).astype(np.float32) / 255.0
        if thick:
            box = cv2.dilate(box, np.ones((thick + 1, thick + 1), np.uint8))
        columns = np.flatnonzero(box.max(axis=0) > 0.2)
        gap = rng.uniform(-0.2, -0.02) if k == pressed else rng.uniform(0.05, 0.5)
        x = right + int(gap * size) - columns.min() if placed else -columns.min()
        placed.append((x, int(rng.uniform(-0.12, 0.12) * size), box))
        right = x + columns.max() + 1
    left = min(x for x, _, _ in placed)
    margin = int(rng.integers(8, 40))
    field = np.zeros((size + int(0.3 * size) + 2 * margin, max(x for x, _, _ in placed) - left + size + 2 * margin),
                     np.float32)
    for x, lift, box in placed:
        top, column = margin + int(0.15 * size) + lift, margin + x - left
        field[top:top + size, column:column + size] = np.maximum(field[top:top + size, column:column + size], box)
    turn = cv2.getRotationMatrix2D((field.shape[1] / 2, field.shape[0] / 2), rng.uniform(-7, 7), 1.0)
    field = cv2.warpAffine(field, turn, (field.shape[1], field.shape[0]))
    style = SCAN_STYLES[int(rng.integers(len(SCAN_STYLES)))]
    if style == "black-on-white":
        return present(field, style, rng), style
    if style == "blue-on-cream":
        paper, ink = np.array([245, 240, 225.0]), np.array([30, 40, 140.0])
        return _encode(Image.fromarray(np.uint8(paper * (1 - field[..., None]) + ink * field[..., None])), "PNG"), style
    if style == "transparent":
        rgba = np.zeros((*field.shape, 4), np.uint8)
        rgba[..., 3] = np.uint8(field * 255)
        return _encode(Image.fromarray(rgba), "PNG"), style
    grey = 170 - 90 * field + rng.normal(0, 6, field.shape)
    return _encode(Image.fromarray(np.uint8(np.clip(grey, 0, 255))), "JPEG", quality=85), style


def make_scanned_numbers(images: np.ndarray, labels: np.ndarray, count: int, seed: int = 0) -> list[Number]:
    """``count`` numbers of 2-5 random MNIST digits by the second hand (``scanned_number``), its kinds in turn."""
    rng = np.random.default_rng([seed, 5])
    numbers = []
    for n in range(count):
        kind = SCAN_KINDS[n % len(SCAN_KINDS)]
        picks = rng.choice(len(images), size=int(rng.integers(2, 6)), replace=False)
        data, style = scanned_number([images[i] for i in picks], kind, rng)
        numbers.append(Number(data, "".join(str(int(labels[i])) for i in picks), kind, style))
    return numbers


# A third hand, no MNIST digit at all: each digit written in one of OpenCV's stroke fonts, plain or script, and
# warped as a hand warps it, laid out as ``compose``'s kinds (``FONT_KINDS``).
FONT_KINDS = tuple(f"font-{kind}" for kind in KINDS)
FONT_WARP = 0.6  # of ``train.nondigits._hand_warp``'s rotation, shear and elastic field: digits stay readable


def font_hand(rng: np.random.Generator) -> Callable[[int, int], np.ndarray]:
    """One writer: a stroke font (of ``train.nondigits.PEN_FONTS`` and two more), a pen of 2-8 px at 4x the font's
    size, upright or italic; it writes a digit (0-9) as ink of a height in pixels, each time warped anew."""
    from train.nondigits import PEN_FONTS, _glyph, _hand_warp

    fonts = (*PEN_FONTS, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_COMPLEX)
    font, pen, italic = fonts[int(rng.integers(len(fonts)))], int(rng.integers(2, 9)), bool(rng.random() < 0.3)

    def write(digit: int, height: int) -> np.ndarray:
        ink = _hand_warp(_glyph(str(digit), font, rng, pen, italic), rng, FONT_WARP)
        ink = ink[_ink_box(ink, 0.05)]
        size = (max(1, round(ink.shape[1] * height / ink.shape[0])), height)
        return np.clip(cv2.resize(ink, size, interpolation=cv2.INTER_AREA), 0.0, 1.0)
    return write


def make_font_numbers(count: int, seed: int = 0) -> list[Number]:
    """``count`` numbers of 2-6 random digits by the third hand (``font_hand``, one writer a number), the
    ``FONT_KINDS`` in turn, styles at random."""
    rng = np.random.default_rng([seed, 7])
    numbers = []
    for n in range(count):
        kind = KINDS[n % len(KINDS)]
        digits = [int(d) for d in rng.integers(0, 10, size=int(rng.integers(2, 7)))]
        ink = compose(digits, kind, rng, write=font_hand(rng))
        style = FILE_STYLES[int(rng.integers(len(FILE_STYLES)))]
        numbers.append(Number(save_as(ink, style, rng), "".join(map(str, digits)), f"font-{kind}", style))
    return numbers


def model_and_test_digits(parser, argv: list[str] | None) -> tuple:
    """A measuring command's arguments (``parser``'s, and ``--model``), its model and MNIST's test digits."""
    from models import DEFAULT_MODEL_PATH
    from models.inference import DigitModel
    from models.mnist import load_mnist

    parser.add_argument("--model", default=str(DEFAULT_MODEL_PATH))
    args = parser.parse_args(argv)
    _, _, x_test, y_test = load_mnist()
    return args, DigitModel.load(args.model), x_test, y_test


def main(argv: list[str] | None = None) -> int:
    """``python -m train.numbers [--count N]``: whole numbers read right (and as many digits found as
    written) per kind, of the three hands, and the single-digit drawings of ``train.drawings`` kept whole
    (one digit found) per kind."""
    import argparse

    from models.preprocess import image_ink, load_image
    from models.segment import number_inputs
    from train.drawings import EDGE_KINDS, STYLES, realistic_drawings

    parser = argparse.ArgumentParser(prog="python -m train.numbers", description=main.__doc__)
    parser.add_argument("--count", type=int, default=600, help="numbers (a sixth of them of each kind)")
    parser.add_argument("--drawings", type=int, default=800, help="single-digit drawings of each set")
    parser.add_argument("--seed", type=int, default=0)
    args, model, x_test, y_test = model_and_test_digits(parser, argv)

    def read(data: bytes) -> str:
        found = number_inputs(image_ink(load_image(data)), model.read)
        return "".join(str(d) for d in model.probabilities(np.stack([x for _, x in found])).argmax(1))

    numbers = make_numbers(x_test, y_test, args.count, args.seed)
    numbers += make_scanned_numbers(x_test, y_test, args.count // 3, args.seed)
    numbers += make_font_numbers(args.count // 2, args.seed)
    texts = [read(n.data) for n in numbers]
    right = np.array([text == n.text for text, n in zip(texts, numbers, strict=True)])
    counted = np.array([len(text) == len(n.text) for text, n in zip(texts, numbers, strict=True)])
    kinds = np.array([n.kind for n in numbers])
    print(f"{'number kind':<18}{'numbers':>9}{'read right':>12}{'digits found':>14}")
    for kind in (*KINDS, "all", *SCAN_KINDS, *FONT_KINDS):
        chosen = kinds == kind if kind != "all" else np.isin(kinds, KINDS)
        print(f"{kind:<18}{chosen.sum():>9}{right[chosen].mean():>12.1%}{counted[chosen].mean():>14.1%}")
    print()
    print(f"{'single digit':<18}{'drawings':>9}{'one digit':>12}{'read right':>12}")
    for styles in (STYLES, EDGE_KINDS):
        drawings = realistic_drawings(x_test, y_test, args.drawings, args.seed, styles)
        found = [read(d.data) for d in drawings]
        for style in styles:
            chosen = [f for f, d in zip(found, drawings, strict=True) if d.style == style]
            labels = [str(d.label) for d in drawings if d.style == style]
            whole = np.mean([len(f) == 1 for f in chosen])
            correct = np.mean([f == t for f, t in zip(chosen, labels, strict=True)])
            print(f"{style:<18}{len(chosen):>9}{whole:>12.1%}{correct:>12.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
