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

MNIST's writers were American: their 1 is a bare stroke and hardly any 7 is crossed. Where a 1 is
written with a flag (and a foot), as much of Europe writes it, the model read it as a 7 (a third of
the 1s of some stroke fonts). So before the damage, a share of the 1s get a flag drawn from the top of
their stem down to the left (``flag_one``) and a share of the 7s a bar across their stem
(``bar_seven``): generated strokes on MNIST's own digits, no font and no other data set.
Everything runs on NumPy/OpenCV from a generator seeded per batch: a run is reproducible.
"""

from __future__ import annotations

import cv2
import numpy as np

SIZE = 28
CLEAN_SHARE = 1 / 3
FLAGGED_ONES = 0.3  # share of the 1s given a flag (a quarter of those a foot too)
BARRED_SEVENS = 0.25  # share of the 7s given a bar across the stem


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


def _stroke(x: np.ndarray, start, end, width: float, value: float) -> np.ndarray:
    """``x`` with a straight stroke from ``start`` to ``end`` ((x, y) in pixels), drawn at 4x and shrunk."""
    up = 4
    canvas = np.zeros((SIZE * up, SIZE * up), np.float32)
    ends = [tuple(int(round((v + 0.5) * up - 0.5)) for v in point) for point in (start, end)]
    cv2.line(canvas, ends[0], ends[1], float(value), max(1, int(round(width * up))), cv2.LINE_AA)
    return np.maximum(x, cv2.resize(canvas, (SIZE, SIZE), interpolation=cv2.INTER_AREA))


def _recentre(x: np.ndarray) -> np.ndarray:
    """Shifted so that its centre of mass is the image's centre, as MNIST's digits are."""
    m = cv2.moments(x)
    if m["m00"] <= 0:
        return x
    return _warp(x, np.eye(2), np.array([SIZE / 2 - 0.5 - m["m10"] / m["m00"], SIZE / 2 - 0.5 - m["m01"] / m["m00"]]))


def flag_one(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A 1 (28x28, [0, 1], white ink) with a flag: a stroke from the top of its stem down to the left,
    30-65 degrees off the stem but never flatter than 30 degrees below the horizontal (flatter and
    longer it is a 7's bar), 15-32 % of the stem long; a quarter of the time a foot across the bottom."""
    ys, xs = np.nonzero(x > 0.3)
    if len(xs) < 4:
        return x
    points = np.c_[xs, ys].astype(np.float64)
    centre = points.mean(axis=0)
    axis = np.linalg.svd(points - centre, full_matrices=False)[2][0]
    axis = axis if axis[1] >= 0 else -axis  # the stem, downwards
    along = (points - centre) @ axis
    length = float(np.ptp(along))
    top = points[along <= along.min() + 0.1 * length].mean(axis=0)
    bottom = points[along >= along.max() - 0.1 * length].mean(axis=0)
    width = float(np.clip(len(points) / max(length, 1.0), 1.5, 5.0))
    value = float(np.percentile(x[x > 0.3], 90))
    turn = np.deg2rad(rng.uniform(30, 65))
    c, s = np.cos(turn), np.sin(turn)
    flag = np.array([c * axis[0] - s * axis[1], s * axis[0] + c * axis[1]])  # turned to the stem's left
    if flag[1] < np.sin(np.deg2rad(30)):
        below = np.deg2rad(rng.uniform(30, 50))
        flag = np.array([-np.cos(below), np.sin(below)])
    start = top - axis * rng.uniform(0, 0.5) * width
    x = _stroke(x, start, start + flag * length * rng.uniform(0.15, 0.32), width * rng.uniform(0.8, 1.1), value)
    if rng.random() < 0.25:
        half = np.array([-axis[1], axis[0]]) * length * rng.uniform(0.12, 0.25)
        x = _stroke(x, bottom - half, bottom + half, width, value)
    return _recentre(x)


def bar_seven(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A 7 with a short bar across its stem, 45-62 % of the way down."""
    ys, xs = np.nonzero(x > 0.3)
    if len(ys) < 4:
        return x
    top, height = ys.min(), np.ptp(ys)
    row = int(round(top + height * rng.uniform(0.45, 0.62)))
    columns = xs[ys == row]
    if len(columns) == 0:
        return x
    half, tilt = height * rng.uniform(0.12, 0.22), height * rng.uniform(-0.05, 0.05)
    centre = columns.mean()
    return _stroke(x, (centre - half, row + tilt), (centre + half, row - tilt), float(np.clip(len(columns), 1.5, 5.0)),
                   float(np.percentile(x[x > 0.3], 90)))


def written_variants(images: np.ndarray, labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``images`` with ``FLAGGED_ONES`` of the 1s flagged and ``BARRED_SEVENS`` of the 7s barred."""
    images = images.copy()
    for i, label in enumerate(labels):
        if label == 1 and rng.random() < FLAGGED_ONES:
            images[i] = flag_one(images[i], rng)
        elif label == 7 and rng.random() < BARRED_SEVENS:
            images[i] = bar_seven(images[i], rng)
    return images


def augment_digit(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One 28x28 digit in [0, 1]: clean with light jitter, or affine-warped and damaged 1-2 ways."""
    if rng.random() < CLEAN_SHARE:
        return _affine(x, rng, 0.35)
    if rng.random() < 0.7:
        x = _affine(x, rng, 1.0)
    for family in rng.choice(len(FAMILIES), size=int(rng.integers(1, 3)), replace=False):
        x = np.clip(FAMILIES[family](x, rng), 0.0, 1.0).astype(np.float32)
    return x


def augment_batch(images: np.ndarray, seed: int, step: int, labels: np.ndarray | None = None) -> np.ndarray:
    """A batch (B, 28, 28) of [0, 1] digits, augmented reproducibly from (seed, global step); with their
    ``labels``, some 1s flagged and 7s barred first (``written_variants``)."""
    if labels is not None:
        images = written_variants(np.asarray(images, np.float32), labels, np.random.default_rng([seed, step, 5]))
    rng = np.random.default_rng([seed, step])
    return np.stack([augment_digit(np.asarray(x, np.float32), rng) for x in images])
