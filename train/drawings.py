"""A varied set of realistic "drawings" made from MNIST test digits.

Digits are blown up to 25-85 % of a canvas, put anywhere on it, drawn with a thin or thick
pen, in either polarity, as transparent PNGs or as noisy JPEG photos of unevenly lit paper.
It measures what a person's drawing or upload goes through: ``normalize_digit`` must read
these as well as MNIST itself, where a naive resize to 28x28 fails most of them.

The edge kinds (``EDGE_KINDS``) are what breaks a pipeline that assumes a margin of paper:
photos cropped tightly to the digit, scans the digit fills (ink cut by the frame), thumbnails
of 8-16 px blown up, and a small digit (15-20 % of the side) on a big canvas.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

STYLES = ("white-on-black", "black-on-white", "transparent-png", "paper-photo")
EDGE_KINDS = ("tight-crop", "frame-filling", "low-res-upscale", "small-on-canvas")


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
    return present(_place(_stroke(digit, longest, rng.uniform(0.0, 1.0)), canvas, rng), style, rng)


def present(ink: np.ndarray, style: str, rng: np.random.Generator) -> bytes:
    """Ink in [0, 1] (1 = ink) on a canvas, as the image file a person would send in the given style."""
    canvas = ink.shape
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


def _ink_box(ink: np.ndarray, level: float) -> tuple[slice, slice]:
    ys, xs = np.nonzero(ink > level)
    return slice(ys.min(), ys.max() + 1), slice(xs.min(), xs.max() + 1)


def _paper(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Dark ink on light, slightly noisy paper, grey levels in [0, 1]."""
    paper, ink_level = rng.uniform(0.75, 0.95), rng.uniform(0.05, 0.3)
    return np.clip(paper * (1 - ink) + ink_level * ink + rng.normal(0, 0.02, ink.shape), 0, 1)


def render_edge(digit: np.ndarray, kind: str, rng: np.random.Generator) -> bytes:
    """One MNIST digit (uint8 28x28) as an image file of one of the ``EDGE_KINDS``."""
    if kind == "tight-crop":
        # A photo cropped to the digit's ink: dark on white, the crop's edges on the strokes.
        crop = digit[_ink_box(digit, 0)].astype(np.float32) / 255.0
        factor = rng.uniform(3, 10)
        size = (round(crop.shape[1] * factor), round(crop.shape[0] * factor))
        big = cv2.resize(_paper(crop, rng), size, interpolation=cv2.INTER_CUBIC)
        return _encode(Image.fromarray(np.uint8(np.clip(big, 0, 1) * 255)), "JPEG", quality=int(rng.integers(60, 95)))
    if kind == "frame-filling":
        # A low-resolution scan the digit fills, a little of it cut off by the frame, upscaled.
        ink = _stroke(digit, int(rng.integers(20, 40)), rng.uniform(0.2, 0.8))
        rows, cols = _ink_box(ink, 0.5)
        cut = [int(rng.integers(0, 2)) for _ in range(4)]
        if rows.stop - rows.start < 6 or cols.stop - cols.start < 6:
            cut = [0, 0, 0, 0]  # a 1 a pixel or two wide: cutting it would leave nothing
        ink = ink[rows.start + cut[0]:rows.stop - cut[1], cols.start + cut[2]:cols.stop - cut[3]]
        factor = rng.uniform(3, 8)
        size = (round(ink.shape[1] * factor), round(ink.shape[0] * factor))
        big = cv2.resize(_paper(ink, rng), size, interpolation=cv2.INTER_LINEAR)
        return _encode(Image.fromarray(np.uint8(np.clip(big, 0, 1) * 255)), "PNG")
    if kind == "low-res-upscale":
        # A thumbnail 8-16 px wide, blown up blocky or smooth, either polarity.
        side = int(rng.integers(8, 17))
        small = cv2.resize(digit.astype(np.float32) / 255.0, (side, side), interpolation=cv2.INTER_AREA)
        if rng.random() < 0.5:
            small = 1.0 - small
        big_side = int(rng.integers(112, 320))
        method = cv2.INTER_NEAREST if rng.random() < 0.5 else cv2.INTER_LINEAR
        big = cv2.resize(small, (big_side, big_side), interpolation=method)
        return _encode(Image.fromarray(np.uint8(np.clip(big, 0, 1) * 255)), "PNG")
    if kind == "small-on-canvas":
        side = int(rng.integers(400, 1000))
        ink = _place(_stroke(digit, int(side * rng.uniform(0.15, 0.2)), rng.uniform(0.0, 1.0)), (side, side), rng)
        grey = ink if rng.random() < 0.5 else 1.0 - ink
        return _encode(Image.fromarray(np.uint8(grey * 255)), "PNG")
    raise ValueError(f"unknown kind {kind!r}")


def realistic_drawings(images: np.ndarray, labels: np.ndarray, count: int, seed: int = 0,
                       styles: tuple[str, ...] = STYLES) -> list[Drawing]:
    """``count`` drawings from random MNIST digits, the ``styles`` (or ``EDGE_KINDS``) in turn."""
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(images), size=count, replace=False)
    drawings = []
    for n, i in enumerate(picks):
        style = styles[n % len(styles)]
        data = render_edge(images[i], style, rng) if style in EDGE_KINDS else render(images[i], style, rng)
        drawings.append(Drawing(data, int(labels[i]), style))
    return drawings


def naive_input(data: bytes) -> np.ndarray:
    """What the original app did: grey, resize straight to 28x28, scale; the baseline to beat."""
    image = Image.open(io.BytesIO(data)).convert("L").resize((28, 28))
    return np.asarray(image, np.float32) / 255.0


def main(argv: list[str] | None = None) -> int:
    """``python -m train.drawings [--count N]``: accuracy per style and per edge kind, ours vs a naive resize."""
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
    for title, styles in (("style", STYLES), ("edge kind", EDGE_KINDS)):
        drawings = realistic_drawings(x_test, y_test, args.count, args.seed, styles)
        labels = np.array([d.label for d in drawings])
        kinds = np.array([d.style for d in drawings])
        predictions = {}
        for name, prepare in (("naive resize", naive_input), ("normalize_digit", image_to_model_input)):
            inputs = np.stack([prepare(d.data) for d in drawings])
            predictions[name] = model.explain_batch(inputs)[0].argmax(1) == labels
        print(f"{title:<18}" + "".join(f"{name:>17}" for name in predictions))
        for style in (*styles, "all"):
            chosen = kinds == style if style != "all" else np.ones(len(kinds), bool)
            print(f"{style:<18}" + "".join(f"{correct[chosen].mean():>17.2%}" for correct in predictions.values()))
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
