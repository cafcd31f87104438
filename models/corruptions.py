"""The 15 MNIST-C corruptions (Mu & Gilmer 2019), written from the paper's descriptions.

Each corruption takes one 28x28 digit (float, white ink on black, [0, 1]) and a NumPy random
generator, and returns the corrupted 28x28 digit in [0, 1]: the image is fed to the model as it
is, without our pre-processing, as MNIST-C does. ``corrupt`` seeds the generator from
(seed, corruption, test index), so any one corrupted digit can be rebuilt on its own (the app
shows a misread digit without generating the whole set).

Severities are ours, fixed, and chosen as MNIST-C chose its own: a person still reads the digit
at a glance. They are listed in ``SEVERITY`` (units in each function's docstring).
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

SIZE = 28
CENTRE = (SIZE - 1) / 2

SEVERITY: dict[str, float | tuple] = {
    "shot_noise": 4.0,            # photons at full ink: Poisson(4 x)/4
    "impulse_noise": 0.15,        # fraction of pixels set to 0 or 1 (half each)
    "glass_blur": (0.7, 1, 2),    # Gaussian sigma, largest pixel swap distance, swap passes
    "motion_blur": (10, 3.0),     # streak length (px), Gaussian fall-off along it (px); angle +-45 deg
    "shear": 0.5,                 # horizontal shear factor, random sign
    "scale": 0.65,                # the digit shrinks to this size about the centre
    "rotate": 25.0,               # degrees, random sign
    "brightness": 0.45,           # added to every pixel's value (HSV V of a grey image)
    "translate": 3,               # pixels along each axis, random signs
    "stripe": 7,                  # width (px) of the inverted bands at the left and right edges
    "fog": (2.0, 0.55),           # fog strength, fractal roughness (amplitude kept per octave)
    "spatter": (0.65, 0.3, 2.0, 0.68, 0.25),  # field mean, sd, blur sigma, threshold, mud grey level
    "dotted_line": (2, 2.3),      # dash length (px), line half-width (px)
    "zigzag": (2.0, 2.0, 2.3),    # half period (px), amplitude (px), line half-width (px)
    "canny_edges": (1.0, 40, 80),  # pre-blur sigma, Canny low and high thresholds (0-255 scale)
}


def _warp(x: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Apply a 2x2 linear map about the image centre (output pixel p takes input pixel A^-1 p)."""
    inverse = np.linalg.inv(matrix)
    offset = np.array([CENTRE, CENTRE]) - inverse @ np.array([CENTRE, CENTRE])
    affine = np.hstack([inverse, offset[:, None]]).astype(np.float32)
    return cv2.warpAffine(x, affine, (SIZE, SIZE), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)


def _soft_line(points: np.ndarray, half_width: float) -> np.ndarray:
    """Ink of a polyline (x, y points) whose strength decays over ``half_width`` px from its centre."""
    ys, xs = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    distance = np.full((SIZE, SIZE), np.inf, np.float32)
    for (x0, y0), (x1, y1) in zip(points[:-1], points[1:], strict=False):
        dx, dy = x1 - x0, y1 - y0
        t = np.clip(((xs - x0) * dx + (ys - y0) * dy) / max(dx * dx + dy * dy, 1e-9), 0.0, 1.0)
        distance = np.minimum(distance, np.hypot(xs - (x0 + t * dx), ys - (y0 + t * dy)))
    return np.clip(1.0 + np.log(np.clip(1.0 - distance / half_width, 1e-6, 1.0)), 0.0, 1.0)


def shot_noise(x, rng):
    """Photon noise on the ink: Poisson counts at ``SEVERITY`` photons for full ink."""
    photons = SEVERITY["shot_noise"]
    return np.clip(rng.poisson(x * photons) / photons, 0.0, 1.0)


def impulse_noise(x, rng):
    """Salt-and-pepper noise: a fraction of the pixels is set to black or white."""
    hit = rng.random(x.shape) < SEVERITY["impulse_noise"]
    return np.where(hit, (rng.random(x.shape) < 0.5).astype(np.float32), x)


def glass_blur(x, rng):
    """Gaussian blur, pixels swapped with random neighbours (frosted glass), blurred again."""
    sigma, reach, passes = SEVERITY["glass_blur"]
    x = cv2.GaussianBlur(x, (0, 0), sigma)
    for _ in range(passes):
        offsets = rng.integers(-reach, reach + 1, (SIZE, SIZE, 2))
        chosen = rng.random((SIZE, SIZE)) < 0.5
        for h in range(SIZE - reach - 1, reach, -1):  # bottom-right to top-left, as glass distorts
            for w in range(SIZE - reach - 1, reach, -1):
                if chosen[h, w]:
                    h2, w2 = h + offsets[h, w, 0], w + offsets[h, w, 1]
                    x[h, w], x[h2, w2] = x[h2, w2], x[h, w]
    return np.clip(cv2.GaussianBlur(x, (0, 0), sigma), 0.0, 1.0)


def motion_blur(x, rng):
    """A one-sided streak at a random angle within +-45 degrees, weights falling off like a Gaussian."""
    length, sigma = SEVERITY["motion_blur"]
    angle = np.deg2rad(rng.uniform(-45, 45))
    kernel = np.zeros((2 * length + 1, 2 * length + 1), np.float32)
    for step in range(length + 1):
        kernel[round(length - step * np.sin(angle)), round(length + step * np.cos(angle))] += \
            np.exp(-step * step / (2 * sigma * sigma))
    return np.clip(cv2.filter2D(x, -1, kernel / kernel.sum(), borderType=cv2.BORDER_CONSTANT), 0.0, 1.0)


def shear(x, rng):
    """Horizontal shear about the centre, left or right."""
    s = SEVERITY["shear"] * rng.choice([-1, 1])
    return _warp(x, np.array([[1.0, s], [0.0, 1.0]]))


def scale(x, rng):
    """The digit shrunk about the centre."""
    return _warp(x, np.eye(2) * SEVERITY["scale"])


def rotate(x, rng):
    """Rotation about the centre, clockwise or anticlockwise."""
    a = np.deg2rad(SEVERITY["rotate"] * rng.choice([-1, 1]))
    return _warp(x, np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]))


def brightness(x, rng):
    """Brighter: the value channel of the (grey) image raised, so the black background turns grey."""
    return np.clip(x + SEVERITY["brightness"], 0.0, 1.0)


def translate(x, rng):
    """Shifted diagonally by a few pixels, in a random direction."""
    d = SEVERITY["translate"]
    dx, dy = d * rng.choice([-1, 1], 2)
    return cv2.warpAffine(x, np.float32([[1, 0, dx], [0, 1, dy]]), (SIZE, SIZE), borderValue=0.0)


def stripe(x, rng):
    """Bands at the left and right edges inverted (white background there)."""
    width = SEVERITY["stripe"]
    x = x.copy()
    x[:, :width] = 1.0 - x[:, :width]
    x[:, SIZE - width:] = 1.0 - x[:, SIZE - width:]
    return x


def _fractal(rng, roughness: float) -> np.ndarray:
    """Fractal (plasma-like) noise in [0, 1]: octaves of random grids, each finer and fainter."""
    field = np.zeros((SIZE, SIZE), np.float32)
    amplitude = 1.0
    for cells in (2, 4, 8, 16):
        grid = rng.uniform(-1, 1, (cells + 1, cells + 1)).astype(np.float32)
        field += amplitude * cv2.resize(grid, (SIZE, SIZE), interpolation=cv2.INTER_CUBIC)
        amplitude *= roughness
    field -= field.min()
    return field / max(field.max(), 1e-6)


def fog(x, rng):
    """Fractal fog added everywhere, then the image rescaled to keep its brightest value."""
    strength, roughness = SEVERITY["fog"]
    top = x.max()
    return np.clip((x + strength * _fractal(rng, roughness)) * top / (top + strength), 0.0, 1.0)


def spatter(x, rng):
    """Mud splashes: blobs of a blurred random field, thresholded, painted grey over the digit."""
    mean, sd, sigma, threshold, grey = SEVERITY["spatter"]
    liquid = cv2.GaussianBlur(rng.normal(mean, sd, x.shape).astype(np.float32), (0, 0), sigma)
    mud = cv2.GaussianBlur((liquid > threshold).astype(np.float32), (0, 0), 1.0)
    mud[mud < 0.5] = 0.0
    return np.clip(x * (1 - mud) + grey * mud, 0.0, 1.0)


def dotted_line(x, rng):
    """A dashed line drawn from the left edge to the right edge at random heights."""
    dash, half_width = SEVERITY["dotted_line"]
    y0, y1 = rng.integers(0, SIZE - 1, 2)
    line = _soft_line(np.array([[0.0, y0], [SIZE - 1.0, y1]]), half_width)
    gaps = (np.arange(SIZE) // dash) % 2 == 0
    line[:, gaps] = 0.0
    return np.clip(x + line, 0.0, 1.0)


def zigzag(x, rng):
    """A zigzag line across the digit at a random height and slight slope."""
    half_period, amplitude, half_width = SEVERITY["zigzag"]
    y0 = rng.integers(0, SIZE - 1)
    y1 = y0 + rng.integers(-5, 5)
    x0, x1 = 2.0, SIZE - 3.0
    theta = np.arctan2(y1 - y0, x1 - x0)
    length = np.hypot(x1 - x0, y1 - y0)
    along = np.arange(0.0, length + half_period, half_period)
    across = amplitude * np.where(np.arange(len(along)) % 2, 1.0, -1.0)
    across[0] = 0.0
    points = np.stack([x0 + along * np.cos(theta) - across * np.sin(theta),
                       y0 + along * np.sin(theta) + across * np.cos(theta)], axis=1)
    return np.clip(x + _soft_line(points, half_width), 0.0, 1.0)


def canny_edges(x, rng):
    """Only the digit's outline: Canny edges of the (slightly blurred) digit, as white lines."""
    sigma, low, high = SEVERITY["canny_edges"]
    u8 = np.uint8(np.round(cv2.GaussianBlur(x, (0, 0), sigma) * 255))
    return (cv2.Canny(u8, low, high, L2gradient=True) > 0).astype(np.float32)


CORRUPTIONS: dict[str, Callable[[np.ndarray, np.random.Generator], np.ndarray]] = {
    f.__name__: f for f in (shot_noise, impulse_noise, glass_blur, motion_blur, shear, scale, rotate, brightness,
                            translate, stripe, fog, spatter, dotted_line, zigzag, canny_edges)
}
NAMES = tuple(CORRUPTIONS)


def corrupt(name: str, image: np.ndarray, index: int, seed: int = 0) -> np.ndarray:
    """One MNIST digit (uint8 or [0, 1] floats, 28x28) with corruption ``name``; float32 in [0, 1].

    The result depends only on (name, image, index, seed): MNIST test digit ``index`` always gets
    the same corruption.
    """
    if name not in CORRUPTIONS:
        raise ValueError(f"Unknown corruption {name!r}: choose one of {', '.join(NAMES)}.")
    x = np.asarray(image, np.float32)
    if np.asarray(image).dtype == np.uint8:
        x = x / 255.0
    rng = np.random.default_rng([seed, NAMES.index(name), int(index)])
    return CORRUPTIONS[name](x.copy(), rng).astype(np.float32)


def corrupt_many(name: str, images: np.ndarray, indices: np.ndarray, seed: int = 0) -> np.ndarray:
    """``corrupt`` for each of ``images`` (N, 28, 28), test indices ``indices``; float32 (N, 28, 28)."""
    return np.stack([corrupt(name, image, index, seed) for image, index in zip(images, indices, strict=True)])
