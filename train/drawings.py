"""A varied set of realistic "drawings" made from MNIST test digits.

Digits are blown up to 25-85 % of a canvas, put anywhere on it, drawn with a thin or thick
pen, in either polarity, as transparent PNGs or as noisy JPEG photos of unevenly lit paper.
It measures what a person's drawing or upload goes through: ``normalize_digit`` must read
these as well as MNIST itself, where a naive resize to 28x28 fails most of them.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

STYLES = ("white-on-black", "black-on-white", "transparent-png", "paper-photo")


@dataclass(frozen=True)
class Drawing:
    data: bytes  # the file a person would upload
    label: int
    style: str


def _stroke(digit: np.ndarray, longest: int, pen: float) -> np.ndarray:
    """An MNIST digit whose longest side is ``longest`` pixels, as a crisp stroke; pen 0 thin, 1 thick."""
    ys, xs = np.nonzero(digit > 30)
    crop = digit[ys.min():ys.max() + 1, xs.min():xs.max() + 1].astype(np.float32) / 255.0
    scale = longest / max(crop.shape)
    size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
    big = cv2.resize(crop, size, interpolation=cv2.INTER_CUBIC)
    level = 0.75 - 0.6 * pen  # thresholding the blurred digit high gives a thin pen, low a thick one
    ink = np.clip((big - level) * 6.0, 0.0, 1.0)
    return cv2.GaussianBlur(ink, (3, 3), 0)  # anti-aliased edge


def _place(ink: np.ndarray, canvas: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    field = np.zeros(canvas, np.float32)
    top = rng.integers(0, canvas[0] - ink.shape[0] + 1)
    left = rng.integers(0, canvas[1] - ink.shape[1] + 1)
    field[top:top + ink.shape[0], left:left + ink.shape[1]] = ink
    return field


def _encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def render(digit: np.ndarray, style: str, rng: np.random.Generator) -> bytes:
    """One MNIST digit (uint8 28x28) as an image file in the given style."""
    side = int(rng.integers(200, 520))
    canvas = (side, int(side * rng.uniform(0.8, 1.25)))
    longest = int(min(canvas) * rng.uniform(0.25, 0.85))
    ink = _place(_stroke(digit, longest, rng.uniform(0.0, 1.0)), canvas, rng)
    if style == "white-on-black":
        return _encode(Image.fromarray(np.uint8(ink * 255)), "PNG")
    if style == "black-on-white":
        return _encode(Image.fromarray(np.uint8(255 - ink * 255)), "PNG")
    if style == "transparent-png":
        colour = rng.integers(0, 256, 3)
        rgba = np.empty((*canvas, 4), np.uint8)
        rgba[..., :3] = rng.integers(0, 256, (*canvas, 3))  # colour of invisible pixels is noise
        rgba[ink > 0, :3] = colour
        rgba[..., 3] = np.uint8(ink * 255)
        return _encode(Image.fromarray(rgba, "RGBA"), "PNG")
    if style == "paper-photo":
        yy, xx = np.mgrid[0:canvas[0], 0:canvas[1]].astype(np.float32)
        angle = rng.uniform(0, 2 * np.pi)
        ramp = (np.cos(angle) * xx + np.sin(angle) * yy) / max(canvas)
        paper = rng.uniform(0.7, 0.9) + rng.uniform(0.05, 0.15) * (ramp - ramp.mean())
        ink_level = rng.uniform(0.05, 0.3)
        grey = paper * (1 - ink) + ink_level * ink + rng.normal(0, 0.03, canvas)
        rgb = np.clip(grey[..., None] * np.array([1.0, 0.98, 0.93]) * 255, 0, 255).astype(np.uint8)
        return _encode(Image.fromarray(rgb, "RGB"), "JPEG", quality=int(rng.integers(40, 85)))
    raise ValueError(f"unknown style {style!r}")


def realistic_drawings(images: np.ndarray, labels: np.ndarray, count: int, seed: int = 0) -> list[Drawing]:
    """``count`` drawings from random MNIST digits, the styles in turn."""
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(images), size=count, replace=False)
    return [Drawing(render(images[i], STYLES[n % len(STYLES)], rng), int(labels[i]), STYLES[n % len(STYLES)])
            for n, i in enumerate(picks)]


def naive_input(data: bytes) -> np.ndarray:
    """What the original app did: grey, resize straight to 28x28, scale; the baseline to beat."""
    image = Image.open(io.BytesIO(data)).convert("L").resize((28, 28))
    return np.asarray(image, np.float32) / 255.0


def main(argv: list[str] | None = None) -> int:
    """``python -m train.drawings [--count N]``: accuracy on the drawing set, ours vs a naive resize."""
    import argparse

    from models import DEFAULT_MODEL_PATH
    from models.inference import DigitModel
    from models.mnist import load_mnist
    from models.preprocess import image_to_model_input

    parser = argparse.ArgumentParser(prog="python -m train.drawings", description=main.__doc__)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--model", default=str(DEFAULT_MODEL_PATH))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    model = DigitModel.load(args.model)
    _, _, x_test, y_test = load_mnist()
    drawings = realistic_drawings(x_test, y_test, args.count, args.seed)
    labels = np.array([d.label for d in drawings])
    styles = np.array([d.style for d in drawings])
    predictions = {}
    for name, prepare in (("naive resize", naive_input), ("normalize_digit", image_to_model_input)):
        inputs = np.stack([prepare(d.data) for d in drawings])
        predictions[name] = model.explain_batch(inputs)[0].argmax(1) == labels
    print(f"{'style':<18}" + "".join(f"{name:>17}" for name in predictions))
    for style in (*STYLES, "all"):
        chosen = styles == style if style != "all" else np.ones(len(styles), bool)
        print(f"{style:<18}" + "".join(f"{correct[chosen].mean():>17.2%}" for correct in predictions.values()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
