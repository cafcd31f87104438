"""Things that are not digits, as people send them: the test of "is this a digit at all?".

Two separate sets, never mixed:

- ``NONDIGIT_KINDS``: what the not-a-digit detectors are *evaluated* on (the report's novelty
  scoreboard and ``python -m train.nondigits``): letters and symbols drawn with a pen, doodles
  (shapes, faces, objects), scribbles, printed words, photographs, noise and textures, and
  several digits side by side. Each is an image file (PNG or JPEG) in the ways a person sends a
  drawing: either polarity, transparent, or a photo of paper; anywhere, of any size.
- ``EXPOSURE_KINDS``: what the ``exposure`` detector learns to call "none of the ten" (outlier
  exposure, Hendrycks et al. 2019): glyphs of an invented script (random strokes and arcs on a
  coarse grid), characters set in type (the machine's TrueType fonts: Latin letters and symbols,
  Greek and Cyrillic letters, pictographs and arrows, warped by a hand), MNIST training digits cut
  into tiles and shuffled, ink blots (thresholded smooth random fields), and swollen digits (a
  training digit thickened until its loops close, unevenly lit: a solid shape, as a photographed
  object or a filled shape reaches the model). They are made directly as the ink the
  pre-processing reads. The evaluated letters and symbols are of the same alphabet
  as the typeset Latin ones but written with a pen (stroke fonts): their figures measure a new
  hand, not a new alphabet. Doodles, scribbles, printed words, photos and noise are never learnt.

Letters that handwriting shares with digits (O, o, D, I, l, i, j, S, s, Z, z, B, b, G, g, q) are
left out of the letters: no reader tells a written O from a 0. Everything is seeded.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageFont

from train.drawings import EDGE_KINDS, STYLES, _place, _stroke, present, realistic_drawings

NONDIGIT_KINDS = ("letters", "symbols", "doodles", "scribbles", "printed-words", "photos", "noise-textures",
                  "several-digits")
EXPOSURE_KINDS = ("invented-glyphs", "typeset-characters", "shuffled-tiles", "ink-blots", "swollen-digits")
LETTERS = "ACEFHJKLMNPRTUVWXYacdefhkmnprtuvwxy"
SYMBOLS = "+=%#@&$?!*<>{}[]~^"
WORDS = ("cat", "dog", "home", "the", "and", "hello", "world", "yes", "no", "stop", "open", "mail", "name",
         "date", "total", "note", "map", "tree", "sun", "rain", "blue", "red", "green", "paper", "pen", "draw",
         "ok", "hi", "box", "exit", "menu", "help", "text", "file", "page", "form", "art", "inspector", "model")
PEN_FONTS = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_PLAIN, cv2.FONT_HERSHEY_SCRIPT_SIMPLEX,
             cv2.FONT_HERSHEY_SCRIPT_COMPLEX)
PRINT_FONTS = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_COMPLEX,
               cv2.FONT_HERSHEY_TRIPLEX, cv2.FONT_HERSHEY_COMPLEX_SMALL)
# The typeset characters: Latin letters and symbols set in type (the evaluated ones are written with a
# pen), letters of other scripts and pictographs, none a digit or like one (no O, З, б, Ч, ○, ❶, |).
TYPESET = (LETTERS + SYMBOLS,
           "αγδεηθλμξπρσφψωΓΔΘΛΞΠΣΦΨΩЖЛДЦШЩЫЮЯжлдцшщыюяИПФфЙй",
           "±×÷≠≤≥∞∑∏√∫∇∈∩∪⊂⊃∧∨♠♣♥♦★☆●■▲▼◆□△▽◇♪♫☺☻✓✗☀☁☂☃☎☔☕☘☠☢☮☯☼☽♔♕♖♗♘♚♛♜♞♨♻⚑⚓⚔⚖⚙⚠⚡✂✈✉✎✿❀❄❤",
           "←↑→↓↔↕↖↗↘↙↩↪↯↺↻⇄⇅⇐⇑⇒⇓⇔⇦⇧⇨⇩▣▤▥▦▧▨▩◈◉◐◑◒◓◔◕◧◨◩◪◭◮")
TYPE_FACE_DIR = "/usr/share/fonts/truetype"
WORK = 160  # pixels of the square a shape is drawn in before it is placed on a canvas


# --- pen strokes -------------------------------------------------------------------------------------

def _wobble(points: np.ndarray, rng: np.random.Generator, amount: float) -> np.ndarray:
    """A hand's unsteadiness: a smooth random displacement plus a little jitter (unit coordinates)."""
    t = np.linspace(0, 1, len(points))[:, None]
    phase, freq = rng.uniform(0, 2 * np.pi, 2), rng.uniform(1, 3, 2)
    smooth = np.sin(2 * np.pi * freq * t + phase) * amount
    return points + smooth + rng.normal(0, amount / 4, points.shape)


def _resample(polyline: np.ndarray, step: float = 0.02) -> np.ndarray:
    lengths = np.r_[0, np.cumsum(np.linalg.norm(np.diff(polyline, axis=0), axis=1))]
    if lengths[-1] == 0:
        return polyline
    t = np.linspace(0, lengths[-1], max(2, int(lengths[-1] / step)))
    return np.stack([np.interp(t, lengths, polyline[:, i]) for i in range(2)], axis=1)


def _draw(strokes: list[np.ndarray], rng: np.random.Generator, wobble: float = 0.015) -> np.ndarray:
    """Strokes in unit coordinates (x right, y down, about [0, 1]) -> ink (WORK, WORK) in [0, 1]."""
    ink = np.zeros((WORK, WORK), np.uint8)
    pen = int(rng.integers(3, 14))
    angle, shear = rng.uniform(-0.3, 0.3), rng.uniform(-0.3, 0.3)
    squash = np.exp(rng.uniform(-0.35, 0.35))
    c, s = np.cos(angle), np.sin(angle)
    matrix = np.array([[c, -s], [s, c]]) @ np.array([[squash, shear], [0, 1 / squash]])
    for stroke in strokes:
        points = _wobble(_resample(np.asarray(stroke, np.float64)), rng, wobble)
        points = (points - 0.5) @ matrix.T * 0.75 + 0.5
        fixed = np.round(points * WORK * 16).astype(np.int32)
        cv2.polylines(ink, [fixed], False, 255, pen, cv2.LINE_AA, shift=4)
    return ink.astype(np.float32) / 255.0


def _arc(cx, cy, rx, ry, start, end, n=40) -> np.ndarray:
    t = np.linspace(start, end, n)
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], axis=1)


def _polygon(points) -> np.ndarray:
    points = np.asarray(points, np.float64)
    return np.vstack([points, points[:1]])


def _star(rng):
    k = int(rng.integers(5, 8))
    angles = -np.pi / 2 + np.arange(2 * k) * np.pi / k
    radii = np.where(np.arange(2 * k) % 2 == 0, 0.45, rng.uniform(0.15, 0.25))
    return [_polygon(np.stack([0.5 + radii * np.cos(angles), 0.5 + radii * np.sin(angles)], axis=1))]


def _heart(rng):
    t = np.linspace(0, 2 * np.pi, 80)
    x, y = 16 * np.sin(t) ** 3, 13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t)
    return [np.stack([0.5 + x / 36, 0.45 - y / 36], axis=1)]


def _house(rng):
    return [_polygon([(0.2, 0.5), (0.8, 0.5), (0.8, 0.9), (0.2, 0.9)]),
            np.array([(0.12, 0.55), (0.5, 0.1), (0.88, 0.55)]),
            _polygon([(0.42, 0.9), (0.42, 0.68), (0.58, 0.68), (0.58, 0.9)])]


def _tree(rng):
    return [_polygon([(0.5, 0.05), (0.85, 0.65), (0.15, 0.65)]),
            _polygon([(0.44, 0.65), (0.56, 0.65), (0.56, 0.95), (0.44, 0.95)])]


def _face(rng):
    smile = rng.uniform(0.2, 0.9)
    return [_arc(0.5, 0.5, 0.42, 0.42, 0, 2 * np.pi, 60), _arc(0.35, 0.38, 0.05, 0.05, 0, 2 * np.pi, 12),
            _arc(0.65, 0.38, 0.05, 0.05, 0, 2 * np.pi, 12), _arc(0.5, 0.55, 0.2, 0.15 * smile, 0.2, np.pi - 0.2)]


def _sun(rng):
    rays = int(rng.integers(6, 12))
    strokes = [_arc(0.5, 0.5, 0.2, 0.2, 0, 2 * np.pi, 40)]
    for a in np.arange(rays) * 2 * np.pi / rays:
        strokes.append(np.array([(0.5 + 0.28 * np.cos(a), 0.5 + 0.28 * np.sin(a)),
                                 (0.5 + 0.46 * np.cos(a), 0.5 + 0.46 * np.sin(a))]))
    return strokes


def _fish(rng):
    return [np.vstack([_arc(0.45, 0.5, 0.32, 0.18, 0.5, 2 * np.pi - 0.5), [(0.92, 0.3), (0.92, 0.7)],
                       _arc(0.45, 0.5, 0.32, 0.18, 0.5, 0.5)[:1]]), _arc(0.3, 0.45, 0.03, 0.03, 0, 2 * np.pi, 8)]


def _flower(rng):
    petals = int(rng.integers(5, 9))
    strokes = [_arc(0.5, 0.4, 0.08, 0.08, 0, 2 * np.pi, 16), np.array([(0.5, 0.5), (0.5, 0.98)])]
    for a in np.arange(petals) * 2 * np.pi / petals:
        strokes.append(_arc(0.5 + 0.18 * np.cos(a), 0.4 + 0.18 * np.sin(a), 0.09, 0.09, 0, 2 * np.pi, 16))
    return strokes


def _cloud(rng):
    bumps = int(rng.integers(3, 6))
    xs = np.linspace(0.2, 0.8, bumps)
    top = np.vstack([_arc(x, 0.5, 0.6 / bumps, 0.18, np.pi, 2 * np.pi, 20) for x in xs])
    return [np.vstack([top, [(0.8 + 0.6 / bumps, 0.62), (0.2 - 0.6 / bumps, 0.62)], top[:1]])]


def _arrow(rng):
    return [np.array([(0.1, 0.5), (0.9, 0.5)]), np.array([(0.65, 0.25), (0.9, 0.5), (0.65, 0.75)])]


def _spiral(rng):
    t = np.linspace(0, rng.uniform(3, 5) * np.pi, 120)
    r = 0.03 + 0.42 * t / t[-1]
    return [np.stack([0.5 + r * np.cos(t), 0.5 + r * np.sin(t)], axis=1)]


def _lightning(rng):
    return [np.array([(0.6, 0.05), (0.3, 0.5), (0.55, 0.5), (0.35, 0.95), (0.75, 0.4), (0.5, 0.4), (0.7, 0.05)])]


def _cat(rng):
    return [np.vstack([[(0.2, 0.35), (0.25, 0.05), (0.42, 0.22), (0.58, 0.22), (0.75, 0.05), (0.8, 0.35)],
                       _arc(0.5, 0.55, 0.32, 0.35, 0, np.pi, 30), [(0.2, 0.35)]]),
            _arc(0.38, 0.45, 0.04, 0.04, 0, 2 * np.pi, 8), _arc(0.62, 0.45, 0.04, 0.04, 0, 2 * np.pi, 8),
            np.array([(0.1, 0.6), (0.4, 0.62)]), np.array([(0.6, 0.62), (0.9, 0.6)])]


def _car(rng):
    return [_polygon([(0.05, 0.7), (0.05, 0.5), (0.25, 0.5), (0.35, 0.3), (0.7, 0.3), (0.8, 0.5), (0.95, 0.5),
                      (0.95, 0.7)]), _arc(0.27, 0.72, 0.09, 0.09, 0, 2 * np.pi, 20),
            _arc(0.73, 0.72, 0.09, 0.09, 0, 2 * np.pi, 20)]


def _stick_figure(rng):
    return [_arc(0.5, 0.15, 0.1, 0.1, 0, 2 * np.pi, 20), np.array([(0.5, 0.25), (0.5, 0.6)]),
            np.array([(0.2, 0.4), (0.5, 0.35), (0.8, 0.4)]), np.array([(0.3, 0.95), (0.5, 0.6), (0.7, 0.95)])]


def _polygon_shape(rng):
    k = int(rng.choice([3, 4, 6]))
    angles = rng.uniform(0, 2 * np.pi) + np.arange(k) * 2 * np.pi / k
    return [_polygon(np.stack([0.5 + 0.42 * np.cos(angles), 0.5 + 0.42 * np.sin(angles)], axis=1))]


def _envelope(rng):
    return [_polygon([(0.1, 0.25), (0.9, 0.25), (0.9, 0.75), (0.1, 0.75)]), np.array([(0.1, 0.25), (0.5, 0.55),
                                                                                    (0.9, 0.25)])]


DOODLES: tuple[Callable[[np.random.Generator], list[np.ndarray]], ...] = (
    _star, _heart, _house, _tree, _face, _sun, _fish, _flower, _cloud, _arrow, _spiral, _lightning, _cat, _car,
    _stick_figure, _polygon_shape, _envelope)


def _check_mark(rng):
    return [np.array([(0.15, 0.55), (0.4, 0.85), (0.9, 0.15)])]


def _infinity(rng):
    t = np.linspace(0, 2 * np.pi, 80)
    return [np.stack([0.5 + 0.4 * np.cos(t), 0.5 + 0.2 * np.sin(2 * t)], axis=1)]


def _cross_circle(rng):
    return [_arc(0.5, 0.5, 0.4, 0.4, 0, 2 * np.pi, 50), np.array([(0.2, 0.2), (0.8, 0.8)]),
            np.array([(0.8, 0.2), (0.2, 0.8)])]


PEN_SYMBOLS = (_check_mark, _infinity, _cross_circle)


# --- characters --------------------------------------------------------------------------------------

def _glyph(text: str, font: int, rng: np.random.Generator, pen: int, italic: bool = False) -> np.ndarray:
    """``text`` written with one of OpenCV's stroke (Hershey) fonts, cropped to its ink, in [0, 1]."""
    scale = 4.0 if font != cv2.FONT_HERSHEY_COMPLEX_SMALL else 5.0
    (w, h), base = cv2.getTextSize(text, font | (cv2.FONT_ITALIC if italic else 0), scale, pen)
    ink = np.zeros((h + base + 4 * pen + 20, w + 4 * pen + 20), np.uint8)
    cv2.putText(ink, text, (2 * pen + 10, h + 2 * pen + 10), font | (cv2.FONT_ITALIC if italic else 0), scale, 255,
                pen, cv2.LINE_AA)
    ys, xs = np.nonzero(ink)
    return ink[ys.min():ys.max() + 1, xs.min():xs.max() + 1].astype(np.float32) / 255.0


def _hand_warp(ink: np.ndarray, rng: np.random.Generator, strength: float = 1.0) -> np.ndarray:
    """A hand's version of a font: a random rotation and shear, then a smooth elastic warp."""
    h, w = ink.shape
    pad = max(h, w) // 3 + 4
    ink = cv2.copyMakeBorder(ink, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0.0)
    h, w = ink.shape
    angle, shear = rng.uniform(-20, 20) * strength, rng.uniform(-0.3, 0.3) * strength
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    matrix[0, 1] += shear
    ink = cv2.warpAffine(ink, matrix, (w, h), flags=cv2.INTER_LINEAR)
    sigma = max(h, w) / 12
    dx, dy = (cv2.GaussianBlur(rng.uniform(-1, 1, (h, w)).astype(np.float32), (0, 0), sigma) * sigma * 1.5 * strength
              for _ in range(2))
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    return cv2.remap(ink, xs + dx, ys + dy, cv2.INTER_LINEAR, borderValue=0.0)


# --- canvases ----------------------------------------------------------------------------------------

def _on_canvas(ink: np.ndarray, rng: np.random.Generator, fill: tuple[float, float] = (0.3, 0.85)) -> np.ndarray:
    """The ink scaled to ``fill`` of a random canvas's shorter side and put anywhere on it."""
    ys, xs = np.nonzero(ink > 0.05)
    if len(ys):
        ink = ink[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    side = int(rng.integers(200, 520))
    canvas = (side, int(side * rng.uniform(0.8, 1.6)))
    longest = max(8, int(min(canvas) * rng.uniform(*fill)))
    factor = longest / max(ink.shape)
    size = (max(1, min(canvas[1], round(ink.shape[1] * factor))), max(1, min(canvas[0], round(ink.shape[0] * factor))))
    ink = np.clip(cv2.resize(ink, size, interpolation=cv2.INTER_AREA), 0, 1)
    field = np.zeros(canvas, np.float32)
    top = int(rng.integers(0, canvas[0] - ink.shape[0] + 1))
    left = int(rng.integers(0, canvas[1] - ink.shape[1] + 1))
    field[top:top + ink.shape[0], left:left + ink.shape[1]] = ink
    return field


def _as_drawing(ink: np.ndarray, rng: np.random.Generator) -> bytes:
    return present(_on_canvas(ink, rng), STYLES[int(rng.integers(len(STYLES)))], rng)


def _encode(array: np.ndarray, rng: np.random.Generator) -> bytes:
    """An RGB or grey uint8 array as a JPEG (a photo) or a PNG."""
    buffer = io.BytesIO()
    image = Image.fromarray(array)
    if rng.random() < 0.6:
        image.save(buffer, "JPEG", quality=int(rng.integers(50, 92)))
    else:
        image.save(buffer, "PNG")
    return buffer.getvalue()


def _smooth_noise(shape: tuple[int, int], rng: np.random.Generator, octaves: int = 4) -> np.ndarray:
    """Fractal value noise in [0, 1]: coarse to fine random grids, each half the weight of the last."""
    field = np.zeros(shape, np.float32)
    for octave in range(octaves):
        cells = 2 ** (octave + 1) + 1
        grid = rng.random((cells, cells)).astype(np.float32)
        field += cv2.resize(grid, shape[::-1], interpolation=cv2.INTER_CUBIC) / 2 ** octave
    return (field - field.min()) / max(float(np.ptp(field)), 1e-6)


# --- the evaluated kinds -----------------------------------------------------------------------------

def letter(rng: np.random.Generator) -> bytes:
    pen = int(rng.integers(2, 9))
    ink = _glyph(LETTERS[int(rng.integers(len(LETTERS)))], PEN_FONTS[int(rng.integers(len(PEN_FONTS)))], rng, pen,
                 italic=rng.random() < 0.3)
    return _as_drawing(_hand_warp(ink, rng), rng)


def symbol(rng: np.random.Generator) -> bytes:
    if rng.random() < 0.2:
        return _as_drawing(_draw(PEN_SYMBOLS[int(rng.integers(len(PEN_SYMBOLS)))](rng), rng), rng)
    pen = int(rng.integers(2, 9))
    ink = _glyph(SYMBOLS[int(rng.integers(len(SYMBOLS)))], PEN_FONTS[int(rng.integers(len(PEN_FONTS)))], rng, pen)
    return _as_drawing(_hand_warp(ink, rng), rng)


def doodle(rng: np.random.Generator) -> bytes:
    return _as_drawing(_draw(DOODLES[int(rng.integers(len(DOODLES)))](rng), rng, wobble=0.02), rng)


def scribble(rng: np.random.Generator) -> bytes:
    """One to three fast strokes through random points: loops, zigzags, a tangle."""
    strokes = []
    for _ in range(int(rng.integers(1, 4))):
        points = rng.uniform(0.05, 0.95, (int(rng.integers(6, 16)), 2))
        if rng.random() < 0.5:  # a curve through them rather than straight zigzags
            t = np.linspace(0, 1, len(points))
            fine = np.linspace(0, 1, 20 * len(points))
            points = np.stack([np.interp(fine, t, points[:, i]) for i in range(2)], axis=1)
            points = cv2.GaussianBlur(points.astype(np.float32)[:, None, :], (1, 0), 6)[:, 0, :]
        strokes.append(points)
    return _as_drawing(_draw(strokes, rng, wobble=0.01), rng)


def printed_word(rng: np.random.Generator) -> bytes:
    """A word in a printed face, dark on light paper (sometimes light on dark), photographed or saved."""
    if rng.random() < 0.7:
        word = WORDS[int(rng.integers(len(WORDS)))]
        word = word.upper() if rng.random() < 0.3 else word.capitalize() if rng.random() < 0.3 else word
    else:
        word = "".join(chr(int(c)) for c in rng.integers(97, 123, int(rng.integers(2, 8))))
    ink = _glyph(word, PRINT_FONTS[int(rng.integers(len(PRINT_FONTS)))], rng, int(rng.integers(2, 7)),
                 italic=rng.random() < 0.2)
    return _as_drawing(ink, rng)


def photo(rng: np.random.Generator) -> bytes:
    """A photograph-like scene: a coloured, unevenly lit background with shaded objects, blur and sensor noise."""
    h = int(rng.integers(160, 480))
    w = int(h * rng.uniform(0.75, 1.6))
    base = rng.uniform(0, 255, 3)
    image = np.stack([_smooth_noise((h, w), rng) for _ in range(3)], axis=-1) * rng.uniform(40, 140) + base * 0.6
    for _ in range(int(rng.integers(2, 9))):
        colour = rng.uniform(0, 255, 3)
        mask = np.zeros((h, w), np.float32)
        centre = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        size = (int(rng.integers(w // 12, w // 2)), int(rng.integers(h // 12, h // 2)))
        if rng.random() < 0.5:
            cv2.ellipse(mask, centre, size, float(rng.uniform(0, 180)), 0, 360, 1.0, -1, cv2.LINE_AA)
        else:
            corners = (np.array(centre) + rng.uniform(-1, 1, (int(rng.integers(3, 7)), 2)) * size).astype(np.int32)
            cv2.fillPoly(mask, [corners], 1.0, cv2.LINE_AA)
        shade = 0.6 + 0.6 * _smooth_noise((h, w), rng, 2)[..., None]
        image = image * (1 - mask[..., None]) + (colour * shade) * mask[..., None]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    vignette = 1 - 0.5 * (((yy / h - 0.5) ** 2 + (xx / w - 0.5) ** 2) * rng.uniform(0.5, 2))
    image = cv2.GaussianBlur(image.astype(np.float32), (0, 0), rng.uniform(0.5, 2.5)) * vignette[..., None]
    image += rng.normal(0, rng.uniform(2, 12), image.shape)
    return _encode(np.clip(image, 0, 255).astype(np.uint8), rng)


def noise_texture(rng: np.random.Generator) -> bytes:
    """Random noise of several kinds, or a regular or natural texture."""
    side = int(rng.integers(64, 400))
    shape = (side, int(side * rng.uniform(0.75, 1.5)))
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float32)
    kind = int(rng.integers(8))
    if kind == 0:
        grey = rng.random(shape)
    elif kind == 1:
        grey = rng.normal(0.5, rng.uniform(0.1, 0.3), shape)
    elif kind == 2:
        grey = np.where(rng.random(shape) < rng.uniform(0.05, 0.5), rng.integers(0, 2, shape), 0.5)
    elif kind == 3:
        angle, period = rng.uniform(0, np.pi), rng.uniform(4, 40)
        grey = 0.5 + 0.5 * np.sin(2 * np.pi * (np.cos(angle) * xx + np.sin(angle) * yy) / period)
    elif kind == 4:
        cell = int(rng.integers(4, 40))
        grey = ((yy // cell + xx // cell) % 2).astype(np.float32)
    elif kind == 5:
        grey = _smooth_noise(shape, rng, int(rng.integers(3, 7)))
    elif kind == 6:  # wood grain
        grey = 0.5 + 0.5 * np.sin((xx / shape[1] + 0.3 * _smooth_noise(shape, rng)) * rng.uniform(10, 60))
    else:  # a grid of dots
        gap = int(rng.integers(6, 30))
        grey = np.zeros(shape, np.float32)
        grey[(yy.astype(int) % gap < gap // 3) & (xx.astype(int) % gap < gap // 3)] = 1.0
    grey = np.clip(np.asarray(grey, np.float32), 0, 1)
    if rng.random() < 0.4:
        tint = rng.uniform(0.3, 1.0, 3)
        return _encode(np.uint8(grey[..., None] * tint * 255), rng)
    return _encode(np.uint8(grey * 255), rng)


def several_digits(digits: np.ndarray, rng: np.random.Generator) -> bytes:
    """Two to four MNIST digits side by side, with gaps or touching, drawn as a person would."""
    count = int(rng.integers(2, 5))
    picks = [digits[int(i)].astype(np.float32) / 255.0 for i in rng.integers(0, len(digits), count)]
    gap = int(rng.integers(-3, 10))
    row = picks[0][:, 4:24]
    for digit in picks[1:]:
        digit = digit[:, 4:24]
        if gap >= 0:
            row = np.hstack([row, np.zeros((28, gap), np.float32), digit])
        else:
            joined = np.hstack([row, np.zeros((28, 20 + gap), np.float32)])
            joined[:, -20:] = np.maximum(joined[:, -20:], digit)
            row = joined
    big = cv2.resize(row, (row.shape[1] * 8, 28 * 8), interpolation=cv2.INTER_CUBIC)
    return _as_drawing(np.clip((big - 0.4) * 4, 0, 1), rng)


def nondigit_files(kind: str, count: int, seed: int = 0, digits: np.ndarray | None = None) -> list[bytes]:
    """``count`` image files of one of ``NONDIGIT_KINDS`` (``several-digits`` needs uint8 MNIST ``digits``)."""
    rng = np.random.default_rng([seed, NONDIGIT_KINDS.index(kind)])
    makers = {"letters": letter, "symbols": symbol, "doodles": doodle, "scribbles": scribble,
              "printed-words": printed_word, "photos": photo, "noise-textures": noise_texture}
    if kind == "several-digits":
        if digits is None:
            raise ValueError("several-digits needs MNIST digits to compose")
        return [several_digits(digits, rng) for _ in range(count)]
    return [makers[kind](rng) for _ in range(count)]


# --- the trained-on kinds (outlier exposure) ---------------------------------------------------------

def invented_glyph(rng: np.random.Generator, digits: np.ndarray) -> np.ndarray:
    """Two to five strokes (segments and arcs) on a coarse grid: a character of no real script."""
    strokes = []
    for _ in range(int(rng.integers(2, 6))):
        if rng.random() < 0.5:
            strokes.append(rng.integers(0, 5, (int(rng.integers(2, 4)), 2)) / 4.0)
        else:
            start = rng.uniform(0, 2 * np.pi)
            strokes.append(_arc(*rng.uniform(0.3, 0.7, 2), *rng.uniform(0.1, 0.4, 2), start,
                                start + rng.uniform(1, 5), 20))
    return _draw(strokes, rng, wobble=0.01)


def shuffled_tiles(rng: np.random.Generator, digits: np.ndarray) -> np.ndarray:
    """A training digit cut into a 2x2 to 4x4 grid of tiles, put back in a random order."""
    digit = digits[int(rng.integers(len(digits)))].astype(np.float32) / 255.0
    grid = int(rng.integers(2, 5))
    edges = np.linspace(0, 28, grid + 1).astype(int)
    size = 28 // grid
    tiles = [cv2.resize(digit[edges[r]:edges[r + 1], edges[c]:edges[c + 1]], (size, size))
             for r in range(grid) for c in range(grid)]
    order = rng.permutation(len(tiles))
    while np.all(order == np.arange(len(tiles))):
        order = rng.permutation(len(tiles))
    rows = [np.hstack([tiles[order[r * grid + c]] for c in range(grid)]) for r in range(grid)]
    return np.vstack(rows)


def ink_blot(rng: np.random.Generator, digits: np.ndarray) -> np.ndarray:
    """A smooth random field thresholded into blots, mirrored half the time (a Rorschach card)."""
    field = _smooth_noise((64, 64), rng, int(rng.integers(2, 5)))
    if rng.random() < 0.5:
        field = np.maximum(field, field[:, ::-1])
    return (field > rng.uniform(0.55, 0.8)).astype(np.float32)


def swollen_digit(rng: np.random.Generator, digits: np.ndarray) -> np.ndarray:
    """A training digit thickened (at 64 px, by a disc 15-26 px across) until its loops close, blurred a
    little and unevenly lit: a solid of a digit's outline, no strokes left. A photographed object, a
    filled shape or a blob of paint reaches the model so; thick but open strokes (a marker) do not."""
    digit = cv2.resize(digits[int(rng.integers(len(digits)))].astype(np.float32) / 255.0, (64, 64),
                       interpolation=cv2.INTER_CUBIC)
    size = int(rng.integers(15, 27))
    solid = cv2.dilate(digit, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))
    solid = cv2.GaussianBlur(solid, (0, 0), rng.uniform(0.5, 1.5))
    light = 0.45 + 0.55 * _smooth_noise((64, 64), rng, 2)
    return np.clip(solid * light, 0, 1).astype(np.float32)


@functools.cache
def _type_faces() -> tuple[str, ...]:
    """The TrueType fonts of this machine (``TYPE_FACE_DIR``), in a fixed order."""
    faces = tuple(sorted(str(p) for p in Path(TYPE_FACE_DIR).rglob("*.ttf")))
    if not faces:
        raise RuntimeError(f"no TrueType fonts under {TYPE_FACE_DIR} (apt-get install fonts-dejavu-core)")
    return faces


def _bitmap(font: ImageFont.FreeTypeFont, text: str) -> np.ndarray:
    drawn = font.getmask(text)
    return np.asarray(drawn, np.uint8).reshape(drawn.size[::-1])


@functools.cache
def _face(face: str) -> tuple[ImageFont.FreeTypeFont, np.ndarray]:
    """The font ``face`` at 96 px, loaded once, and the box it draws for a code point no font has."""
    font = ImageFont.truetype(face, 96)
    return font, _bitmap(font, "\U0010fffd")


@functools.cache
def _typeset(face: str, character: str) -> np.ndarray | None:
    """``character`` in the font ``face`` at 96 px, cropped to its ink, in [0, 1]; None where the font has
    no such character (it draws its missing-glyph box)."""
    font, missing = _face(face)
    mask = _bitmap(font, character)
    if np.array_equal(mask, missing):
        return None
    ys, xs = np.nonzero(mask > 12)
    if len(ys) < 20:
        return None
    return mask[ys.min():ys.max() + 1, xs.min():xs.max() + 1].astype(np.float32) / 255.0


def _in_type(rng: np.random.Generator, faces: tuple[str, ...], characters: str, boldest: int) -> np.ndarray:
    """One of ``characters`` in one of ``faces`` that has it, thinned by a pixel or made bolder by up to
    ``boldest`` pixels, or left as it is."""
    while True:
        ink = _typeset(faces[int(rng.integers(len(faces)))], characters[int(rng.integers(len(characters)))])
        if ink is not None:
            break
    weight = int(rng.integers(-1, boldest + 1))
    if weight > 0:
        return cv2.dilate(ink, np.ones((weight, weight), np.uint8))
    return cv2.erode(ink, np.ones((2, 2), np.uint8)) if weight < 0 else ink


def typeset_character(rng: np.random.Generator, digits: np.ndarray) -> np.ndarray:
    """A character set in type: a letter or a symbol, a letter of another script, a pictograph or an
    arrow, in one of the machine's fonts that has it, thinned or made bolder, a third of the time as its
    outline only, then warped by a hand (``_hand_warp``)."""
    ink = _in_type(rng, _type_faces(), TYPESET[int(rng.integers(len(TYPESET)))], 4)
    if rng.random() < 1 / 3:
        ink = cv2.morphologyEx(cv2.copyMakeBorder(ink, 4, 4, 4, 4, cv2.BORDER_CONSTANT, value=0.0),
                               cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    return _hand_warp(ink, rng)


def faces_of(family: str) -> tuple[str, ...]:
    """The machine's fonts whose file name holds ``family`` (all of them where none does)."""
    return tuple(face for face in _type_faces() if family in Path(face).name) or _type_faces()


def typeset_digit(rng: np.random.Generator, faces: tuple[str, ...], hand: float = 0.5) -> np.ndarray:
    """A digit set in type, as a screenshot, a printed label or a receipt shows it: one of ``faces``, thinned
    or made bolder like ``typeset_character``, turned and warped by ``hand`` of a hand (``_hand_warp``)."""
    return _hand_warp(_in_type(rng, faces, "0123456789", 3), rng, hand)


def exposure_inks(count: int, seed: int, digits: np.ndarray, swollen: bool = True) -> list[np.ndarray]:
    """``count`` inks (white on black, [0, 1]) of the ``EXPOSURE_KINDS`` in turn (invented glyphs and
    typeset characters twice as often as the others), from training digits. ``swollen=False`` leaves
    out the swollen digits, the last kind to join (the pair reader was trained without them)."""
    rng = np.random.default_rng([seed, 17])
    makers = (invented_glyph, typeset_character, shuffled_tiles, typeset_character, invented_glyph, ink_blot,
              *((swollen_digit,) if swollen else ()))
    return [makers[n % len(makers)](rng, digits) for n in range(count)]


def exposure_inputs(count: int, seed: int, digits: np.ndarray) -> np.ndarray:
    """The ``EXPOSURE_KINDS`` as the model sees them: (count, 28, 28) float32 through ``normalize_ink``."""
    from models.preprocess import DigitInputError, normalize_ink

    inputs = []
    for ink in exposure_inks(count * 2, seed, digits):
        try:
            inputs.append(normalize_ink(ink))
        except DigitInputError:
            continue  # a blot too small to find: the next one
        if len(inputs) == count:
            break
    return np.stack(inputs).astype(np.float32)


# --- the scoreboard: every detector against every kind -----------------------------------------------

DIGIT_KINDS = ("mnist-test", "mnist-c", *STYLES, *EDGE_KINDS, "canvas", "printed")
# Printed digits: the fit set's are set in one family of the machine's fonts, the scoreboard's in another, which
# the detector never saw (the typeset *letters* of its non-digits are in both).
PRINTED_FIT_FACES, PRINTED_KIND_FACES = "DejaVu", "Liberation"
SCOREBOARD_COUNT = 200  # files of each non-digit kind and of each drawn digit kind
DIGIT_LIMIT = 0.02  # a detector that flags more than this share of some digit kind is not the default


def _model_inputs(files: list[bytes]) -> np.ndarray:
    """Image files -> what the model sees; a file the pipeline finds blank ("No digit found") is left out."""
    from models.preprocess import DigitInputError, image_to_model_input

    inputs = []
    for data in files:
        try:
            inputs.append(image_to_model_input(data))
        except DigitInputError:
            continue
    return np.stack(inputs).astype(np.float32) if inputs else np.zeros((0, 28, 28), np.float32)


def canvas_digit(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """An MNIST digit as the predict page's canvas sends it: white strokes of the canvas pen on black, 280 px."""
    from models.preprocess import CANVAS_SIZE

    ink = _stroke(digit, int(CANVAS_SIZE * rng.uniform(0.3, 0.8)), rng.uniform(0.3, 0.8))
    return np.uint8(_place(ink, (CANVAS_SIZE, CANVAS_SIZE), rng) * 255)


def digit_kind_inputs(count: int = SCOREBOARD_COUNT, seed: int = 0) -> dict[str, np.ndarray]:
    """Digits of every ``DIGIT_KINDS`` as the model sees them: the MNIST test set, MNIST-C (``count`` of each
    corruption), and ``count`` drawings of each style, edge kind and canvas drawing, and of printed digits
    (``PRINTED_KIND_FACES``, sent as drawings are)."""
    from models.corruptions import CORRUPTIONS, corrupt_many
    from models.mnist import load_mnist
    from models.preprocess import normalize_digit

    _, _, x_test, y_test = load_mnist()
    rng = np.random.default_rng([seed, 99])
    picks = rng.choice(len(x_test), size=count, replace=False)
    clean = x_test.astype(np.float32) / 255.0
    kinds = {"mnist-test": clean,
             "mnist-c": np.concatenate([corrupt_many(name, clean[picks], picks, seed) for name in CORRUPTIONS])}
    for style in (*STYLES, *EDGE_KINDS):
        drawings = realistic_drawings(x_test, y_test, count, seed, (style,))
        kinds[style] = _model_inputs([d.data for d in drawings])
    kinds["canvas"] = np.stack([normalize_digit(canvas_digit(x_test[i], rng)) for i in picks]).astype(np.float32)
    printed = np.random.default_rng([seed, 101])
    faces = faces_of(PRINTED_KIND_FACES)
    kinds["printed"] = _model_inputs([_as_drawing(typeset_digit(printed, faces, hand=0.2), printed)
                                      for _ in range(count)])
    return kinds


def nondigit_kind_inputs(count: int = SCOREBOARD_COUNT, seed: int = 0) -> dict[str, np.ndarray]:
    """``count`` files of every ``NONDIGIT_KINDS`` as the model sees them (blank ones left out)."""
    from models.mnist import load_mnist

    _, _, x_test, _ = load_mnist()
    return {kind: _model_inputs(nondigit_files(kind, count, seed, x_test)) for kind in NONDIGIT_KINDS}


def auroc(digit_scores: np.ndarray, other_scores: np.ndarray) -> float:
    """The chance that a non-digit scores higher than a digit (ties count half): the Mann-Whitney U statistic."""
    from models.scoreboard import mean_ranks

    ranks = mean_ranks(np.concatenate([digit_scores, other_scores]).astype(np.float64)) + 1
    other_ranks = ranks[len(digit_scores):].sum() - len(other_scores) * (len(other_scores) + 1) / 2
    return float(other_ranks / (len(digit_scores) * len(other_scores)))


def fpr_at_95_tpr(digit_scores: np.ndarray, other_scores: np.ndarray) -> float:
    """The share of non-digits taken for digits when the threshold keeps 95 % of the digits."""
    return float(np.mean(other_scores <= np.quantile(digit_scores, 0.95)))


def novelty_section(model, digits: dict[str, np.ndarray], others: dict[str, np.ndarray]) -> dict:
    """DESIGN.md's ``novelty`` section of the report for a ``DigitModel`` with its fitted detectors."""
    from models.novelty import DETECTORS

    fitted = model.novelty
    digit_scores = {kind: fitted.all_scores(*model.features_and_logits(x, pooled=True)) for kind, x in digits.items()}
    other_scores = {kind: fitted.all_scores(*model.features_and_logits(x, pooled=True))
                    for kind, x in others.items() if len(x)}
    rows = []
    for name in DETECTORS:
        if name not in fitted.thresholds:
            continue
        threshold = fitted.thresholds[name]
        test = digit_scores["mnist-test"][name]
        pooled = np.concatenate([s[name] for s in other_scores.values()])
        rows.append({
            "name": name,
            "threshold": round(threshold, 6),
            "auroc": round(auroc(test, pooled), 4),
            "fpr_at_95_tpr": round(fpr_at_95_tpr(test, pooled), 4),
            "per_kind": {kind: round(auroc(test, s[name]), 4) for kind, s in other_scores.items()},
            "per_kind_fpr_at_95_tpr": {kind: round(fpr_at_95_tpr(test, s[name]), 4)
                                       for kind, s in other_scores.items()},
            "nondigits_flagged": {kind: round(float(np.mean(s[name] > threshold)), 4)
                                  for kind, s in other_scores.items()},
            "digits_flagged": {kind: round(float(np.mean(s[name] > threshold)), 4) for kind, s in digit_scores.items()},
        })
    best = best_detector(rows)
    return {"detector": best["name"], "threshold": best["threshold"], "detectors": rows,
            "digits": {kind: int(len(x)) for kind, x in digits.items()},
            "nondigits": {kind: int(len(x)) for kind, x in others.items()}}


def best_detector(rows: list[dict]) -> dict:
    """The detector the app uses: among those that flag at most ``DIGIT_LIMIT`` of every digit kind (all, if
    none does), the one whose worst non-digit kind is flagged most often; then the highest AUROC."""
    keeps = [row for row in rows if max(row["digits_flagged"].values()) <= DIGIT_LIMIT] or rows
    return max(keeps, key=lambda row: (min(row["nondigits_flagged"].values()), row["auroc"]))


# --- what the "exposure" detector is fitted on (models/novelty_fit_set.npz) ---------------------------

FIT_SET_EXPOSURE = 10500  # exposure inputs (non-digits of the EXPOSURE_KINDS only): 1,500 of them swollen digits
FIT_SET_PER_KIND = 300  # training digits per corruption, per drawing style or edge kind, and x4 drawn on the canvas
FIT_SET_TYPESET = 600  # digits set in type (typeset_digit): typeset letters alone taught it that type is no digit


def novelty_fit_set(seed: int = 0) -> dict[str, np.ndarray]:
    """What the ``exposure`` novelty detector learns from, independent of any model, as the model sees it
    (uint8 (N, 28, 28)): ``digits``, MNIST *training* digits corrupted, drawn in every style and on the
    canvas, and digits set in type (``PRINTED_FIT_FACES``), so that those digit kinds are not what it
    learns to flag, and ``exposure``, the ``EXPOSURE_KINDS``. No input of the scoreboard's kinds
    (pen-written letters, doodles, photos, printed digits in other fonts...) is in it, and no test digit.

    Made with a marker's strokes kept as they come (``models.preprocess.markers_kept``): thinned like
    a marker's, the swollen digits (solid shapes) come to look like blurred, blown-up thumbnails of
    digits, and the detector fitted on them called 2-4 % of those no digit rather than 0.5-1.5 %
    (three fitting seeds each). A marker's digit sent to the app is thinned and read as a pen's."""
    from models.corruptions import CORRUPTIONS, corrupt_many
    from models.mnist import load_mnist
    from models.preprocess import markers_kept, normalize_digit, normalize_ink

    x_train, y_train, _, _ = load_mnist()
    rng = np.random.default_rng([seed, 2017])
    clean = x_train.astype(np.float32) / 255.0
    parts = []
    with markers_kept():
        for name in CORRUPTIONS:
            picks = rng.choice(len(x_train), FIT_SET_PER_KIND, replace=False)
            parts.append(corrupt_many(name, clean[picks], picks, seed + 5))
        for style in (*STYLES, *EDGE_KINDS):
            drawings = realistic_drawings(x_train, y_train, FIT_SET_PER_KIND, seed + 11, (style,))
            parts.append(_model_inputs([d.data for d in drawings]))
        picks = rng.choice(len(x_train), FIT_SET_PER_KIND * 4, replace=False)
        parts.append(np.stack([normalize_digit(canvas_digit(x_train[i], rng)) for i in picks]))
        exposure = exposure_inputs(FIT_SET_EXPOSURE, seed, x_train)
    typeset, faces = np.random.default_rng([seed, 2026]), faces_of(PRINTED_FIT_FACES)  # after the rest, as it was
    parts.append(np.stack([normalize_ink(typeset_digit(typeset, faces)) for _ in range(FIT_SET_TYPESET)]))
    as_bytes = lambda x: np.uint8(np.clip(np.asarray(x, np.float32) * 255 + 0.5, 0, 255))  # noqa: E731
    return {"digits": as_bytes(np.concatenate(parts)), "exposure": as_bytes(exposure)}


def main(argv: list[str] | None = None) -> int:
    import argparse

    from models.novelty import FIT_SET_PATH

    parser = argparse.ArgumentParser(prog="python -m train.nondigits",
                                     description="Write the exposure detector's fit set (models/novelty_fit_set.npz).")
    parser.add_argument("--out", default=str(FIT_SET_PATH))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    fit_set = novelty_fit_set(args.seed)
    np.savez_compressed(args.out, **fit_set)
    print(f"{args.out}: {len(fit_set['digits'])} digits, {len(fit_set['exposure'])} exposure inputs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
