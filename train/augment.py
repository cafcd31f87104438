"""Training augmentation: the families of damage MNIST-C measures, never its exact corruptions.

MNIST-C (``models/corruptions.py``) is the test, so the model must not be trained on it. Each
family here is a *different kind* of the same damage, or the same kind at *held-out severities*:

| MNIST-C corruption | trained on instead |
|---|---|
| shot_noise (Poisson) | additive Gaussian noise, multiplicative grain on the ink |
| impulse_noise (0/1 pixels) | pixels replaced by uniform random grey levels |
| glass_blur (pixel swaps) | Gaussian blur, smooth elastic warps |
| motion_blur (one-sided streak) | symmetric box streaks |
| shear, scale, rotate, translate | affine jitter strictly inside the test severities (see ``_affine``) |
| brightness (added constant), fog (fractal) | contrast pulled toward a grey that is flat, a ramp or a coarse field |
| stripe (both edge bands inverted) | one or two inverted bands anywhere, of any width |
| spatter (blurred-noise blobs) | filled grey ellipses |
| dotted_line, zigzag | solid straight lines and random polylines |
| canny_edges (1 px Canny outline) | the inner outline of the thresholded digit (morphological) |

A third of the digits stay clean but for a light affine jitter, so that clean accuracy holds.
Everything runs on NumPy/OpenCV from a generator seeded per batch: a run is reproducible.
"""

from __future__ import annotations

import cv2
import numpy as np

SIZE = 28
CLEAN_SHARE = 1 / 3


def _warp(x: np.ndarray, matrix: np.ndarray, shift: np.ndarray) -> np.ndarray:
    centre = np.array([SIZE / 2 - 0.5] * 2)
    offset = centre - matrix @ centre + shift
    return cv2.warpAffine(x, np.hstack([matrix, offset[:, None]]).astype(np.float32), (SIZE, SIZE),
                          flags=cv2.INTER_LINEAR, borderValue=0.0)


def _affine(x: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
    """Rotation, shear, zoom and shift about the centre. At full strength each stays inside the
    MNIST-C severity (rotate 25 deg, shear 0.5, scale 0.65, translate 3 px) so those are held out."""
    angle = np.deg2rad(rng.uniform(-20, 20) * strength)
    shear = rng.uniform(-0.35, 0.35) * strength
    zoom = np.exp(rng.uniform(np.log(0.75), np.log(1.1)) * strength)
    c, s = np.cos(angle), np.sin(angle)
    matrix = zoom * np.array([[c, -s], [s, c]]) @ np.array([[1.0, shear], [0.0, 1.0]])
    return _warp(x, matrix, rng.uniform(-2.5, 2.5, 2) * strength)


def gaussian_noise(x, rng):
    return x + rng.normal(0.0, rng.uniform(0.05, 0.35), x.shape)


def ink_grain(x, rng):
    return x * (1.0 + rng.normal(0.0, rng.uniform(0.2, 0.6), x.shape))


def random_impulses(x, rng):
    hit = rng.random(x.shape) < rng.uniform(0.02, 0.25)
    return np.where(hit, rng.random(x.shape), x)


def gaussian_blur(x, rng):
    return cv2.GaussianBlur(x, (0, 0), rng.uniform(0.5, 1.6))


def box_streak(x, rng):
    """A symmetric streak (uniform weights both ways along a random angle)."""
    half = int(rng.integers(1, 6))
    angle = rng.uniform(0, np.pi)
    kernel = np.zeros((2 * half + 1, 2 * half + 1), np.float32)
    for t in np.linspace(-half, half, 4 * half + 1):
        kernel[round(half + t * np.sin(angle)), round(half + t * np.cos(angle))] = 1.0
    return cv2.filter2D(x, -1, kernel / kernel.sum(), borderType=cv2.BORDER_CONSTANT)


def elastic(x, rng):
    """A smooth random displacement field (Simard et al. 2003), then a light blur."""
    sigma, alpha = rng.uniform(2.5, 4.0), rng.uniform(8.0, 20.0)
    dx, dy = (cv2.GaussianBlur(rng.uniform(-1, 1, (SIZE, SIZE)).astype(np.float32), (0, 0), sigma) * alpha
              for _ in range(2))
    ys, xs = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    warped = cv2.remap(x, xs + dx, ys + dy, cv2.INTER_LINEAR, borderValue=0.0)
    return cv2.GaussianBlur(warped, (0, 0), rng.uniform(0.3, 1.0))


def _smooth_field(rng) -> np.ndarray:
    if rng.random() < 0.5:
        yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32) / (SIZE - 1)
        angle = rng.uniform(0, 2 * np.pi)
        ramp = np.cos(angle) * xx + np.sin(angle) * yy
        return (ramp - ramp.min()) / max(np.ptp(ramp), 1e-6)
    cells = int(rng.integers(2, 5))
    field = cv2.resize(rng.random((cells, cells)).astype(np.float32), (SIZE, SIZE), interpolation=cv2.INTER_LINEAR)
    return (field - field.min()) / max(np.ptp(field), 1e-6)


def grey_background(x, rng):
    """Contrast pulled toward a grey level that is flat, a ramp or a coarse smooth field."""
    amount = rng.uniform(0.1, 0.75)
    level = _smooth_field(rng) * rng.uniform(0.3, 1.0) + rng.uniform(0.0, 0.5)
    return amount * np.clip(level, 0, 1) + (1 - amount) * x


def inverted_band(x, rng):
    """One or two bands, across or down the image, of any width, in negative."""
    x = x.copy()
    for _ in range(int(rng.integers(1, 3))):
        width = int(rng.integers(2, 11))
        start = int(rng.integers(0, SIZE - width + 1))
        if rng.random() < 0.5:
            x[:, start:start + width] = 1.0 - x[:, start:start + width]
        else:
            x[start:start + width] = 1.0 - x[start:start + width]
    return x


def grey_blobs(x, rng):
    mud = np.zeros((SIZE, SIZE), np.float32)
    for _ in range(int(rng.integers(1, 6))):
        centre = tuple(int(v) for v in rng.integers(0, SIZE, 2))
        axes = tuple(int(v) for v in rng.integers(1, 6, 2))
        cv2.ellipse(mud, centre, axes, float(rng.uniform(0, 180)), 0, 360, 1.0, -1, cv2.LINE_AA)
    return x * (1 - mud) + rng.uniform(0.1, 0.6) * mud


def lines(x, rng):
    """One or two thin occluding strokes: a straight line, or a wavering one, edge to edge."""
    canvas = np.zeros((SIZE, SIZE), np.float32)
    for _ in range(int(rng.integers(1, 3))):
        y0, y1 = rng.uniform(-2, SIZE + 2, 2)
        xs = np.linspace(-2, SIZE + 2, int(rng.integers(2, 12)))
        ys = np.linspace(y0, y1, len(xs)) + (rng.uniform(-3, 3, len(xs)) if len(xs) > 2 else 0)
        points = np.stack([xs, ys], axis=1)
        if rng.random() < 0.5:
            points = points[:, ::-1]  # vertical as often as horizontal
        cv2.polylines(canvas, [np.round(points * 16).astype(np.int32)], False, float(rng.uniform(0.5, 1.0)),
                      1, cv2.LINE_AA, shift=4)
    return np.maximum(x, canvas)


def outline(x, rng):
    ink = (x > rng.uniform(0.3, 0.6)).astype(np.uint8)
    return (ink - cv2.erode(ink, np.ones((3, 3), np.uint8))).astype(np.float32)


FAMILIES = (gaussian_noise, ink_grain, random_impulses, gaussian_blur, box_streak, elastic, grey_background,
            inverted_band, grey_blobs, lines, outline)


def augment_digit(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One 28x28 digit in [0, 1]: clean with light jitter, or affine-warped and damaged 1-2 ways."""
    if rng.random() < CLEAN_SHARE:
        return _affine(x, rng, 0.35)
    if rng.random() < 0.7:
        x = _affine(x, rng, 1.0)
    for family in rng.choice(len(FAMILIES), size=int(rng.integers(1, 3)), replace=False):
        x = np.clip(FAMILIES[family](x, rng), 0.0, 1.0).astype(np.float32)
    return x


def augment_batch(images: np.ndarray, seed: int, step: int) -> np.ndarray:
    """A batch (B, 28, 28) of [0, 1] digits, augmented reproducibly from (seed, global step)."""
    rng = np.random.default_rng([seed, step])
    return np.stack([augment_digit(np.asarray(x, np.float32), rng) for x in images])
