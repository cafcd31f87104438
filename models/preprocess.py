"""Turn what a person sends (an image file, canvas strokes) into the 28x28 input the model saw.

MNIST digits are white ink on black, cropped to the ink, scaled to fit 20x20 keeping the
aspect ratio, and placed so that their centre of mass sits at (14, 14).  A drawing that is
simply resized to 28x28 is read correctly only about a quarter of the time, so every input
goes through the same normalisation here.
"""

from __future__ import annotations

import contextlib
import contextvars
import io
import re
import warnings
from collections.abc import Callable, Iterator

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

MNIST_SIZE = 28
DIGIT_BOX = 20
STROKE_SHARE = 0.11  # MNIST's strokes are about this share of a digit's height (its longer side): strokes
HAIRLINE = 0.6  # under this many times that (a thin pen on a big canvas) are thickened to it,
MARKER = 1.6  # and strokes over this many times it (a marker, a thick brush) thinned to it, unless
SOFT_EDGES = 0.8  # the ink's edges (between 15 and 85 % of its strength) are this share of its strong part
WORK_SIZE = 112  # longest side we normalise at: 5.6x the 20x20 result (drawing set: 99.3 %, as at 160)
CANVAS_SIZE = 280  # the drawing canvas' height in units; a single digit's canvas is square
CANVAS_WIDTH = 560  # the predict page's canvas is twice as wide as tall: room for a short number
DEFAULT_PEN_WIDTH = 22.0  # canvas units, for a digit PEN_REFERENCE_EXTENT tall: about MNIST's 1/9 of the height
PEN_REFERENCE_EXTENT = 200.0
FINER_PEN = 0.25  # share of the pen a drawing's strokes are drawn with again, to find digits drawn close
MIN_PEN_SCALE = 0.125  # a lone tap or a tiny scribble still gets a visible dot
WIDEST_PEN_EXTENT = 1.25  # the pen scales with a drawing's width up to this many times its height (a wide digit)
SOLID = 0.25  # a transparent image's opaque part this wide (a share of its longer side) is a shape, not strokes,
TONE, MARKED = 0.08, 0.01  # and a picture where this share of its opaque pixels are this far from their median tone
RULING_SPAN, RULING_LINES, RULING_EVEN = 0.9, 3, 0.15  # ruled paper: lines along 90 % of the width, 3 or more, evenly
RULING_THICK, RULING_CONTRAST = 0.03, 0.08  # spaced (gaps within 15 %), each under 3 % of the shorter side thick, seen
RULING_COLUMNS = 64  # columns a row is sampled at to find them
RULING_PAPER = 0.4  # ruled paper is light: the ink of most of its rows' paper is under this
# A printed form round handwriting (a box, a row of cells, a comb): its lines run unbroken along FORM_SPAN of the
# ink, straight at one of FORM_TILT degrees (photographed askew), under FORM_THICK of its height thick (or 4 px);
# its cells' sides or a comb's ticks rise FORM_TICK of its height at least from a line, marking off equal cells
# (within FORM_EVEN of a cell); its field is FORM_WIDE as wide as tall at least.
FORM_SPAN, FORM_TILT, FORM_THICK = 0.6, (0.0, -1.0, 1.0, -2.0, 2.0), 0.08
FORM_TICK, FORM_EVEN, FORM_WIDE = 0.15, 0.15, 0.6
FORM_SIZE, FORM_LOOK = 640, 160  # the longest side forms are looked for at, and that of a coarse first look
FORM_FAINT = 0.1  # the faintest ink a form's line is looked for in
FORM_UNDER, FORM_BELOW = 2.5, 0.25  # a line to write on runs this many times as long as the ink on it is tall,
FORM_PAST = 1.2  # with at most this share of that ink below it, and this many times as long as that ink is wide
# A photo of a sheet of paper (a page, a sticky note, a card) on a darker table, looked for at PAPER_LOOK px: the
# largest light region, PAPER_LEAST of the photo at least, is a sheet if it has straight sides (its convex hull a
# polygon of PAPER_CORNERS corners at most, filling PAPER_SQUARE of its smallest turned rectangle; PAPER_ASLANT of
# it where it has four corners: a page photographed at an angle is a trapezoid) and its shorter side is PAPER_WIDE
# of its longer; if it has writing on it (dark marks it encloses, PAPER_WRITTEN of it at least, and at most
# PAPER_MARKED of it dark in all); if at most PAPER_FRAMED of its outline runs along the photo's border; and if
# what lies round it (PAPER_LEAST of the photo at least) is dark: under PAPER_STRAY of it light, its median tone
# PAPER_TABLE darker than the sheet's.
PAPER_LOOK, PAPER_LEAST, PAPER_CORNERS, PAPER_SQUARE, PAPER_WIDE = 160, 0.1, 6, 0.9, 0.2
PAPER_WRITTEN, PAPER_MARKED, PAPER_STRAY, PAPER_TABLE, PAPER_ASLANT, PAPER_FRAMED = 0.002, 0.16, 0.05, 0.15, 0.7, 0.5
# Paper lit unevenly (a shadow across it, light falling off): its border's tone spans this much at least, and
# going round it climbs and falls no more than this many times that (a stroke reaching the border dips and rises
# at once); the strokes are then this share of the pixels furthest from the paper's local tone (``_dark_strokes``).
UNEVEN_LIGHT, UNEVEN_SMOOTH, STROKE_TAIL = 0.1, 3.0, 0.005
# ``_remove_background`` takes the square a shadow's strokes ask for where it leaves ink and paper this much
# more clearly two tones (``_two_toned``) than the square Otsu's ink asked for.
SHADOW_CLEARER = 0.05
SHADOW_BORDER = 0.25  # and only where Otsu's ink runs along this share of the border: a shadow comes from outside
# A solid piece of ink reaching in from the border (``_without_intruders``), with no ink this much darker than its
# own tone (or than its tone is darker than the paper's) over PAPER_WRITTEN of it: a thumb, not a shadow over writing.
INTRUDER_SOLID, INTRUDER_THICK, INTRUDER_WRITTEN = 0.9, 3.0, 0.1
MAX_IMAGE_BYTES = 8 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000


class DigitInputError(ValueError):
    """The input cannot be turned into a digit; the message is meant for the person who sent it."""


class NoDigitFound(DigitInputError):
    def __init__(self, message: str = "No digit found: the image is blank or has too little contrast. "
                 "Draw or upload a dark digit on a light background (or the reverse).") -> None:
        super().__init__(message)


def load_image(data: bytes, max_bytes: int = MAX_IMAGE_BYTES, max_pixels: int = MAX_IMAGE_PIXELS) -> Image.Image:
    """Decode image bytes with Pillow, checking size limits before any pixel is decoded."""
    if not data:
        raise DigitInputError("The file is empty: send a PNG, JPEG, GIF, BMP, TIFF or WebP image of a digit.")
    if len(data) > max_bytes:
        raise DigitInputError(f"The file is {len(data) / 1e6:.1f} MB, over the {max_bytes / 1e6:.1f} MB limit: "
                              "send a smaller image.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width * height > max_pixels:
                raise DigitInputError(f"The image is {width}x{height} pixels, over the {max_pixels:,}-pixel limit: "
                                      "send a smaller image.")
            image.seek(0)  # first frame of an animation
            image.load()
    except DigitInputError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        if isinstance(exc, UnidentifiedImageError):
            raise DigitInputError("This file is not an image Pillow can read: send a PNG, JPEG, GIF, BMP, TIFF "
                                  "or WebP file.") from exc
        raise DigitInputError("The image declares more pixels than allowed: send a smaller image.") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise DigitInputError(f"The image file is damaged or truncated ({exc}): send a complete image file.") from exc
    return image


def _border(a: np.ndarray) -> np.ndarray:
    return np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]])


def _grey(image: Image.Image) -> np.ndarray:
    """Luminance in [0, 1] whatever the mode (16-bit and float modes included)."""
    if image.mode.startswith("I;16"):
        return np.asarray(image, dtype=np.float32) / 65535.0
    if image.mode in ("I", "F"):
        a = np.asarray(image, dtype=np.float32)
        peak = float(a.max())  # tones to 1 (a float image as NumPy saves it), to 255, or to 65535
        top = 65535.0 if peak > 255 else 255.0 if peak > 1 else 1.0
        return np.clip(a / top, 0.0, 1.0)
    return np.asarray(image.convert("L"), dtype=np.float32) / 255.0


def _ink_from_image(image: Image.Image) -> np.ndarray:
    """Ink strength in [0, 1] (1 = ink), from any Pillow image."""
    image = ImageOps.exif_transpose(image)  # phone photos are stored sideways
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif image.mode in ("PA", "La", "RGBa"):
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA"):
        alpha = np.asarray(image.getchannel("A"), dtype=np.float32) / 255.0
        layered = alpha.min() < 0.5 < alpha.max()  # transparent somewhere, opaque somewhere
        strokes = layered and not _solid(alpha)  # told by the alpha alone: their colours are never read
        grey = None if strokes else _grey(image.convert("RGB" if image.mode == "RGBA" else "L"))
        card = None if strokes else (_card_tone(grey, alpha) if layered else 1.0)
        if card is None:
            # The drawing lives in the alpha channel (strokes of any colour on a transparent
            # background): the colour of fully transparent pixels is meaningless.
            return alpha if np.median(_border(alpha)) < 0.5 else 1.0 - alpha
        # Translucent pixels over white paper. A picture on a transparent background (a digit on a card,
        # a sticker, an icon) lies on paper of its card's tone: its outline alone says nothing of what is
        # in it (a round emoji was a blot, "No digit found"; a card, a square read as a 1).
        grey = grey * alpha + card * (1.0 - alpha)
    else:
        grey = _grey(image)
    return _ink_from_grey(grey)


def _solid(alpha: np.ndarray) -> bool:
    """Whether a transparent image's opaque part is a solid shape, not strokes: strokes would be under
    ``SOLID`` of its longer side wide."""
    mask = _to_work_size(alpha) > 0.5
    _, _, w, h = cv2.boundingRect(mask.astype(np.uint8))
    return _stroke_width(mask) > SOLID * max(w, h, 1)


def _card_tone(grey: np.ndarray, alpha: np.ndarray) -> float | None:
    """The tone of a transparent image's solid opaque part (``_solid``) where that is a card with marks of
    other tones on it (a digit on a card, a sticker, an icon, a photo with rounded corners): ``MARKED`` of
    its opaque pixels or more far (``TONE``) from their median tone, the card's. None where it is one tone
    (a solid shape of one colour, read from the alpha channel like strokes)."""
    opaque = grey[alpha >= 0.95]
    if opaque.size < 50:
        return None
    tone = _median(opaque)
    return tone if float(np.mean(np.abs(opaque - tone) > TONE)) >= MARKED else None


def _paper_is_light(grey: np.ndarray) -> bool:
    """Whether the paper is lighter than the ink.

    The border's tone usually says, but ink can cover half of it (a thick digit filling its
    frame), and a ramp of light can split it. So four cues vote, each "the paper is light" or not:
    the border's median tone; which of Otsu's two tones covers more of the border; which tone forms
    narrow features (a black-hat or white-hat transform: strokes are narrow, paper is open); which
    tone has the deeper open areas. The narrow-feature cue abstains when too close to call, and
    breaks a two-two tie otherwise.
    """
    border = _border(grey)
    median_vote = _median(border) > 0.5
    if np.ptp(border) < 0.1:
        return median_vote  # no ink on the border (a canvas, a photo with a margin): it is paper
    small = _to_work_size(grey)
    light = _otsu_mask(small)
    if light.all() or not light.any():
        return median_vote
    share = _border(light).mean()
    share_vote = bool(share > 0.5)
    if share_vote == median_vote and not 0.1 < share < 0.9:
        return median_vote  # a border of one tone, paper: the usual case, decided cheaply
    depth_light, depth_dark = (np.percentile(cv2.distanceTransform(tone.astype(np.uint8), cv2.DIST_L2, 3)[tone], 90)
                               for tone in (light, ~light))
    k = max(3, max(small.shape) // 4) | 1
    square = cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))
    dark_features = float((cv2.morphologyEx(small, cv2.MORPH_CLOSE, square) - small).mean())
    light_features = float((small - cv2.morphologyEx(small, cv2.MORPH_OPEN, square)).mean())
    votes = [median_vote, share_vote, bool(depth_light > depth_dark)]
    if abs(dark_features - light_features) > 0.05 * (dark_features + light_features):
        votes.append(dark_features > light_features)
    if len(set(votes)) > 1 and _unevenly_lit(small):
        # A shadow across the paper splits it in two tones, and the cues take the darker for ink.
        return _dark_strokes(small, k)
    if 2 * sum(votes) == len(votes):
        return votes[-1]
    return 2 * sum(votes) > len(votes)


def _unevenly_lit(small: np.ndarray) -> bool:
    """Whether the image's border is paper whose light varies smoothly (a shadow's edge, light falling off
    to one side): its tone ramps over ``UNEVEN_LIGHT`` or more, and going round it climbs and falls no more
    than ``UNEVEN_SMOOTH`` times that (ink that reaches the border dips and rises at every stroke)."""
    ring = np.concatenate([small[0], small[1:, -1], small[-1, -2::-1], small[-2:0:-1, 0]]).astype(np.float32)
    ring = cv2.GaussianBlur(np.pad(ring, 8, mode="wrap")[None, :], (0, 0), 2.0)[0, 8:-8]  # round the corner
    spread = float(np.ptp(ring))
    return spread >= UNEVEN_LIGHT and float(np.abs(ring - np.roll(ring, 1)).sum()) < UNEVEN_SMOOTH * spread


def _dark_strokes(small: np.ndarray, k: int) -> bool:
    """Whether the strokes are darker than the paper round them: the paper's tone at each place is a median
    over a square ``k`` px wide (strokes are too thin to move it, a shadow is not), and the strokes are the
    pixels furthest from it (``STROKE_TAIL`` of them), one way or the other."""
    u8 = np.round(np.clip(small, 0.0, 1.0) * 255).astype(np.uint8)
    paper = cv2.medianBlur(u8, min(k, 255)).astype(np.float32) / 255.0
    darker, lighter = np.quantile(small - paper, [STROKE_TAIL, 1.0 - STROKE_TAIL])
    return bool(-darker > lighter)


def _without_intruders(ink: np.ndarray) -> np.ndarray:
    """``ink`` less what reaches into the photo from outside it as a solid shape: a thumb holding the paper, a
    pen's cap, the corner of something lying by it. Such a piece of Otsu's ink touches the border, is solid
    (it fills ``INTRUDER_SOLID`` of its convex hull) and ``INTRUDER_THICK`` times as thick as the rest of the
    ink inside the photo at least (``_thickness``), with no writing in it (a shadow over the writing is solid
    and thick too), and so is every piece at the border. It took the digit's
    place (the digit dropped as a speck beside it, and the blob a dot: "no digit found") or joined it in the
    model's input. Painted the paper's tone; ``ink`` itself where there is none."""
    small = _to_work_size(ink, PAPER_LOOK)
    mask = _otsu_mask(small)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if count < 3:
        return ink  # one piece of ink, or none: nothing to tell apart
    touching = set(np.unique(_border(labels)).tolist()) - {0}
    intruders = np.isin(labels, list(touching))
    inside = mask & ~intruders  # the writing: on the paper, not cut by the photo's edge
    if not touching or not inside.any():
        return ink
    writing = _thickness(inside)
    paper = _median(small[~mask])
    for label in touching:
        piece = labels == label
        hull = cv2.contourArea(cv2.convexHull(cv2.findNonZero(piece.astype(np.uint8))))
        if stats[label, cv2.CC_STAT_AREA] < INTRUDER_SOLID * hull or _thickness(piece) < INTRUDER_THICK * writing:
            return ink  # a digit cut by the photo's edge, or a photo's own shapes: every piece at the border is one
        tone = _median(small[piece])
        if (small[piece] > tone + max(INTRUDER_WRITTEN, tone - paper)).mean() > PAPER_WRITTEN:
            return ink  # ink much darker than it within it: writing under a shadow, which is no thumb
    grown = cv2.dilate(intruders.astype(np.uint8), np.ones((5, 5), np.uint8))  # and its blurred edge
    return _painted(ink, small, grown, paper)


def _painted(a: np.ndarray, small: np.ndarray, region: np.ndarray, tone: float) -> np.ndarray:
    """``a`` (as float32) painted ``tone`` where ``region`` (uint8, found on ``small``: ``a`` shrunk by
    ``_to_work_size``, or ``a`` itself) is set."""
    height, width = a.shape
    if small is not a:
        region = cv2.resize(region, (width, height), interpolation=cv2.INTER_NEAREST)
    # A copy: ``a`` may be a view into a bigger image (one of the counter's training photos was), which OpenCV cannot
    # write into ("Layout of the output array dst is incompatible"), and is never to be changed.
    painted = np.array(a, np.float32)
    painted[region > 0] = tone
    return painted


def _thickness(mask: np.ndarray) -> float:
    """The widest disc that fits in ``mask``, its diameter in pixels; ink at the image's border goes on past it
    (a thumb cut by the border is as thick as the part of it in the photo shows)."""
    pad = max(mask.shape)
    grown = cv2.copyMakeBorder(mask.astype(np.uint8), pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    return 2.0 * float(cv2.distanceTransform(grown, cv2.DIST_L2, 3)[pad:-pad, pad:-pad].max())


def _ink_from_grey(grey: np.ndarray, photo: bool = True) -> np.ndarray:
    """``photo=False`` for a drawing of the canvas, which has no table round its paper and no printed form."""
    if photo:
        grey = _off_table(grey)
    inverted = 1.0 - grey  # the ink if the paper is light
    unframed = (lambda ink: _without_intruders(_unframed(ink))) if photo else lambda ink: ink
    unruled = _unruled(inverted)
    if unruled is not None:
        return unframed(unruled)  # ruled paper is light, its lines dark (they decided the polarity's vote otherwise)
    # Dark ink on light paper: MNIST is light ink on dark.
    return unframed(inverted if _paper_is_light(grey) else grey)


def _off_table(grey: np.ndarray) -> np.ndarray:
    """A photo of a sheet of paper lying on a darker table, with the table painted the paper's tone; ``grey``
    itself where there is no such sheet.

    The table is most of the photo's border, so it would be taken for the paper and the sheet, lighter, for
    ink: a sticky note read as a 0. A sheet is the largest light region (Otsu) where it has straight sides
    (a light digit on black is rounded, or a strip), has writing on it (dark marks it encloses) but is
    mostly light (a thick light digit is not: its holes and bays are dark), and lies on something dark (a
    dark digit that reaches the edges of its frame cuts the paper in pieces, light round the largest). A
    sheet that is most of the border is left to ``_paper_is_light``.
    """
    small = _to_work_size(grey, PAPER_LOOK)
    light = _otsu_mask(small)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(light.astype(np.uint8), connectivity=4)
    if count < 2:
        return grey
    biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    if stats[biggest, cv2.CC_STAT_AREA] < PAPER_LEAST * small.size:
        return grey
    if (_border(labels) == biggest).mean() > 0.5:
        return grey  # the paper is most of the border
    sheet = labels == biggest
    outline = cv2.convexHull(cv2.findNonZero(sheet.astype(np.uint8)))  # paper is convex; writing may reach its edge
    _, (w, h), _ = cv2.minAreaRect(outline)
    if min(w, h) < PAPER_WIDE * max(w, h):
        return grey  # a strip (a light stroke), not a sheet
    filled = cv2.fillConvexPoly(np.zeros(small.shape, np.uint8), outline, 1)
    corners = len(cv2.approxPolyDP(outline, 0.02 * cv2.arcLength(outline, True), True))
    if corners > PAPER_CORNERS or filled.sum() < (PAPER_SQUARE if corners > 4 else PAPER_ASLANT) * w * h:
        return grey  # rounded: a light blob (a thick digit), not a sheet; or a sliver, no sheet however aslant
    dark = filled.astype(bool) & ~light
    if dark.sum() > PAPER_MARKED * filled.sum():
        return grey  # a light shape round dark holes or bays (a thick digit)
    # Its outline inside the photo (erosion keeps the pixels along the photo's border), and along that border.
    edge = filled.astype(bool) & ~cv2.erode(filled, np.ones((3, 3), np.uint8)).astype(bool)
    along = int(_border(filled).sum())
    if along > PAPER_FRAMED * (along + int(edge.sum())):
        return grey  # its sides mostly the photo's: the lit part of a page with a shadow over the rest, no sheet
    # Writing lies on the sheet, enclosed by it: not dark pixels reaching its edge (its blur, a bay of the table).
    _, pieces = cv2.connectedComponents(dark.astype(np.uint8), connectivity=8)
    if np.isin(pieces, np.unique(pieces[edge & dark]), invert=True)[dark].sum() < PAPER_WRITTEN * filled.sum():
        return grey  # nothing written on it
    table = filled == 0
    tone = _median(small[sheet])
    if table.sum() < PAPER_LEAST * small.size or light[table].mean() > PAPER_STRAY \
            or _median(small[table]) > tone - PAPER_TABLE:
        return grey  # paper round it too: a digit touching the edges cuts paper in pieces
    inside = cv2.erode(filled, np.ones((5, 5), np.uint8))  # not the sheet's blurred edge, the table beside it
    return _painted(grey, small, 1 - inside, tone)


def _unruled(ink: np.ndarray) -> np.ndarray | None:
    """The ink with the lines of ruled or squared paper painted out (``_without_ruling``, across and
    down); None where there are none."""
    across = _without_ruling(ink)
    turned = across.T
    down = _without_ruling(turned)
    return None if across is ink and down is turned else down.T


def _without_ruling(ink: np.ndarray) -> np.ndarray:
    """The ink with the lines of ruled or squared paper (a school notebook) across it painted out.

    A line is ink along ``RULING_SPAN`` of the image's width, a few pixels thick; a ruling is
    ``RULING_LINES`` or more of them, evenly spaced (a digit's bar, or a run of 1s, is neither). Each line's
    rows are filled in from the rows just above and below it, so that a stroke that crossed it stays whole.
    Horizontal lines here; the transposed image for vertical ones. ``ink`` itself where there are none.
    """
    height, width = ink.shape
    if min(height, width) < 50:
        return ink
    # Each row's ink at the (1 - span) quantile of RULING_COLUMNS of its columns: a line lifts nearly all of
    # its row, a digit's stroke only part of it (a tenth of the cost of reading every column of a photo).
    columns = ink[:, np.linspace(0, width - 1, min(width, RULING_COLUMNS)).astype(int)]
    low = int((1 - RULING_SPAN) * columns.shape[1])
    strength = np.partition(columns, low, axis=1)[:, low]
    base = _median(strength)
    if base > RULING_PAPER or _median(columns.ravel()) > RULING_PAPER:
        # Most rows are mostly ink, or most of the image is: the paper is the other tone (a big number drawn light
        # on dark, whose strokes cross most rows, leaves rows of bare paper between them that look like lines).
        return ink
    on = strength > base + max(RULING_CONTRAST, 0.5 * (float(strength.max()) - base))
    # Thin, and standing out from the paper a few rows either side (not the edge of a lit or shaded area).
    bands = [(a, b) for a, b in _runs(on, 0) if b - a <= RULING_THICK * min(height, width)
             and strength[a:b].max() - max(strength[max(a - 3, 0)], strength[min(b + 2, height - 1)]) > RULING_CONTRAST]
    if len(bands) < RULING_LINES:
        return ink
    gaps = np.diff([(a + b) / 2 for a, b in bands])
    if gaps.std() > RULING_EVEN * gaps.mean():
        return ink
    ink = ink.copy()
    for a, b in bands:
        above, below = max(a - 2, 0), min(b + 1, height - 1)  # a pixel of the line's blur either side
        t = (np.arange(above + 1, below) - above)[:, None] / max(below - above, 1)
        ink[above + 1:below] = (1 - t) * ink[above] + t * ink[below]
    return ink


def _runs(present: np.ndarray, gap: int = 2) -> list[tuple[int, int]]:
    """The runs (start, end) of True in a 1-D array, gaps of up to ``gap`` bridged."""
    at = np.flatnonzero(present)
    if not len(at):
        return []
    breaks = np.flatnonzero(np.diff(at) > gap + 1)
    return [(int(at[a]), int(at[b]) + 1) for a, b in zip(np.r_[0, breaks + 1], np.r_[breaks, len(at) - 1], strict=True)]


def _lines(ys: np.ndarray, xs: np.ndarray, span: tuple[int, int], length: float, thick: float) -> list[tuple[int, int]]:
    """The bands of rows (start, end) of ink pixels (``ys``, ``xs``, rows already sheared for a tilt) in which
    one unbroken run of ink (gaps of a few pixels bridged) covers at least ``length`` columns of ``span``,
    each band at most ``thick`` rows."""
    inside = (xs >= span[0]) & (xs < span[1])
    ys, xs = ys[inside], xs[inside] - span[0]
    if not len(ys) or length < 1:
        return []
    top = int(ys.min())
    rows = np.flatnonzero(np.bincount(ys - top) >= length)  # enough ink at all: a cheap first look
    if not len(rows):
        return []
    present = np.zeros((int(ys.max()) - top + 1, span[1] - span[0]), np.uint8)
    present[ys - top, xs] = 1
    bridged = cv2.morphologyEx(present[rows], cv2.MORPH_CLOSE, np.ones((1, 5), np.uint8))
    run = cv2.erode(bridged, np.ones((1, int(length)), np.uint8), borderType=cv2.BORDER_CONSTANT, borderValue=0)
    on = np.zeros(len(present), bool)
    on[rows[run.any(axis=1)]] = True
    return [(a + top, b + top) for a, b in _runs(on, 0) if b - a <= thick]


def _grid(positions: list[float], ends: tuple[float, float], near: float) -> list[int] | None:
    """The indices of ``positions`` that mark off ``ends`` into equal cells (both ends marked, and every
    cell's side, within ``FORM_EVEN`` of a cell or ``near``), the most cells that fit; None where the ends
    are not both marked. What lies between the sides (a 1 as straight as they are) is left out."""
    p = np.asarray(positions, float)
    chosen = None
    for cells in range(1, 17):
        step = (ends[1] - ends[0]) / cells
        marks = ends[0] + step * np.arange(cells + 1)
        nearest = np.abs(p[None, :] - marks[:, None]).argmin(axis=1)
        if np.all(np.abs(p[nearest] - marks) <= max(near, FORM_EVEN * step)):
            chosen = [int(i) for i in nearest]
    return chosen


def _straight_lines(mask: np.ndarray, least: float) -> tuple | None:
    """A form's horizontal lines in a mask of ink at least ``least`` px wide (``_form_lines``): its ink's
    pixels (ys, xs), their box (x0, x1, y0, y1), the tilt (a slope) they are straightest at, each pixel's row
    sheared to it, and the lines' bands of sheared rows; None where there are none."""
    ys, xs = np.nonzero(mask)
    if len(ys) < 20:
        return None
    x0, x1, y0, y1 = int(xs.min()), int(xs.max()) + 1, int(ys.min()), int(ys.max()) + 1
    width, height = x1 - x0, y1 - y0
    if width < max(FORM_WIDE * height, least):
        return None  # a box round a digit is about as wide as tall, a row of cells wider (a 1 is neither)
    thick = max(4.0, FORM_THICK * height)
    xc = (x0 + x1) / 2
    best = None
    for angle in FORM_TILT:
        slope = float(np.tan(np.radians(angle)))
        rows = np.round(ys - slope * (xs - xc)).astype(int)  # a line at this tilt lies along one sheared row
        across = _lines(rows, xs, (x0, x1), FORM_SPAN * width, thick)
        if not across:
            continue
        per_row = np.bincount(rows - rows.min())
        fit = sum(int(per_row[a - rows.min():b - rows.min()].sum()) for a, b in across)  # at its tilt, all its ink
        if best is None or fit > best[0]:
            best = (fit, slope, rows, across)
    if best is None:
        return None
    return ys, xs, (x0, x1, y0, y1), *best[1:]


def _writing_line(rows: np.ndarray, columns: np.ndarray, line: tuple[int, int], ends: tuple[float, float]) -> bool:
    """Whether a form's one line (``line``, a band of sheared ``rows``, from ``ends[0]`` to ``ends[1]``) is a
    line written on: the ink stands on it, little of it below, it runs ``FORM_UNDER`` times as long as that
    ink is tall (a 2's flat foot is as long as the 2 is wide) and ``FORM_PAST`` longer than it is wide (the
    flat bottom of a shape, a row of serifs, ends where the shape does)."""
    on = rows < line[0]
    above, below = rows[on], rows[rows >= line[1]]
    if not len(above) or len(below) > FORM_BELOW * len(above):
        return False
    length = ends[1] - ends[0]
    return (length >= FORM_UNDER * (line[0] - int(above.min()))
            and length >= FORM_PAST * (int(columns[on].max()) - int(columns[on].min())))


def _form_lines(mask: np.ndarray) -> np.ndarray | None:
    """The printed lines of a form round handwriting (a box, a row of cells, a comb of ticks on a line) in
    a mask of the ink, as a mask; None where there is no such form.

    A form's lines run unbroken along ``FORM_SPAN`` of the ink, straight at one of the ``FORM_TILT``
    angles, thin (``FORM_THICK``). It is a form where two of them lie a cell's height apart, with thin
    straight sides joining them at both ends (and any cells' sides between, marking off equal cells), or
    where one of them has thin straight ticks rising from it at both ends and between, marking off equal
    cells (a comb). Strokes are neither: a 7's bar is one line at most, a 1 standing in a cell is no side of
    equal cells, and a drawing of a box is no form (nothing is written in it)."""
    h, w = mask.shape
    pool = int(np.ceil(max(h, w) / FORM_LOOK))
    if pool > 1:
        # A first look at a coarse copy (any ink in each square of ``pool`` pixels keeps a thin line whole):
        # most images have no such lines, and it costs a tenth as much to say so.
        size = (-(-w // pool), -(-h // pool))
        coarse = cv2.resize(mask.astype(np.uint8) * 255, size, interpolation=cv2.INTER_AREA) > 0
        if _straight_lines(coarse, 20 / pool) is None:
            return None
    found = _straight_lines(mask, 20)
    if found is None:
        return None
    ys, xs, (x0, x1, y0, y1), slope, rows, across = found
    thickness = max(b - a for a, b in across)
    # A line turned between two of the tilts tried strays from its band by up to this many rows at its ends.
    stray = int(np.ceil(np.tan(np.radians(0.5)) * (x1 - x0) / 2)) + 1
    across = [(a - stray, b + stray) for a, b in across]
    height, thick = y1 - y0, max(4.0, FORM_THICK * (y1 - y0))
    yc = (y0 + y1) / 2
    columns = np.round(xs + slope * (ys - yc)).astype(int)  # sides are perpendicular to the lines
    top, bottom = across[0], across[-1]
    if bottom[0] - top[1] >= 0.3 * height:
        rules, span = [top, bottom], (top[1], bottom[0])  # a box, or a row of cells
    else:
        rules, span = [bottom], (y0, bottom[0])  # a comb: ticks above its line
    reach = FORM_TICK * (span[1] - span[0])
    marks = []  # (centre, rows of it to paint) of thin straight bands rising from a rule
    for a, b in _lines(columns, rows, span, reach, thickness + 2):
        band = (columns >= a) & (columns < b) & (rows >= span[0]) & (rows < span[1])
        present = np.zeros(span[1] - span[0], bool)
        present[rows[band] - span[0]] = True
        runs = [(u, v) for u, v in _runs(present) if v - u >= reach
                and ((u <= 2 and len(rules) == 2) or v >= len(present) - 2)]
        if runs:
            marks.append(((a + b) / 2, (a, b), [(u + span[0], v + span[0]) for u, v in runs]))
    on_rule = (rows >= rules[-1][0]) & (rows < rules[-1][1])
    ends = (float(columns[on_rule].min()), float(columns[on_rule].max()))
    chosen = _grid([m[0] for m in marks], ends, thick) if marks else None
    if chosen is None or (len(rules) == 1 and len(chosen) < 3):
        if len(rules) == 2 or not _writing_line(rows, columns, rules[0], ends):
            return None
        chosen = []  # a line to write on ("Amount: ____"), no cells
    lines = np.zeros(mask.shape, bool)
    for a, b in rules:
        on = (rows >= a) & (rows < b)
        lines[ys[on], xs[on]] = True
    for i in set(chosen):
        _, (a, b), runs = marks[i]
        for u, v in runs:
            on = (columns >= a) & (columns < b) & (rows >= u) & (rows < v)
            lines[ys[on], xs[on]] = True
    written = mask & ~cv2.dilate(lines.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    if written.sum() < 0.1 * lines.sum():
        return None  # nothing written in it: a drawing of a box, or an empty form, is what it is
    return lines


def _unframed(ink: np.ndarray) -> np.ndarray:
    """The ink with the printed lines of a form round it painted out (``_form_lines``): a number written in
    boxes, or a digit in a cell, is read as if on blank paper; ``ink`` itself where there is none."""
    height, width = ink.shape
    if min(height, width) < 50:
        return ink
    small = _to_work_size(ink, FORM_SIZE)
    # Printed in a light colour (forms are, so that their lines drop out of a scan), a form's lines can be
    # fainter than Otsu's threshold between paper and handwriting: they are looked for halfway from the paper.
    u8 = cv2.convertScaleAbs(small, alpha=255.0)
    threshold = cv2.threshold(u8, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[0]
    tones = cv2.calcHist([u8], [0], None, [256], [0, 256])[:, 0]
    paper = float(np.searchsorted(np.cumsum(tones), u8.size / 2))  # the median tone
    if paper > threshold:
        return ink  # mostly ink: no form on paper
    lines = _form_lines(u8 > max(FORM_FAINT * 255, (paper + threshold) / 2))
    if lines is None:
        return ink
    lines = cv2.dilate(lines.astype(np.uint8), np.ones((3, 3), np.uint8))  # and their blur
    if small is not ink:
        lines = cv2.resize(lines, (width, height), interpolation=cv2.INTER_NEAREST)
    u8 = np.round(np.clip(ink, 0.0, 1.0) * 255).astype(np.uint8)
    painted = cv2.inpaint(u8, lines, 3, cv2.INPAINT_TELEA).astype(np.float32) / 255.0
    return np.where(lines.astype(bool), painted, ink).astype(np.float32)


def _otsu_mask(ink: np.ndarray) -> np.ndarray:
    u8 = np.round(np.clip(ink, 0.0, 1.0) * 255).astype(np.uint8)
    return cv2.threshold(u8, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[1] > 0


def _remove_background(ink: np.ndarray) -> np.ndarray:
    """Subtract a smooth background (uneven lighting on paper) estimated by a wide opening.

    The opening keeps whatever its square fits in, so a stroke wider than the square would be
    taken for background and removed: a digit that fills its frame, a thick pen on a tight crop.
    The square is wider than the strokes and than a quarter of the longer side, and the image is
    padded with paper first, so that ink touching the border still has paper beside it.

    The strokes' width is measured on Otsu's ink. Where a shadow is as dark as the ink, Otsu's ink
    is the shadow (which comes from outside the photo: it runs along ``SHADOW_BORDER`` of the border
    at least), and a square as wide as the shadow leaves it in place: the width is then measured
    again on what a quarter's square leaves, and a square three times that width is used where it
    leaves ink and paper more clearly apart (``_two_toned``; a thick digit's strokes, hollowed by a
    square too narrow for them, are not).
    """
    mask = _otsu_mask(ink)
    width = _stroke_width(mask) if 0 < mask.sum() < mask.size else 0.0
    narrowest = max(3, max(ink.shape) // 4) | 1
    k = max(narrowest, round(3 * width) | 1)
    paper = _median(ink[~mask]) if (~mask).any() else 0.0
    flat = _opened_off(ink, k, paper)
    if k > narrowest and _border(mask).mean() >= SHADOW_BORDER:
        first = _opened_off(ink, narrowest, paper)
        strokes = _otsu_mask(first / max(float(first.max()), 1e-6))
        if 0 < strokes.sum() < strokes.size:
            narrower = max(3, round(3 * _stroke_width(strokes))) | 1
            flatter = first if narrower == narrowest else _opened_off(ink, narrower, paper)
            if narrower < k and _two_toned(flatter) > _two_toned(flat) + SHADOW_CLEARER:
                return flatter
    return flat


def _opened_off(ink: np.ndarray, k: int, paper: float) -> np.ndarray:
    """``ink`` less its opening by a ``k`` px square, beyond the image all ``paper``."""
    # Paper half a square wide around the image, and paper assumed beyond it while eroding: the
    # same opening as on an image padded a whole square wide, on 30 % fewer pixels.
    r = k // 2
    padded = cv2.copyMakeBorder(ink, r, r, r, r, cv2.BORDER_CONSTANT, value=paper)
    square = cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))
    eroded = cv2.erode(padded, square, borderType=cv2.BORDER_CONSTANT, borderValue=paper)
    background = cv2.dilate(eroded, square)[r:-r, r:-r]
    return np.clip(ink - background, 0.0, 1.0)


def _two_toned(ink: np.ndarray) -> float:
    """How clearly ``ink`` is two tones, ink and paper: Otsu's between-class share of its variance (0 to 1)."""
    u8 = np.round(np.clip(ink / max(float(ink.max()), 1e-6), 0.0, 1.0) * 255).astype(np.uint8)
    values = u8.astype(np.float32)
    split = _otsu_mask(values / 255.0)
    total = float(values.var())
    if total <= 0.0 or split.all() or not split.any():
        return 0.0
    share = float(split.mean())
    return share * (1.0 - share) * float(values[split].mean() - values[~split].mean()) ** 2 / total


def _median(values: np.ndarray) -> float:
    """``np.median`` of a 1-D array, without its wrapper's cost (a third of this step's time)."""
    n = values.size
    middle = np.partition(values, [(n - 1) // 2, n // 2])
    return float(np.mean(middle[[(n - 1) // 2, n // 2]]))


def _percentile(values: np.ndarray, q: float) -> np.floating:
    """``np.percentile(values, q)`` of a 1-D float array, by its "linear" method's very float operations
    (in the array's precision), without its wrapper's cost: 60 of the 1000 microseconds of a normalisation."""
    n, real = values.size, values.dtype.type
    quantile = real(q) / real(100)
    virtual = (n - 1) * quantile  # numpy's virtual index for "linear"
    floor = np.floor(virtual)
    low, high = (n - 1, n - 1) if virtual >= n - 1 else (max(int(floor), 0), max(int(floor), 0) + 1)
    part = np.partition(values, [low, high])
    previous, following = part[low], part[high]
    gamma = real(virtual - floor)
    step = following - previous
    return previous + step * gamma if gamma < 0.5 else following - step * (1 - gamma)


def _to_work_size(a: np.ndarray, longest: int = WORK_SIZE) -> np.ndarray:
    """``a`` shrunk (INTER_AREA) to ``longest`` pixels on its longer side; ``a`` itself if it is no longer."""
    scale = longest / max(a.shape)
    if scale >= 1.0:
        return a
    size = (max(1, round(a.shape[1] * scale)), max(1, round(a.shape[0] * scale)))
    return cv2.resize(a, size, interpolation=cv2.INTER_AREA)


def _digit_mask(ink: np.ndarray) -> np.ndarray:
    """Pixels that belong to the digit: Otsu threshold, minus specks far smaller than the digit."""
    u8 = np.round(ink * 255).astype(np.uint8)
    threshold, mask = cv2.threshold(u8, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if count <= 1:
        raise NoDigitFound()
    areas = stats[:, cv2.CC_STAT_AREA]
    keep = areas >= 0.08 * areas[1:].max()
    keep[0] = False  # label 0 is the background
    return keep[labels]


def _stroke_width(mask: np.ndarray) -> float:
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    perimeter = sum(cv2.arcLength(c, True) for c in contours)
    return 2.0 * float(mask.sum()) / max(perimeter, 1.0)


def _centre_in_mnist_field(digit: np.ndarray) -> np.ndarray:
    """Place a <=20x20 digit in a 28x28 field with its centre of mass at pixel (14, 14), as MNIST does."""
    h, w = digit.shape
    total = digit.sum()
    cy = (np.arange(h)[:, None] * digit).sum() / total
    cx = (np.arange(w)[None, :] * digit).sum() / total
    top = min(max(round(MNIST_SIZE / 2 - cy), 0), MNIST_SIZE - h)
    left = min(max(round(MNIST_SIZE / 2 - cx), 0), MNIST_SIZE - w)
    field = np.zeros((MNIST_SIZE, MNIST_SIZE), np.float32)
    field[top:top + h, left:left + w] = digit
    return field


def _block_size(ink: np.ndarray) -> float:
    """How many pixels wide the blocks of a nearest-neighbour upscale are (1 for a real image).

    In such an upscale every row (and column) repeats the one before it but at block edges: the
    mean distance between changes measures the blocks, and no two changes are closer than a block.
    A clean image whose strokes are perfectly straight (a "1" or a "4" drawn with a line tool)
    repeats its rows too, with few changes far apart: taken for one huge block, it was blurred away.
    So the size is at most twice the closest two changes, and fewer than two changes in both
    directions is no evidence of blocks at all.
    """
    # Lines with two tones (blank lines repeat in any drawing) and lines equal to the next one, for
    # the rows and then the columns, both read along the array as it lies (a transposed copy cost
    # more than the rest; OpenCV reduces along columns faster than numpy).
    rows_varied = (ink != ink[:, :1]).any(axis=1)
    rows_repeat = np.all(ink[1:] == ink[:-1], axis=1)
    columns_varied = (cv2.reduce(ink, 0, cv2.REDUCE_MAX) > cv2.reduce(ink, 0, cv2.REDUCE_MIN))[0]
    columns_repeat = np.all(ink[:, 1:] == ink[:, :-1], axis=0)
    sizes = []
    for varied, repeat in ((rows_varied, rows_repeat), (columns_varied, columns_repeat)):
        both = varied[1:] & varied[:-1]
        changes = np.flatnonzero(both & ~repeat)
        if len(changes) >= 2:
            mean_gap = 1.0 / max(1.0 - (repeat & both).sum() / max(both.sum(), 1), 1e-3)
            sizes.append(min(mean_gap, 2.0 * float(np.diff(changes).min())))
    return min(sizes, default=1.0)


def _digit_box(ink: np.ndarray) -> tuple[np.ndarray, np.ndarray, int, int, int, int]:
    """The digit's mask, its extent and the extent's bounding box (top, bottom, left, right) in a
    background-free ink image.

    The extent adds the faint ink connected to the mask: the ends of a stroke in a blurry,
    low-resolution digit fall under Otsu's threshold but are part of its shape.
    """
    peak = ink.max()
    if peak < 0.1:
        raise NoDigitFound()
    mask = _digit_mask(ink / peak)
    _, labels = cv2.connectedComponents((ink > 0.2 * peak).astype(np.uint8), connectivity=8)
    touched = np.zeros(labels.max() + 1, bool)
    touched[labels[mask]] = True  # the faint components the digit's mask reaches
    touched[0] = False
    extent = touched[labels] | mask
    x, y, w, h = cv2.boundingRect(extent.astype(np.uint8))
    if max(h, w) < 3 or mask.sum() < 6:
        raise NoDigitFound()
    return mask, extent, y, y + h, x, x + w


def _is_one_dot(mask: np.ndarray) -> bool:
    """Whether the digit's mask is one round, solid blob: a tap or a full stop, not a digit.

    No digit is a filled disc: a 0 has its hole, a 1 is long, and every other digit has corners
    or concavities that take it well away from its convex hull and from a filled ellipse.
    """
    h, w = mask.shape
    if not 0.75 <= h / w <= 1.33:
        return False
    u8 = mask.astype(np.uint8)
    contours, hierarchy = cv2.findContours(u8, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if len(contours) != 1:  # several pieces, or a hole
        return False
    area = float(mask.sum())
    hull = cv2.contourArea(cv2.convexHull(contours[0]))
    return area >= 0.95 * hull and area >= 0.85 * np.pi / 4 * h * w


def _background_free(ink: np.ndarray) -> tuple[np.ndarray, tuple | None]:
    """The ink at ``WORK_SIZE`` or less, background removed, and its ``_digit_box`` if that was needed here.

    A small digit on a big image would be a few pixels wide there: it is found at that size, and
    the full-resolution region around it (with paper around it for the background estimate) is
    taken down to ``WORK_SIZE`` instead.
    """
    work = _remove_background(_to_work_size(ink))
    scale = max(ink.shape) / max(work.shape)
    if scale <= 1.0:
        return work, None
    box = _digit_box(work)
    _, _, top, bottom, left, right = box
    side = max(bottom - top, right - left)
    if side > 0.5 * max(work.shape):
        return work, box  # normalised as it is: its box is already known
    margin = 0.5 * side
    rows = slice(max(0, int((top - margin) * scale)), int(np.ceil((bottom + margin) * scale)))
    cols = slice(max(0, int((left - margin) * scale)), int(np.ceil((right + margin) * scale)))
    return _remove_background(_to_work_size(ink[rows, cols])), None


_THIN_MARKERS = contextvars.ContextVar("thin_markers", default=True)


@contextlib.contextmanager
def markers_kept() -> Iterator[None]:
    """Inputs normalised inside this block keep a marker's strokes as they came (``normalize_ink``): the
    not-a-digit detector's fit set is made so (``train.nondigits.novelty_fit_set``)."""
    token = _THIN_MARKERS.set(False)
    try:
        yield
    finally:
        _THIN_MARKERS.reset(token)


def _with_pen(ink: np.ndarray, morph: Callable, k: int) -> np.ndarray | None:
    """``ink`` dilated or eroded by a round pen ``k`` px across, cropped to what is left (None if nothing is)."""
    ink = morph(np.pad(ink, k), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    rows, cols = np.nonzero(ink > 0.05)
    if not len(rows):
        return None
    return ink[rows.min():rows.max() + 1, cols.min():cols.max() + 1]


def normalize_ink(ink: np.ndarray) -> np.ndarray:
    """Ink strength (H, W) in [0, 1] -> the 28x28 float32 MNIST-style input."""
    ink = np.asarray(ink, dtype=np.float32)
    block = _block_size(ink)
    if block >= 2:
        # A thumbnail blown up without smoothing: its blocks would survive as jagged strokes.
        ink = cv2.GaussianBlur(ink, (0, 0), 0.25 * block)
    ink, box = _background_free(ink)
    mask, extent, top, bottom, left, right = box or _digit_box(ink)
    height = max(bottom - top, right - left)
    crop = slice(top, bottom), slice(left, right)
    if _is_one_dot(mask[crop]):
        raise NoDigitFound()
    near_digit = cv2.dilate(extent.astype(np.uint8), np.ones((3, 3), np.uint8))[crop].astype(bool)
    ink = np.where(near_digit, ink[crop], 0.0)
    ink = ink / _percentile(ink[mask[crop]], 90)
    ink = np.clip(ink, 0.0, 1.0)
    # A thin pen on a big canvas shrinks to a hairline at 20x20; MNIST strokes are ~1/8 of the
    # digit's height, so thicken hairlines to about that before shrinking. A marker's strokes (a
    # quarter of the height) close the loops the model reads a digit by, and look to the not-a-digit
    # detector like a filled shape: thin them to about that too. Not a blown-up thumbnail's, as thick
    # as its few pixels allow, whose edges are ramps as wide as its strokes (``SOFT_EDGES``).
    width = _stroke_width(mask[crop])
    target = STROKE_SHARE * height
    if width < HAIRLINE * target:
        ink = _with_pen(ink, cv2.dilate, max(3, round(target - width)) | 1)
    elif (_THIN_MARKERS.get() and width > MARKER * target
          and ((ink > 0.15) & (ink < 0.85)).sum() < SOFT_EDGES * (ink > 0.5).sum()):
        thinned = _with_pen(ink, cv2.erode, max(3, round(width - target)) | 1)
        ink = ink if thinned is None else thinned
    h, w = ink.shape
    scale = DIGIT_BOX / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    digit = cv2.resize(ink, size, interpolation=cv2.INTER_AREA)
    if digit.max() <= 0:
        raise NoDigitFound()
    digit = digit / digit.max()
    return _centre_in_mnist_field(digit)


def image_ink(image: Image.Image | np.ndarray) -> np.ndarray:
    """Any Pillow image (any mode, either polarity) or grey array -> ink strength (H, W) in [0, 1], 1 = ink.

    A uint8 or float array is read as a grey picture, the polarity decided by its border.
    """
    if isinstance(image, Image.Image):
        return _ink_from_image(image)
    a = np.asarray(image)
    if a.ndim != 2:
        raise DigitInputError(f"Expected a 2-D grey image, got an array of shape {a.shape}.")
    grey = a.astype(np.float32) / 255.0 if a.dtype == np.uint8 else a.astype(np.float32)
    return _ink_from_grey(grey)


def finer_strokes(paths: list[str], pen_width: float = DEFAULT_PEN_WIDTH,
                  canvas_width: float | None = None) -> Callable[[], np.ndarray]:
    """The ink of canvas strokes drawn with a pen ``FINER_PEN`` as broad, made when asked for
    (``models.segment.find_digits``' ``finer``): digits drawn close with the page's broad pen run together,
    their strokes did not."""
    return lambda: rasterize_strokes(paths, pen_width=pen_width * FINER_PEN, canvas_width=canvas_width) / 255.0


def drawing_inks(paths: list[str], pen_width: float = DEFAULT_PEN_WIDTH,
                 canvas_width: float | None = None) -> tuple[np.ndarray, Callable[[], np.ndarray]]:
    """The ink of canvas strokes (``canvas_ink`` of ``rasterize_strokes``) and the same strokes drawn with a
    finer pen when asked for (``finer_strokes``): what ``models.segment.find_digits`` reads a drawing from."""
    ink = canvas_ink(rasterize_strokes(paths, pen_width=pen_width, canvas_width=canvas_width))
    return ink, finer_strokes(paths, pen_width, canvas_width)


def canvas_ink(raster: np.ndarray) -> np.ndarray:
    """The ink of a drawing ``rasterize_strokes`` made: ``image_ink`` of it, but for the searches for a table
    round its paper (``_off_table``) and for a printed form round it (``_unframed``), which a canvas never has
    and which cost a wide drawing 1-2 ms."""
    return _ink_from_grey(np.asarray(raster, np.float32) / 255.0, photo=False)


def normalize_digit(image: Image.Image | np.ndarray) -> np.ndarray:
    """Any Pillow image (any mode, either polarity) or grey array -> the 28x28 model input in [0, 1].

    Raises ``NoDigitFound`` for a blank image.
    """
    return normalize_ink(image_ink(image))


def image_to_model_input(data: bytes, max_bytes: int = MAX_IMAGE_BYTES,
                         max_pixels: int = MAX_IMAGE_PIXELS) -> np.ndarray:
    """Image file bytes -> the 28x28 model input (raises ``DigitInputError`` with a readable reason)."""
    return normalize_digit(load_image(data, max_bytes, max_pixels))


_PATH_TOKEN = re.compile(r"([MLZmlz])|(-?\d*\.?\d+(?:[eE][-+]?\d+)?)")


def parse_svg_path(path: str) -> list[np.ndarray]:
    """Plotly's drawn paths ("M x,y L x,y ...", absolute data coordinates) -> polylines (N, 2)."""
    polylines: list[list[tuple[float, float]]] = []
    numbers: list[float] = []
    for command, number in _PATH_TOKEN.findall(path):
        if number:
            numbers.append(float(number))
            if len(numbers) == 2:
                if not polylines:
                    polylines.append([])
                polylines[-1].append((numbers[0], numbers[1]))
                numbers = []
        elif command in "Mm":
            polylines.append([])
        elif command in "Zz" and polylines and polylines[-1]:
            polylines[-1].append(polylines[-1][0])
    return [np.asarray(p, dtype=np.float64) for p in polylines if p]


def rasterize_strokes(paths: list[str], size: int = CANVAS_SIZE, pen_width: float = DEFAULT_PEN_WIDTH,
                      canvas_size: float = CANVAS_SIZE, canvas_width: float | None = None) -> np.ndarray:
    """Draw SVG stroke paths (data units, y growing downward) as white ink on black, uint8 (size, size), or
    (size, size * canvas_width / canvas_size) for a canvas ``canvas_width`` units wide.

    ``pen_width`` is the pen of a digit as tall as ``PEN_REFERENCE_EXTENT``; the pen scales with the
    drawing's extent, so a digit drawn small in a corner has strokes as thin, relative to its size,
    as a big one (a fixed pen turns a small 3 into a blob read as 8). A tap is a dot.
    """
    lines = [line for path in paths for line in parse_svg_path(path)]
    image = np.zeros((size, round(size * (canvas_width or canvas_size) / canvas_size)), np.uint8)
    if not lines:
        return image
    points = np.concatenate(lines)
    # A number's width grows with its digits, its pen must not: the width counts up to a wide digit's
    # (or to the longest stroke's extent: a lone flat stroke keeps its pen).
    height = float(np.ptp(points[:, 1]))
    longest = max(float(np.ptp(line, axis=0).max()) for line in lines)
    extent = max(min(float(np.ptp(points[:, 0])), max(WIDEST_PEN_EXTENT * height, longest)), height,
                 PEN_REFERENCE_EXTENT * MIN_PEN_SCALE)
    scale = size / canvas_size
    thickness = max(1, round(pen_width * extent / PEN_REFERENCE_EXTENT * scale))
    for line in lines:
        fixed = np.round(line * scale * 16).astype(np.int32)  # 4 fractional bits for sub-pixel lines
        if len(np.unique(fixed, axis=0)) == 1:
            cv2.circle(image, tuple(fixed[0]), thickness * 8, 255, -1, cv2.LINE_AA, shift=4)
        else:
            cv2.polylines(image, [fixed], False, 255, thickness, cv2.LINE_AA, shift=4)
    return image
