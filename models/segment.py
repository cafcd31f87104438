"""Find the digits of a number written side by side, so that each can be read as a single digit.

A person writes "42" with a gap, or without one; a 5 with its bar lifted, an open 4 and a dotted
stroke are one digit in several pieces; two digits can touch. Pieces of ink are found first
(connected components, a stroke width apart at most), pieces that cannot be digits on their own
(much shorter than the others) or that sit above one another join their neighbour, and then
the model decides what geometry cannot: for a group of pieces, or a piece wide enough to be two
or three touching digits, every way to cut it (between its pieces, along the minima of its
ink's column profile, straight or slanted) is read, all in one batch, and the cut kept is the
one whose digits the model is most sure of together, if that beats reading the group whole. A piece
wider than that (four or more digits written a hair apart with a broad pen) is first cut into slices
along the paper, and the model's reading joins them back into digits. Of a drawing on the canvas the
strokes are known: where a piece may be touching digits, the pieces of its strokes drawn again with a
finer pen are read instead (``finer``), for digits drawn close run together only through the broad pen.

A single digit is never cut: the model first reads the whole ink as one digit, and unless the
ink is in several well-separated pieces, a confident reading that its novelty detector calls a
digit is kept; a cut is kept only where the whole is not confidently a digit and the cut reads
far more surely.

The model does not know what two digits look like (it reads a 1 touching a 6 as a 6, surely):
a small digit counter (``train.counter``, the same for every model) says whether ink is one digit
or several, and its odds take part in every choice above. Nor does it know that a stub of one
digit left on the other changes what it reads (a 7 with the foot of a 3 reads 2 surely): a pair
reader (``train.pairs``, the same for every model) reads touching ink whole as one of the hundred
pairs, and a cut whose pieces read as the pair it sees is preferred, and kept as two digits.

Pure NumPy/OpenCV: the model comes in as ``read``, a function from inputs (N, 28, 28) to
probabilities (N, 10) and whether each looks like a digit at all (N,) bool (``DigitModel.read``);
the counter and the pair reader run in NumPy from ``models/digit_counter.npz`` and
``models/pair_reader.npz`` with ``models/pair_reader_boxes.npz``. A digit's ink goes through
``normalize_ink``, as a single digit's does.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from models.preprocess import NoDigitFound, _remove_background, _stroke_width, normalize_ink

Read = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]

ONE_BOX = 28  # an image no bigger than this on its longer side (MNIST's box) holds one digit
SEGMENT_SIZE = 640  # longest side digits are found at: 80 px a digit for eight of them
FRAGMENT_HEIGHT = 0.4  # a piece shorter than this share of a digit's height is part of a digit
MIN_PART_HEIGHT = 0.45  # no digit is read from ink shorter than this share of a digit's height
FAINT = 0.2  # ink apart from any this share of the strongest or more (FAINT_PEAK), at least this share of Otsu's
FAINT_PEAK = 0.5  # threshold and FAINT_NOISE times the paper's noise above the paper (both smoothed by FAINT_SMOOTH
FAINT_NOISE = 5.0  # px square), may be a faint digit (Otsu's threshold between the strong ink and the paper drops
FAINT_SMOOTH = 5  # it): it is kept at Otsu's level scaled to its own peak
WIDE = 0.8  # a group this wide for its height may be touching digits
WIDEST_DIGIT = 1.7  # and one wider is never a single digit; one twice WIDE may be three touching digits,
THREE_APART = 1.2  # or this wide, of three strokes apart each tall enough to be a digit (100 a hair apart)
CUT_SLANTS = (0.0, -0.25, 0.25)  # column shift per row of a cut: straight, and leaning either way
CUTS_PER_SLANT = 4
PATH_STARTS, PATH_BAND = 4, 0.3  # cuts along the paper: start columns, and how far (share of a height) a path strays
SEAM_RUN = (1.35, 2.8)  # a row's run of ink this many stroke widths long may be two strokes side by side,
SEAM_ROWS = 0.2  # and where such runs line up over this share of a digit's height, two digits touch along them
SEAM_LEAN = 0.35  # and lean at most this many columns a row (one stroke slanted more has runs as long)
SLICED, SLICE = 2.0, 0.3  # a piece this wide (four digits a hair apart) is read in slices this share of a height wide
PATH_INK_COST, PATH_TURN_COST = 30.0, 0.2  # a pixel of ink crossed costs as much as 30 of paper; a turn a fifth of one
NARROWEST_NUMBER = 0.9  # width/height of the narrowest ink read as more than one digit, unless the counter
NARROWEST_PAIR = 0.55  # is sure that ink at least this wide is (a 1 touching a 7)
MERGE_ODDS = 0.7  # pieces apart, each tall enough to be a digit, are digits apart unless read far better as one
ONE_SURE = -2.0  # but not where the counter gives pieces apart these log-odds or fewer of being several (an open 4)
APART = 0.12  # groups this far apart (share of a digit's height) are well-separated pieces: never one digit
WHOLE_SURE = 0.9  # the whole ink read as one digit this surely (and a digit to the novelty detector) stays whole
CUT_ODDS = 1.5  # a cut of ink the novelty detector calls a digit must read this many times more surely than the whole
WIDE_FOR_ONE = 1.2  # ink wider than this for its height is rarely one digit (1 % of MNIST's are over 1.25):
CUT_SURE = 0.8  # there a cut whose digits the model reads this surely together (and calls digits) is kept,
CUT_SURER = 0.97  # and this surely where the whole reads surely as one digit
CUT_PAIRED = 0.5  # or only this surely, in two, where the counter and the pair reader are both sure it is two (a 1
# with a flag, a hair from a 4: read surely whole as 4, the 1 alone at 73 %)
WEAK_CUT = 0.9  # ink no digit whole, cut across in two with a part read less surely than this, is one thing (an H),
BEYOND_DOUBT = 9.0  # unless the counter gives it more log-odds than this of being several, the pair reader sure too
FLAGGED = 0.1  # inside one piece, a reading the novelty detector calls no digit is worth this share of its confidence,
FLAGGED_ODDS = 0.5  # and the odds of such a piece being one digit against a cut of it count as their square root
HOLES_PER_DIGIT = 3  # a digit has at most two loops (an 8); ink with far more for its width is a texture, not a number
STRIPES = 4  # this many digits found cut by one edge of the image (from edge to edge, or not) are stripes
# (a grating, wood grain, a grid of dots): no number
MOST_DIGITS = 8  # nor are more digits than a number has (a texture's blobs)
PRINT_LEVEL = 0.01  # letters of print sit on lines level to a pixel (the edge of anti-aliased type) and this
# share of the tallest's height more (a round letter's overshoot)
SURELY_SEVERAL = 3.0  # the counter's log-odds at which ink is surely several digits
NO_DIGIT = 0.5  # a reading the novelty detector calls no digit is worth this share of its confidence
PAIR_ASKED = -4.0  # the pair reader (``train.pairs``) is asked about ink the counter gives these log-odds or more
PAIR_SURE = 0.9  # ink it reads as two digits this surely may be cut (however narrow, or surely read whole)
PAIR_DENIES = 0.1  # ink it reads as two digits less surely than this is no pair, whatever the counter leans to
PAIR_AGREES = 0.75  # a cut in two that reads as the pair it reads this surely is two digits (not a letter cut)
PAIR_WEIGHT = 0.5  # a cut in two counts its pair's probability to the pair reader, to this power
ASCENDER = 1.25  # a letter with an ascender or a descender is at least this many x-heights tall
SURE_DIGITS = 0.7  # ink laid out as lowercase print (or as stripes) is a number all the same where this share
# of its pieces read surely as digits (1 % of printed words' pieces do)
LEVEL_DIGITS = 0.5  # and ink laid out as capitals, only where more than this share does
NO_NUMBER = 0.5  # several digits found, more than this share of which look like no digit: no number, one input


@dataclass(frozen=True)
class DigitInk:
    """One digit of a number: where it is, and its ink alone (the other digits' ink removed)."""

    box: tuple[int, int, int, int]  # x0, y0, x1, y1 in pixels of the ink image given
    ink: np.ndarray  # float32 crop of the working-size ink around the digit, others blanked


@dataclass
class _Group:
    mask: np.ndarray  # bool, the whole working image: this group's ink
    atoms: list[np.ndarray]  # its pieces' masks


def _box(mask: np.ndarray) -> tuple[int, int, int, int]:
    x, y, w, h = cv2.boundingRect(mask.astype(np.uint8))
    return x, y, x + w, y + h


def _working_ink(ink: np.ndarray) -> tuple[np.ndarray, float, tuple[int, int]]:
    """Background-free ink at ``SEGMENT_SIZE`` at most, the scale from the ink given, and the
    offset (x, y) of what was kept: a small number on a big image is taken at full resolution."""
    def reduced(a: np.ndarray) -> tuple[np.ndarray, float]:
        scale = min(1.0, SEGMENT_SIZE / max(a.shape))
        if scale < 1.0:
            size = (max(1, round(a.shape[1] * scale)), max(1, round(a.shape[0] * scale)))
            a = cv2.resize(a, size, interpolation=cv2.INTER_AREA)
        return _remove_background(a), scale

    work, scale = reduced(ink)
    if scale < 1.0 and work.max() >= 0.1:
        x0, y0, x1, y1 = _box(_ink_mask(work / work.max()))
        side = max(x1 - x0, y1 - y0)
        if side < 0.5 * max(work.shape):
            margin = 0.25 * side
            top, left = max(0, int((y0 - margin) / scale)), max(0, int((x0 - margin) / scale))
            bottom, right = int(np.ceil((y1 + margin) / scale)), int(np.ceil((x1 + margin) / scale))
            work, scale = reduced(ink[top:bottom, left:right])
            return work, scale, (left, top)
    return work, scale, (0, 0)


def _ink_mask(ink: np.ndarray) -> np.ndarray:
    """Otsu's ink of ``ink`` (peak 1), and ink apart from it that is fainter than the rest (a digit written
    lighter, one in a shadow, a pencil's beside a pen's), which Otsu's threshold between the strong ink and
    the paper drops whole or in part: found smoothed and clear of the paper's noise, and kept where it is
    tall enough to be part of a digit, at Otsu's level scaled to its own peak."""
    u8 = np.round(np.clip(ink, 0.0, 1.0) * 255).astype(np.uint8)
    level, strong = cv2.threshold(u8, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    strong = strong > 0
    sample = ~strong[::4, ::4]
    if not strong.any() or not sample.any():
        return strong
    smooth = cv2.blur(u8, (FAINT_SMOOTH, FAINT_SMOOTH))
    paper = smooth[::4, ::4][sample].astype(np.float32)
    middle = float(np.median(paper))
    noise = 1.4826 * float(np.median(np.abs(paper - middle)))
    weak = smooth >= max(FAINT * level, middle + FAINT_NOISE * noise)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(weak.astype(np.uint8), connectivity=8)
    apart = np.ones(count, bool)
    apart[0] = False
    apart[labels[u8 >= max(level, FAINT_PEAK * 255)]] = False
    if not apart.any():
        return strong
    tallest = cv2.connectedComponentsWithStats(strong.astype(np.uint8), connectivity=8)[2][1:, cv2.CC_STAT_HEIGHT].max()
    apart &= stats[:, cv2.CC_STAT_HEIGHT] >= FRAGMENT_HEIGHT * tallest
    mask = strong
    for k in np.flatnonzero(apart):
        x, y, w, h = stats[k, :4]
        own, grey = labels[y:y + h, x:x + w] == k, smooth[y:y + h, x:x + w]
        peak = float(grey[own].max())
        if peak >= middle + 2 * FAINT_NOISE * noise:
            mask[y:y + h, x:x + w] |= own & (grey >= peak / 255.0 * level)
    return mask


def _pieces(work: np.ndarray) -> tuple[list[np.ndarray], list[int], float, float]:
    """The ink's pieces, which of them lie within a stroke width of one another (a number each),
    the height of a digit and the stroke width.

    Pieces a stroke width apart (the dots of a dotted stroke, a stroke broken by a light pen) are
    one piece, unless two of them are each tall enough to be a digit: digits written a hair
    apart stay apart, and the model decides whether they are one digit or two.
    """
    peak = float(work.max())
    if peak < 0.1:
        raise NoDigitFound()
    mask = _ink_mask(work / peak)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if count <= 1:
        raise NoDigitFound()
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = np.zeros(count, bool)
    keep[1:] = areas >= max(3, 0.01 * areas.max())  # specks of noise
    mask = keep[labels]
    if mask.sum() < 6:
        raise NoDigitFound()
    width = _stroke_width(mask)
    k = max(3, round(width)) | 1
    joined = cv2.dilate(mask.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    near_count, near = cv2.connectedComponents(joined, connectivity=8)
    # Strokes less than half a stroke width apart are one piece (an open 4, a stroke lifted and
    # put down again); further apart, each tall one may be a digit.
    k = max(3, round(0.5 * width)) | 1
    close = cv2.dilate(mask.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    labels = cv2.connectedComponents(close, connectivity=8)[1] * mask
    heights = np.array([_box(near == i)[3] - _box(near == i)[1] for i in range(1, near_count)], float)
    height = float(np.median(heights[heights >= 0.5 * heights.max()]))
    pieces, neighbourhoods = [], []
    for i in range(1, near_count):
        inside = [j for j in np.unique(labels[(near == i) & mask])]
        parts = [labels == j for j in inside]
        tall = [p for p in parts if _box(p)[3] - _box(p)[1] >= FRAGMENT_HEIGHT * height]
        if len(tall) < 2:
            pieces.append(mask & (near == i))
            neighbourhoods.append(i)
            continue
        # The short parts go with the nearest tall one.
        centres = [np.argwhere(p).mean(axis=0) for p in tall]
        own = [p.copy() for p in tall]
        for p in parts:
            if any(p is t for t in tall):
                continue
            centre = np.argwhere(p).mean(axis=0)
            own[int(np.argmin([np.hypot(*(centre - c)) for c in centres]))] |= p
        pieces += own
        neighbourhoods += [i] * len(own)
    return pieces, neighbourhoods, height, width


def _finer_pieces(atoms: list[np.ndarray], neighbourhoods: list[int], height: float,
                  thin: np.ndarray) -> tuple[list[np.ndarray], list[int]]:
    """The pieces of a drawing (``_pieces``) where each piece wide enough to be touching digits (``WIDE``) is
    in several pieces drawn with a thinner pen (``thin``, the same strokes): the piece's ink shared out to the
    nearest of those instead, in the piece's neighbourhood. Digits drawn close with a broad pen run together;
    their strokes did not. (The broad pen's ink, not the thin pieces themselves: two 0s whose strokes do meet
    stay one piece as thick as drawn, to be cut along their seam.)"""
    try:
        thin_pieces = _pieces(thin)[0]
    except NoDigitFound:
        return atoms, neighbourhoods  # (the finer pen left too little ink to find: the pieces as they are)
    owners = [int(np.argmax([np.count_nonzero(t & a) for a in atoms])) for t in thin_pieces]
    finer, around = [], []
    for k, (atom, neighbourhood) in enumerate(zip(atoms, neighbourhoods, strict=True)):
        inside = [t for t, owner in zip(thin_pieces, owners, strict=True) if owner == k]
        if len(inside) >= 2 and _cut_ratio(atom, height) >= WIDE:
            parts = _nearest_parts(atom, inside)
            finer += parts
            around += [neighbourhood] * len(parts)
        else:
            finer.append(atom)
            around.append(neighbourhood)
    return finer, around


def _nearest_parts(atom: np.ndarray, seeds: list[np.ndarray]) -> list[np.ndarray]:
    """``atom``'s ink shared out among ``seeds`` (masks inside it): each pixel to the nearest seed's part."""
    x0, y0, x1, y1 = _box(atom)
    inside = atom[y0:y1, x0:x1]
    given = np.zeros(inside.shape, np.int32)
    for i, seed in enumerate(seeds, 1):
        given[seed[y0:y1, x0:x1] & inside] = i
    _, labels = cv2.distanceTransformWithLabels((given == 0).astype(np.uint8), cv2.DIST_L2, 5,
                                                labelType=cv2.DIST_LABEL_PIXEL)
    owner = np.zeros(int(labels.max()) + 1, np.int32)
    owner[labels[given > 0]] = given[given > 0]  # each seed pixel's label: its seed
    nearest = owner[labels]
    parts = []
    for i in range(1, len(seeds) + 1):
        part = np.zeros_like(atom)
        part[y0:y1, x0:x1] = inside & (nearest == i)
        if part.any():
            parts.append(part)
    return parts


def _box_distance(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """The gap between two boxes (x0, y0, x1, y1), 0 where they overlap."""
    return (max(b[0] - a[2], a[0] - b[2], 0) ** 2 + max(b[1] - a[3], a[1] - b[3], 0) ** 2) ** 0.5


def _connected(pairs: list[tuple[int, int]]) -> list[list[int]]:
    """The sets of indices that ``pairs`` link, each sorted."""
    sets: list[set[int]] = []
    for i, j in pairs:
        linked = [s for s in sets if i in s or j in s]
        merged = set().union({i, j}, *linked)
        sets = [s for s in sets if s not in linked] + [merged]
    return [sorted(s) for s in sets]


def _groups(atoms: list[np.ndarray], neighbourhoods: list[int], height: float) -> list[_Group]:
    """Pieces joined into digit-candidate groups, left to right.

    Pieces in one neighbourhood are one group. A piece much shorter than a digit (a lifted bar,
    a dot) joins the nearest tall piece, or is dropped when none is near (a stray mark), unless
    short pieces one above another are together as tall as a digit's piece (a digit fallen into
    arcs); pieces that share most of their columns (one above the other) are one group.
    """
    boxes = [_box(a) for a in atoms]
    heights = np.array([b[3] - b[1] for b in boxes], float)
    fragment = heights < FRAGMENT_HEIGHT * height
    owner = list(range(len(atoms)))
    apart = np.array([[_box_distance(a, b) for b in boxes] for a in boxes], float)
    # A digit written with a light pen can fall into pieces none of which is tall (a 3 in three arcs).
    # Fragments one above another, nearer each other than any tall piece, are one piece: a tall one
    # if together they are as tall as a digit's piece, which then owns them all.
    nearest_tall = np.where(fragment[None, :], np.inf, apart).min(axis=1)
    stacked_pairs = [(i, j) for i, j in itertools.combinations(np.flatnonzero(fragment), 2)
                     if min(boxes[i][2], boxes[j][2]) > max(boxes[i][0], boxes[j][0])
                     and apart[i, j] < min(nearest_tall[i], nearest_tall[j])]
    for members in _connected(stacked_pairs):
        x0, y0, x1, y1 = (min(boxes[k][0] for k in members), min(boxes[k][1] for k in members),
                          max(boxes[k][2] for k in members), max(boxes[k][3] for k in members))
        if y1 - y0 >= FRAGMENT_HEIGHT * height:
            largest = max(members, key=lambda k: int(atoms[k].sum()))
            fragment[largest], boxes[largest], heights[largest] = False, (x0, y0, x1, y1), y1 - y0
            for k in members:
                owner[k] = largest
    for i in np.flatnonzero(fragment):
        if owner[i] != i:
            continue  # a part of fragments that are a piece together
        distances = np.where(fragment, np.inf, apart[i])
        # A fragment over or under a tall piece near it, most of its columns within that piece's (a 5's
        # lifted bar), is that piece's, though another piece's corner may be nearer (the next digit's top).
        shared = np.array([max(0, min(boxes[i][2], b[2]) - max(boxes[i][0], b[0])) for b in boxes], float)
        shared = np.where(distances < 0.6 * height, shared, 0.0)
        most = 0.5 * (boxes[i][2] - boxes[i][0])
        if shared.max() >= most:
            distances = np.where(shared >= most, distances, np.inf)
        nearest = int(np.argmin(distances))
        owner[i] = nearest if distances[nearest] < 0.6 * height else -1

    def root(i: int) -> int:
        while owner[i] != i and owner[i] >= 0:
            i = owner[i]
        return owner[i] if owner[i] < 0 else i

    def join(i: int, j: int) -> None:
        ri, rj = root(i), root(j)
        if ri != rj and ri >= 0 and rj >= 0:
            owner[max(ri, rj)] = min(ri, rj)

    whole = [i for i in range(len(atoms)) if not fragment[i]]
    for i, j in itertools.combinations(whole, 2):
        overlap = min(boxes[i][2], boxes[j][2]) - max(boxes[i][0], boxes[j][0])
        narrower = min(boxes[i][2] - boxes[i][0], boxes[j][2] - boxes[j][0])
        rows = min(boxes[i][3], boxes[j][3]) - max(boxes[i][1], boxes[j][1])
        shorter = min(heights[i], heights[j])
        # Digits side by side share most of their rows, even on a slanted baseline.
        stacked = rows < 0.3 * shorter and overlap > -0.1 * height
        if overlap > 0.5 * narrower or stacked or neighbourhoods[i] == neighbourhoods[j]:
            join(i, j)
    members: dict[int, list[int]] = {}
    for i in range(len(atoms)):
        r = root(i)
        if r >= 0:
            members.setdefault(r, []).append(i)
    groups = []
    for indices in members.values():
        # The group's pieces: each tall piece with the fragments it owns, left to right.
        tall = [i for i in indices if not fragment[i]] or indices[:1]
        pieces = [np.logical_or.reduce([atoms[k] for k in indices if k == i or (fragment[k] and root(k) == root(i)
                                                                                 and owner[k] == i)])
                  for i in tall]
        pieces.sort(key=lambda m: np.nonzero(m)[1].mean())
        groups.append(_Group(np.logical_or.reduce([atoms[k] for k in indices]), pieces))
    groups.sort(key=lambda g: np.nonzero(g.mask)[1].mean())
    return groups


def _tall_sides(columns: np.ndarray, ys: np.ndarray, size: int, height: float) -> np.ndarray:
    """For each of ``size`` columns, whether a cut there leaves ink at least MIN_PART_HEIGHT of a digit's
    height tall on both sides (ink at rows ``ys`` in ``columns``): a long bar (a 5's top, a 7's) reaching
    over the next digit has the least ink, but a cut through it leaves a sliver of bar, no digit."""
    top, bottom = np.full(size, np.inf), np.full(size, -np.inf)
    np.minimum.at(top, columns, ys)
    np.maximum.at(bottom, columns, ys)
    left = np.maximum.accumulate(bottom) - np.minimum.accumulate(top) + 1  # the ink in columns up to each
    right = (np.maximum.accumulate(bottom[::-1]) - np.minimum.accumulate(top[::-1]))[::-1] + 1  # from each on
    tall = np.zeros(size, bool)
    tall[1:] = (left[:-1] >= MIN_PART_HEIGHT * height) & (right[1:] >= MIN_PART_HEIGHT * height)
    return tall


def _least_ink_columns(profile: np.ndarray, width: int, span: tuple[float, float], count: int, height: float,
                       first: int | None = None, tall: np.ndarray | None = None,
                       apart: float | None = None) -> list[int]:
    """Up to ``count`` columns where ``profile`` (ink per column, smoothed over three) is least, within
    ``span`` (shares of ``width``), where ``tall`` allows (``_tall_sides``), and at least ``apart`` columns
    apart (by default more than a tenth of a digit's height, and than two columns); ``first`` is taken before them."""
    if apart is None:
        apart = np.floor(max(2, 0.1 * height)) + 1  # (columns are whole: more than a is at least floor(a) + 1)
    smooth = np.convolve(profile.astype(float), np.ones(3) / 3, mode="same")
    inner = np.arange(round(span[0] * width), round(span[1] * width) + 1)
    inner = inner[inner < len(profile)]  # (a profile shorter than three has a longer ``smooth``)
    if tall is not None:
        inner = inner[tall[inner]]
    chosen: list[int] = []
    for c in [*([] if first is None else [first]), *inner[np.argsort(smooth[inner], kind="stable")]]:
        if all(abs(c - d) >= apart for d in chosen):
            chosen.append(int(c))
        if len(chosen) == count:
            break
    return chosen


def _column_cuts(mask: np.ndarray, parts: int, height: float) -> list[list[np.ndarray]]:
    """Ways to cut touching digits apart along the least ink, straight or slanted: lists of masks."""
    ys, xs = np.nonzero(mask)
    x0, x1 = xs.min(), xs.max() + 1
    width = x1 - x0
    centre = ys.mean()
    ways = []
    for slant in CUT_SLANTS:
        shifted = xs + slant * (ys - centre)  # a slanted cut is a straight cut of the sheared ink
        lo = int(np.floor(shifted.min()))
        columns = np.round(shifted - lo).astype(int)
        profile = np.bincount(columns)
        chosen = _least_ink_columns(profile, width, (0.15, 0.85), CUTS_PER_SLANT + parts - 2, height,
                                    tall=_tall_sides(columns, ys, len(profile), height))
        for cuts in itertools.combinations(sorted(chosen), parts - 1):
            edges = [-np.inf, *(c + lo for c in cuts), np.inf]
            way = []
            for a, b in itertools.pairwise(edges):
                part = np.zeros_like(mask)
                inside = (shifted >= a) & (shifted < b)
                part[ys[inside], xs[inside]] = True
                way.append(part)
            ways.append(way)
    return ways


def _paper_paths(ink: np.ndarray, starts: list[int], height: float) -> np.ndarray:
    """From each start column of ``ink`` (a piece's box, bool), the top-to-bottom path that crosses the least
    ink, moving at most a column a row and staying within ``PATH_BAND`` of a digit's height of its start
    (dynamic programming): so that it goes round a stroke that leans over the next digit and crosses ink only
    where two digits touch. The columns of each path, row by row, (len(starts), rows)."""
    rows, width = ink.shape
    cost = 1.0 + PATH_INK_COST * ink
    band = max(2, round(PATH_BAND * height))
    columns = np.arange(width)
    allowed = np.abs(columns[None, :] - np.array(starts)[:, None]) <= band  # (starts, width)
    total = np.where(allowed, cost[0][None, :], np.inf)
    steps = np.zeros((rows, len(starts), width), np.int8)
    moves = np.full((3, len(starts), width), np.inf)  # from the column on the left, the same, the right
    for y in range(1, rows):
        moves[0, :, 1:], moves[1], moves[2, :, :-1] = total[:, :-1], total, total[:, 1:]
        step = moves.argmin(axis=0)
        reached = np.take_along_axis(moves, step[None], axis=0)[0]
        total = np.where(allowed, reached + cost[y][None, :] + PATH_TURN_COST * (step != 1), np.inf)
        steps[y] = step - 1
    x = total.argmin(axis=1)
    paths = np.empty((len(starts), rows), np.int64)
    for y in range(rows - 1, -1, -1):
        paths[:, y] = x
        x = x + steps[y, np.arange(len(starts)), x]
    return paths


def _between_paths(mask: np.ndarray, paths: np.ndarray) -> list[np.ndarray]:
    """The ink of ``mask`` left of the first of ``paths`` (columns of its box, row by row, left to right), between
    each and the next, and right of the last: one mask each."""
    ys, xs = np.nonzero(mask)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    ink = mask[y0:y1, x0:x1]
    columns = np.arange(x1 - x0)
    right_of = [columns[None, :] >= path[:, None] for path in paths]
    sides = [~right_of[0]] + [a & ~b for a, b in itertools.pairwise(right_of)] + [right_of[-1]]
    parts = []
    for side in sides:
        part = np.zeros_like(mask)
        part[y0:y1, x0:x1] = ink & side
        parts.append(part)
    return parts


def _path_cuts(mask: np.ndarray, height: float) -> list[list[np.ndarray]]:
    """Ways to cut two touching digits apart along the paper between them: from each of a few start
    columns (the minima of the ink's column profile, and the middle), the path of least ink
    (``_paper_paths``). Each way is the ink left and right of the path."""
    ys, xs = np.nonzero(mask)
    ink = mask[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    width = ink.shape[1]
    starts = _least_ink_columns(ink.sum(axis=0), width, (0.2, 0.8), PATH_STARTS, height, first=width // 2,
                                tall=_tall_sides(xs - xs.min(), ys, width, height))
    return [_between_paths(mask, path[None]) for path in _paper_paths(ink, starts, height)]


def _slices(atom: np.ndarray, height: float) -> list[np.ndarray]:
    """A piece as wide as four digits a hair apart (``SLICED`` times a digit's height), in slices along the paper: the
    paths of least ink (``_paper_paths``) from the least-ink columns, at least ``SLICE`` of a digit's
    height apart, kept from crossing. Each digit is then one slice or a few next to one another, which
    the model's reading joins back; slices too small to be read join their neighbour."""
    ys, xs = np.nonzero(atom)
    ink = atom[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    width = ink.shape[1]
    starts = _least_ink_columns(ink.sum(axis=0), width, (0.0, 1.0), width, height,
                                tall=_tall_sides(xs - xs.min(), ys, width, height), apart=SLICE * height)
    if not starts:
        return [atom]
    paths = _paper_paths(ink, sorted(starts), height)
    paths = np.maximum.accumulate(paths, axis=0)  # (a path drawn to the left of the one before is kept to its right)
    slices: list[np.ndarray] = []
    for part in _between_paths(atom, paths):
        if not part.any():
            continue
        if slices and (_box(part)[3] - _box(part)[1] < MIN_PART_HEIGHT * height
                       or _box(slices[-1])[3] - _box(slices[-1])[1] < MIN_PART_HEIGHT * height):
            slices[-1] = slices[-1] | part  # (too short to be read: a stub of a stroke, with its neighbour)
        else:
            slices.append(part)
    return slices


def _seam_cuts(mask: np.ndarray, height: float) -> list[list[np.ndarray]]:
    """Ways to cut digits apart where they touch side by side (a 0 against a 0, a 1 against a 0): there their
    strokes run together into one twice as thick, whose columns hold the most ink, so neither the least ink nor
    the paper cuts it, and every other cut leaves one digit's side on the other. Rows whose run of ink is about
    two strokes wide (``SEAM_RUN``: side by side, or overlapping a little with a broad pen), lined up over
    ``SEAM_ROWS`` of a digit's height across the ink's middle row and nearly upright (``SEAM_LEAN``), make a
    seam: a cut along the line through the middles of those runs. Two seams at most, each a way in two, and
    both a way in three; so is a seam with the paper between two strokes apart in the piece."""
    ys, xs = np.nonzero(mask)
    y0, x0 = ys.min(), xs.min()
    ink = mask[y0:ys.max() + 1, x0:xs.max() + 1].astype(np.int8)
    stroke = _stroke_width(ink.astype(bool))
    edges = np.diff(np.pad(ink, ((0, 0), (1, 1))), axis=1)
    rows, starts = np.nonzero(edges == 1)
    ends = np.nonzero(edges == -1)[1]  # (row by row, in step with the starts)
    lengths = ends - starts
    seam = (lengths >= SEAM_RUN[0] * stroke) & (lengths <= SEAM_RUN[1] * stroke)
    if seam.sum() < SEAM_ROWS * height:
        return []
    rows, middles = rows[seam], (starts[seam] + ends[seam]) / 2.0
    lines = []
    for _ in range(2):  # two seams at most: three digits side by side (100)
        if not len(middles):
            break
        # The rows whose middles line up: the most of them within a stroke of one column.
        near = np.abs(middles[:, None] - middles[None, :]) <= stroke
        line = near[np.argmax(near.sum(axis=1))]
        if len(np.unique(rows[line])) < SEAM_ROWS * height:
            break
        on, at = rows[line], middles[line]
        if not on.min() <= ink.shape[0] / 2 <= on.max():
            break  # (not across the ink's middle: where an M's slants meet its sides, a bold m's humps)
        centre = on.mean()
        lean = 0.0 if np.ptp(on) == 0 else float(np.polyfit(on - centre, at, 1)[0])
        if abs(lean) > SEAM_LEAN:
            break  # (one slanted stroke: its runs are as long, and line up along its slant)
        lines.append((at.mean() + x0, lean, centre + y0))
        keep = np.abs(middles - at.mean()) > 2 * stroke
        rows, middles = rows[keep], middles[keep]
    if not lines:
        return []
    # The paper between strokes apart that are each tall enough to be a digit (a 1 a hair from a 0, one piece):
    # with a seam, a cut in three ("100" whose 1 stands close and whose 0s touch).
    gaps = [((right + left) / 2.0, 0.0, 0.0)
            for (_, right), (left, _) in itertools.pairwise(_tall_strokes(mask, height)) if right < left]
    threes = [sorted([seam, gap]) for seam in lines for gap in gaps if abs(seam[0] - gap[0]) > 2 * stroke]
    ways = []
    for chosen in [[line] for line in lines] + ([sorted(lines)] if len(lines) == 2 else []) + threes:
        beyond = [xs - (at + lean * (ys - centre)) for at, lean, centre in chosen]  # right of each seam: >= 0
        sides = [beyond[0] < 0] + [(a >= 0) & (b < 0) for a, b in itertools.pairwise(beyond)] + [beyond[-1] >= 0]
        way = []
        for side in sides:
            part = np.zeros_like(mask)
            part[ys[side], xs[side]] = True
            way.append(part)
        ways.append(way)
    return ways


def _plausible(parts: list[np.ndarray], height: float) -> bool:
    """Each part tall enough to be a digit, with a fair share of the ink, and no narrow sliver."""
    total = sum(int(p.sum()) for p in parts)
    for part in parts:
        if not part.any():
            return False
        x0, y0, x1, y1 = _box(part)
        if y1 - y0 < MIN_PART_HEIGHT * height or part.sum() < 0.1 * total:
            return False
        if x1 - x0 < 0.35 * height and y1 - y0 < 0.75 * height:
            return False  # a sliver cut off a digit's edge reads as a 1: a real 1 is as tall as a digit
    return True


def _cut_ratio(atom: np.ndarray, height: float) -> float:
    """How wide a piece is for its height (or half a digit's height, if it is shorter), as cuts judge it."""
    x0, y0, x1, y1 = _box(atom)
    return (x1 - x0) / max(y1 - y0, 0.5 * height)


def _across(atom: np.ndarray, height: float, paths: bool = True, narrowest: float = WIDE) -> list[list[np.ndarray]]:
    """The ways to cut one piece across its ink into two or three touching digits (without ``paths``,
    the straight and slanted cuts only: enough to tell whether there is a way at all), if it is at
    least ``narrowest`` times as wide as tall."""
    ratio = _cut_ratio(atom, height)
    ways = []
    if ratio >= narrowest:
        ways += _column_cuts(atom, 2, height) + (_path_cuts(atom, height) if paths else [])
        ways += _seam_cuts(atom, height) if paths else []
    if ratio >= 2 * WIDE or ratio >= THREE_APART and len(_tall_strokes(atom, height)) >= 3:
        ways += _column_cuts(atom, 3, height)
    return [w for w in ways if _plausible(w, height)]


def _tall_strokes(atom: np.ndarray, height: float) -> list[tuple[int, int]]:
    """The columns (first, past the last) of each of a piece's strokes apart (not touching, but less than half a
    stroke width from the next: one piece) that is tall enough to be a digit, left to right ("100" written a
    hair apart with a broad pen)."""
    count, _, stats, _ = cv2.connectedComponentsWithStats(atom.astype(np.uint8), connectivity=8)
    return sorted((int(stats[i, cv2.CC_STAT_LEFT]), int(stats[i, cv2.CC_STAT_LEFT] + stats[i, cv2.CC_STAT_WIDTH]))
                  for i in range(1, count) if stats[i, cv2.CC_STAT_HEIGHT] >= MIN_PART_HEIGHT * height)


def _one_digit(mask: np.ndarray, height: float) -> bool:
    return _cut_ratio(mask, height) <= WIDEST_DIGIT


def _texture(mask: np.ndarray) -> bool:
    """Whether ink has far more loops than any number of its width could (noise, a checkerboard, a
    photo of a fabric): such ink is not a number and is read whole, as one input (whose novelty then
    says whether it is a digit at all). The narrowest digit is about half as wide as tall."""
    contours, hierarchy = cv2.findContours(mask.astype(np.uint8), cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return False
    holes = int((hierarchy[0][:, 3] >= 0).sum())
    x0, y0, x1, y1 = _box(mask)
    most_digits = max(1, round((x1 - x0) / (0.5 * max(y1 - y0, 1))))
    return holes > HOLES_PER_DIGIT * most_digits


def _stripes(boxes: list[tuple[int, int, int, int]], shape: tuple[int, ...]) -> bool:
    """Whether the digits found are stripes or rows of dots that run on past the image (a grating, wood
    grain, a grid of dots): at least ``STRIPES`` of them cut by one edge of it (those running from edge to
    edge among them); or more of them than a number has digits (a texture's blobs). A row of digits leaves
    the paper above and below most of them."""
    x0, y0, x1, y1 = np.array(boxes).reshape(-1, 4).T
    cut = max(int(edge.sum()) for edge in (y0 <= 2, y1 >= shape[0] - 2, x0 <= 2, x1 >= shape[1] - 2))
    return cut >= STRIPES or len(boxes) > MOST_DIGITS


def _surely_digits(sure: np.ndarray, is_digit: np.ndarray) -> np.ndarray:
    """Which pieces read as digits at least ``WHOLE_SURE`` surely (their confidence ``sure``) and look like
    digits to the novelty detector (``is_digit``), (N,) bool."""
    return np.asarray(is_digit, bool) & (np.asarray(sure) >= WHOLE_SURE)


def _print_level(boxes: list[tuple[int, int, int, int]]) -> float:
    """How far apart (pixels) the tops or bottoms of printed letters can be and still sit on one line."""
    return 1.0 + PRINT_LEVEL * max(y1 - y0 for _, y0, _, y1 in boxes)


def _lowercase_print(boxes: list[tuple[int, int, int, int]]) -> bool:
    """Whether pieces sit as the letters of a printed lowercase word do: two or more of one height,
    their tops and bottoms level (``_print_level``), and one much taller or shorter level with them at
    one end: an ascender or a descender beside x-high letters ("note", "date"), or an x-high letter
    beside ascenders ("file"). Digits are all as tall as one another give or take a hand's wobble,
    never on ruled lines with ascenders: such ink is no number and is read whole, as one input
    (whose novelty then says it is not a digit)."""
    if len(boxes) < 3:
        return False
    level = _print_level(boxes)
    for _, top, _, bottom in boxes:
        same = [b for b in boxes if abs(b[1] - top) <= level and abs(b[3] - bottom) <= level]
        if len(same) >= 2 and any(max(y1 - y0, bottom - top) >= ASCENDER * min(y1 - y0, bottom - top)
                                  and (abs(y1 - bottom) <= level or abs(y0 - top) <= level)
                                  for _, y0, _, y1 in boxes):
            return True
    return False


def _level_print(boxes: list[tuple[int, int, int, int]]) -> bool:
    """Whether three or more pieces are all of one height, their tops and bottoms level (``_print_level``),
    as the letters of a printed word in capitals or without ascenders are ("RAIN", "sun"). A hand's
    digits seldom are; digits composed or scanned at one scale may be (``find_digits`` reads them first)."""
    if len(boxes) < 3:
        return False
    level = _print_level(boxes)
    tops, bottoms = np.array([b[1] for b in boxes]), np.array([b[3] for b in boxes])
    return bool(np.ptp(tops) <= level and np.ptp(bottoms) <= level)


def _margin(x0: int, y0: int, x1: int, y1: int) -> int:
    return max(2, round(0.15 * max(x1 - x0, y1 - y0)))


def _digit_ink(work: np.ndarray, mask: np.ndarray, width: float) -> tuple[tuple[int, int, int, int], np.ndarray]:
    """A digit's box and its ink alone: the working ink near its mask (the faint edges of its
    strokes included), in a crop with a margin of paper."""
    k = max(3, round(width)) | 1
    near = cv2.dilate(mask.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))).astype(bool)
    x0, y0, x1, y1 = _box(mask)
    margin = _margin(x0, y0, x1, y1)
    rows = slice(max(0, y0 - margin), y1 + margin)
    cols = slice(max(0, x0 - margin), x1 + margin)
    return (x0, y0, x1, y1), np.where(near[rows, cols], work[rows, cols], 0.0).astype(np.float32)


def _ratio(mask: np.ndarray) -> float:
    x0, y0, x1, y1 = _box(mask)
    return (x1 - x0) / max(y1 - y0, 1)


COUNT_HEIGHT, COUNT_WIDTH = 28, 84  # the counter's input: ink 24 px tall (or 80 wide) at its own aspect ratio
PAIRS = slice(10, 110)  # the pair reader's columns for the hundred pairs
_NETWORKS: dict[str, dict[str, np.ndarray]] = {}


def count_input(work: np.ndarray, mask: np.ndarray, width: float) -> np.ndarray:
    """Ink as the digit counter sees it: its box at its own aspect ratio, 24 px tall (80 px wide
    at most) in the middle of a (COUNT_HEIGHT, COUNT_WIDTH) field, scaled to a peak of 1."""
    (x0, y0, x1, y1), ink = _digit_ink(work, mask, width)
    dx, dy = min(x0, _margin(x0, y0, x1, y1)), min(y0, _margin(x0, y0, x1, y1))
    ink = ink[dy:dy + y1 - y0, dx:dx + x1 - x0]
    scale = min((COUNT_HEIGHT - 4) / ink.shape[0], (COUNT_WIDTH - 4) / ink.shape[1])
    size = (max(1, round(ink.shape[1] * scale)), max(1, round(ink.shape[0] * scale)))
    small = cv2.resize(ink, size, interpolation=cv2.INTER_AREA)
    field = np.zeros((COUNT_HEIGHT, COUNT_WIDTH), np.float32)
    top, left = (COUNT_HEIGHT - size[1]) // 2, (COUNT_WIDTH - size[0]) // 2
    field[top:top + size[1], left:left + size[0]] = small
    return field / max(float(field.max()), 1e-6)


def count_input_of_image(ink: np.ndarray) -> np.ndarray:
    """The counter's input for all of an ink image (H, W) in [0, 1] (``train.counter``)."""
    work, _, _ = _working_ink(np.asarray(ink, np.float32))
    atoms, _, _, width = _pieces(work)
    return count_input(work, np.logical_or.reduce(atoms), width)


def _conv_relu(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """A 3x3 "same" convolution with ReLU of (N, H, W, C) by (3, 3, C, F), as Keras computes it."""
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(1, 2))  # N, H, W, C, 3, 3
    n, h, w, c = x.shape
    columns = windows.reshape(n * h * w, c * 9) @ kernel.transpose(2, 0, 1, 3).reshape(c * 9, -1)
    return np.maximum(columns.reshape(n, h, w, -1) + bias, 0.0)


def _max_pool(x: np.ndarray) -> np.ndarray:
    n, h, w, c = x.shape
    return x[:, :h // 2 * 2, :w // 2 * 2].reshape(n, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))


def _shape_network(name: str, output: str, inputs: np.ndarray) -> np.ndarray:
    """The outputs (layer ``output``) of the small shape network ``models/NAME.npz`` (the digit counter,
    the pair reader: three 3x3 convolutions, two max-pools, a hidden dense layer) for inputs
    (N, COUNT_HEIGHT, COUNT_WIDTH)."""
    if name not in _NETWORKS:
        from models import MODELS_DIR

        with np.load(MODELS_DIR / f"{name}.npz") as weights:
            _NETWORKS[name] = {k: weights[k].astype(np.float32) for k in weights.files}
    w = _NETWORKS[name]
    x = _max_pool(_conv_relu(inputs[..., None].astype(np.float32), w["conv1.0"], w["conv1.1"]))
    x = _max_pool(_conv_relu(x, w["conv2.0"], w["conv2.1"]))
    x = _conv_relu(x, w["conv3.0"], w["conv3.1"]).reshape(len(x), -1)
    x = np.maximum(x @ w["dense.0"] + w["dense.1"], 0.0)
    return x @ w[f"{output}.0"] + w[f"{output}.1"]


def several_logits(inputs: np.ndarray) -> np.ndarray:
    """The digit counter's log-odds (N,) that each input (N, COUNT_HEIGHT, COUNT_WIDTH) is several
    digits rather than one (``train.counter``; NumPy, from ``models/digit_counter.npz``)."""
    return _shape_network("digit_counter", "several", inputs)[:, 0]


def pair_readings(inputs: np.ndarray) -> np.ndarray:
    """The pair reader's probabilities (N, 111) that each input (N, COUNT_HEIGHT, COUNT_WIDTH) is the one
    digit ``d`` (column d), the pair ``ab`` (column 10 + 10 a + b) or no digit at all (column 110): the mean
    of its two networks' (``train.pairs``; NumPy, from ``models/pair_reader.npz`` and ``pair_reader_boxes.npz``)."""
    readings = []
    for name in ("pair_reader", "pair_reader_boxes"):
        logits = _shape_network(name, "pairs", inputs)
        odds = np.exp(logits - logits.max(axis=1, keepdims=True))
        readings.append(odds / odds.sum(axis=1, keepdims=True))
    return np.mean(readings, axis=0)


def _read(inks: list[np.ndarray], read: Read) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The model's confidence in its top answer for each ink (0 where it is no digit at all), whether
    its novelty detector says it looks like a digit (N,) bool, and the top answer (N,) (-1: none)."""
    inputs, readable = [], []
    for ink in inks:
        try:
            inputs.append(normalize_ink(ink))
            readable.append(True)
        except NoDigitFound:
            readable.append(False)
    sure, digit, top = np.zeros(len(inks)), np.zeros(len(inks), bool), np.full(len(inks), -1)
    if inputs:
        probs, is_digit = read(np.stack(inputs))
        sure[np.array(readable)] = probs.max(axis=1)
        digit[np.array(readable)] = is_digit
        top[np.array(readable)] = probs.argmax(axis=1)
    return sure, digit, top


def _cluster_mask(cluster: list[_Group]) -> np.ndarray:
    return np.logical_or.reduce([g.mask for g in cluster])


def _clusters(groups: list[_Group], height: float) -> list[list[_Group]]:
    """The groups in runs with paper between each run and the next (``APART``): pieces of one
    digit never lie that far apart, so each run is read on its own."""
    clusters: list[list[_Group]] = []
    right = -np.inf
    for group in groups:
        x0, _, x1, _ = _box(group.mask)
        if clusters and x0 - right < APART * height:
            clusters[-1].append(group)
        else:
            clusters.append([group])
        right = max(right, x1)
    return clusters


def find_digits(ink: np.ndarray, read: Read, whole: np.ndarray | None = None,
                finer: Callable[[], np.ndarray] | None = None) -> list[DigitInk]:
    """The digits of an ink image (H, W) in [0, 1] (1 = ink), left to right.

    ``read`` reads 28x28 inputs (N, 28, 28) (``Read``): at most twice, once for ``whole`` (the
    whole ink as one digit's input, ``normalize_ink(ink)`` when not given) and once with every
    candidate digit of every group that may be cut; not at all when the ink is in well-separated
    pieces none of which may be cut (once, for those pieces, where they sit as lowercase print).
    ``finer``: for a drawing whose strokes are known, the same strokes' ink drawn with a finer pen (asked
    for only where a piece may be touching digits). Raises ``NoDigitFound`` for a blank image.
    """
    ink = np.asarray(ink, np.float32)
    work, scale, (left, top) = _working_ink(ink)
    atoms, neighbourhoods, height, width = _pieces(work)
    if finer is not None and any(_cut_ratio(atom, height) >= WIDE for atom in atoms):
        # A drawing whose strokes are known: where a piece may be touching digits, its strokes drawn with a finer pen.
        thin, thin_scale, thin_offset = _working_ink(np.asarray(finer(), np.float32))
        if thin.shape == work.shape and thin_scale == scale and thin_offset == (left, top) and thin.max() >= 0.1:
            atoms, neighbourhoods = _finer_pieces(atoms, neighbourhoods, height, thin)
    everything = np.logical_or.reduce(atoms)

    def digit_at(part: np.ndarray) -> DigitInk:
        (x0, y0, x1, y1), digit = _digit_ink(work, part, width)
        return DigitInk((left + int(x0 / scale), top + int(y0 / scale),
                         left + int(np.ceil(x1 / scale)), top + int(np.ceil(y1 / scale))), digit)

    shapes: dict[bytes, np.ndarray] = {}

    def on_shapes(network: Callable[[np.ndarray], np.ndarray]) -> Callable[[list[np.ndarray]], np.ndarray]:
        """``network`` (the counter, the pair reader) on each of a list of masks' ink as it sees ink
        (``count_input``), each distinct ink run once in this call."""
        outputs: dict[bytes, np.ndarray] = {}

        def run(masks: list[np.ndarray]) -> np.ndarray:
            keys = [mask.tobytes() for mask in masks]
            new = {key: mask for key, mask in zip(keys, masks, strict=True) if key not in outputs}
            for key, mask in new.items():
                if key not in shapes:
                    shapes[key] = count_input(work, mask, width)
            if new:
                outputs.update(zip(new, network(np.stack([shapes[key] for key in new])), strict=True))
            return np.array([outputs[key] for key in keys])
        return run

    count = on_shapes(several_logits)  # the counter's log-odds (N,)
    pair = on_shapes(pair_readings)  # the pair reader's readings (N, 111)

    def surely_a_pair(mask: np.ndarray) -> bool:
        """Whether the pair reader is sure the ink is two digits; asked only where the counter doubts it is one."""
        return bool(count([mask])[0] > PAIR_ASKED and pair([mask])[0, PAIRS].sum() >= PAIR_SURE)

    x0, y0, x1, y1 = _box(everything)
    narrow = x1 - x0 <= NARROWEST_NUMBER * (y1 - y0)
    if _texture(everything) or max(ink.shape) <= ONE_BOX:
        # Ink with far more loops than digits have (noise, a texture) is no number, nor is an image no bigger than
        # MNIST's box (an MNIST-C digit's outline or one crossed by a dotted line was cut in two: their strokes are
        # a pixel or two, which the counter never saw): one input, read whole.
        return [digit_at(everything)]
    groups = _groups(atoms, neighbourhoods, height)
    clusters = _clusters(groups, height)
    if narrow and len(clusters) != 2 and (x1 - x0 < NARROWEST_PAIR * (y1 - y0)
                                          or count([everything])[0] <= SURELY_SEVERAL
                                          and not surely_a_pair(everything)):
        # Narrower than any number but a run of 1s or two digits the counter or the pair reader is sure
        # of (a 1 touching a 7, a 6 written over a 1), and not two pieces well apart (two 1s): one digit,
        # however broken (a tight crop, a scan); stripes are no number either.
        return [digit_at(everything)]
    boxes = [_box(group.mask) for group in groups]
    lowercase = _lowercase_print(boxes)
    if lowercase or _level_print(boxes):
        # Print is one input, read whole. Unless most pieces read surely as digits: digits composed at one
        # scale are as level as print, and one written bigger stands on their line like an ascender. Ink
        # level at both ends only (capitals, or letters without ascenders) must be no digits half or more:
        # a scan's digits are as level, and a pair pressed together in it reads as no one digit.
        sure, digit, _ = _read([_digit_ink(work, group.mask, width)[1] for group in groups], read)
        surely = _surely_digits(sure, digit).mean()
        if (surely < SURE_DIGITS) if lowercase else (surely <= LEVEL_DIGITS):
            return [digit_at(everything)]
    # A piece wider than three touching digits is read in slices, which the model's reading joins back into digits.
    slice_of: dict[int, int] = {}  # each slice: the piece it was cut from

    def joins(run: list[np.ndarray]) -> int:
        """How many of a run's neighbouring pieces are slices of one piece."""
        return sum(slice_of.get(id(a), -1) == slice_of.get(id(b), -2) for a, b in itertools.pairwise(run))

    for group in groups:
        sliced = []
        for atom in group.atoms:
            if _cut_ratio(atom, height) >= SLICED:
                cut = _slices(atom, height)
                slice_of.update((id(part), id(atom)) for part in cut)
                sliced += cut
            else:
                sliced.append(atom)
        group.atoms = sliced
    in_pieces = [len(cluster) > 1 or len(cluster[0].atoms) > 1 for cluster in clusters]
    # How narrow a piece may be cut across: as narrow as two digits can be where all the ink is that
    # narrow, or where the counter is sure a piece is several digits or the pair reader that it is two
    # (a 1 pressed into its neighbour is no wider than an 8); else as wide as touching digits mostly are.
    pressed: set[int] = set()
    if not narrow:
        # The counter is asked at once about such pieces and every run of pieces (its answers are kept).
        between = [atom for cluster in clusters for group in cluster for atom in group.atoms
                   if NARROWEST_PAIR <= _cut_ratio(atom, height) < WIDE]
        runs_of_pieces = [_cluster_mask(cluster) for cluster, pieces in zip(clusters, in_pieces, strict=True)
                          if pieces]
        odds = count(between + runs_of_pieces)[:len(between)] if between or runs_of_pieces else np.zeros(0)
        doubted = [atom for atom, o in zip(between, odds, strict=True) if PAIR_ASKED < o <= SURELY_SEVERAL]
        two = pair(doubted)[:, PAIRS].sum(axis=1) if doubted else []
        pressed = ({id(atom) for atom, o in zip(between, odds, strict=True) if o > SURELY_SEVERAL}
                   | {id(atom) for atom, p in zip(doubted, two, strict=True) if p >= PAIR_SURE})

    def narrowest(atom: np.ndarray) -> float:
        return NARROWEST_PAIR if narrow or id(atom) in pressed else WIDE

    # The model is the judge of one digit: each run of groups that may be one digit is read whole
    # (the whole ink as given when it is all one run), and a sure reading of something that looks
    # like a digit at all is never cut.
    doubtful = [i for i, cluster in enumerate(clusters)
                if in_pieces[i] or _across(cluster[0].atoms[0], height, False, narrowest(cluster[0].atoms[0]))]
    whole_sure = np.zeros(len(clusters))
    flagged_whole = np.zeros(len(clusters), bool)
    if doubtful:
        if len(clusters) == 1:
            inputs = [normalize_ink(ink) if whole is None else whole]
        else:
            inputs = [normalize_ink(_digit_ink(work, _cluster_mask(clusters[i]), width)[1]) for i in doubtful]
        probs, is_digit = read(np.stack(inputs))
        whole_sure[doubtful] = np.where(is_digit, probs.max(axis=1), 0.0)
        flagged_whole[doubtful] = ~np.asarray(is_digit, bool)
    # Ink much wider than one digit of its height is looked at for a cut even when read surely whole
    # (two touching loops read as an 8); a cut is then kept only if it reads surely as digits.
    wide = [_ratio(_cluster_mask(cluster)) > WIDE_FOR_ONE for cluster in clusters]
    # So is ink the digit counter (``train.counter``) takes for several digits: a 1 touching its
    # neighbour is no wider than many a single digit, and reads surely whole as the other one; and ink
    # the pair reader (``train.pairs``) is sure is two, where the counter is not sure it is one.
    several = np.full(len(clusters), -np.inf)
    paired_sure = np.zeros(len(clusters))
    if doubtful:
        several[doubtful] = count([_cluster_mask(clusters[i]) for i in doubtful])
        asked = [i for i in doubtful if several[i] > PAIR_ASKED]
        if asked:
            paired_sure[asked] = pair([_cluster_mask(clusters[i]) for i in asked])[:, PAIRS].sum(axis=1)
    # (Where the counter only leans to several, not where the pair reader is sure the ink is no pair: a 9
    # read surely whole, which the counter gives +0.7, was cut into a 6 and a 7.)
    wide = [w or bool(s > SURELY_SEVERAL or (s > 0 and p > PAIR_DENIES)) or p >= PAIR_SURE
            for w, s, p in zip(wide, several, paired_sure, strict=True)]
    # Per doubtful run, per group: the digits each run of its pieces (left to right, up to three)
    # would be read as, whole or, for one wide piece, cut across; then the partition of the group
    # into runs that the model is most sure of (the product of its confidences), by dynamic programming.
    runs = []
    for c, cluster in enumerate(clusters):
        for group in cluster:
            atoms = group.atoms
            options: dict[tuple[int, int], list[tuple[list[np.ndarray], bool]]] = {}
            ambiguous = (whole_sure[c] < WHOLE_SURE or wide[c]) and (len(atoms) > 1 or c in doubtful)
            for i in range(len(atoms) if ambiguous else 0):
                for j in range(i + 1, min(i + 3, len(atoms)) + 1):
                    merged = np.logical_or.reduce(atoms[i:j])
                    found = [([merged], False)] if _one_digit(merged, height) else []
                    if j == i + 1:
                        found += [(way, True) for way in _across(atoms[i], height, narrowest=narrowest(atoms[i]))]
                    if found:
                        options[i, j] = found
            runs.append((c, atoms, options, ambiguous))
    # The counter's log-odds that each piece to be cut across is several digits, not one, that each
    # digit of its cuts is (a cut that leaves part of one digit with the other is no good cut), and
    # that pieces read together as one digit are.
    counted = {}
    paired = {}  # the pieces cut across in two, which the pair reader reads whole
    cut_from: dict[int, int] = {}  # each part of a cut across a piece: that piece
    for _, atoms, options, _ in runs:
        for (i, j), found in options.items():
            for way, across in found:
                if across:
                    counted[id(atoms[i])] = atoms[i]
                    cut_from.update((id(part), id(atoms[i])) for part in way)
                    if len(way) == 2:
                        paired[id(atoms[i])] = atoms[i]
                if across or j > i + 1:
                    counted.update((id(part), part) for part in way)
    several_of = dict(zip(counted, np.clip(count(list(counted.values())), -9.0, 9.0), strict=True)) if counted else {}
    # Slices joined back into one digit: the pair reader's odds that they are one digit rather than two (the counter
    # takes a 2 with a 1 a hair from its foot for one digit; the pair reader reads 21).
    joined = {id(way[0]): way[0] for _, atoms, options, _ in runs for (i, j), found in options.items()
              for way, across in found if not across and j > i + 1
              and joins(atoms[i:j]) == j - i - 1}
    one_of: dict[int, float] = {}
    if joined:
        readings = pair(list(joined.values()))
        single, two = readings[:, :10].sum(axis=1), readings[:, PAIRS].sum(axis=1)
        one_of = dict(zip(joined, single / np.maximum(single + two, 1e-9), strict=True))
    pairs_of = dict(zip(paired, pair(list(paired.values())), strict=True)) if paired else {}
    inks = {id(part): _digit_ink(work, part, width)[1] for _, _, options, ambiguous in runs if ambiguous
            for found in options.values() for way, _ in found for part in way}
    keys = list(inks)
    sure: dict[int, float] = {}
    looks_like_digit: dict[int, bool] = {}
    read_as: dict[int, int] = {}
    if keys:
        confidences, verdicts, tops = _read([inks[k] for k in keys], read)
        sure = dict(zip(keys, confidences, strict=True))
        looks_like_digit = dict(zip(keys, verdicts, strict=True))
        read_as = dict(zip(keys, tops, strict=True))

    def pair_class(parts: list[np.ndarray]) -> int:
        """The pair reader's class of the pair two parts read as (-1 where a part is unread)."""
        first, second = read_as[id(parts[0])], read_as[id(parts[1])]
        return 10 + 10 * first + second if min(first, second) >= 0 else -1

    def pair_odds(parts: list[np.ndarray]) -> float:
        """The pair reader's probability for the pair a cut in two reads as (next to none where a part is unread)."""
        read_as_pair = pair_class(parts)
        return 1e-6 if read_as_pair < 0 else float(pairs_of[cut_from[id(parts[0])]][read_as_pair]) + 1e-6

    def agrees(parts: list[np.ndarray]) -> bool:
        """Whether ``parts`` are a cut in two of one piece that read as the pair the pair reader reads it as."""
        atom = cut_from.get(id(parts[0]), -1) if len(parts) == 2 else -1
        if atom not in pairs_of or cut_from.get(id(parts[1])) != atom or pair_class(parts) < 0:
            return False
        reading = pairs_of[atom]
        return bool(reading.argmax() == pair_class(parts) and reading.max() >= PAIR_AGREES)

    # Per piece cut across in two: the best of its cuts' pair odds, and whether it has a cut that reads as the
    # very pair the pair reader reads it as, each part one digit to the counter (then two digits, not three).
    best_pair: dict[int, float] = {}
    agreed: set[int] = set()
    for _, atoms, options, _ in runs:
        for (i, _), found in options.items():
            for way, across in found:
                if across and len(way) == 2:
                    best_pair[id(atoms[i])] = max(best_pair.get(id(atoms[i]), 0.0), pair_odds(way))
                    if agrees(way) and all(several_of[id(part)] <= 0 for part in way):
                        agreed.add(id(atoms[i]))

    def partition(atoms: list[np.ndarray], options: dict, c: int,
                  part_odds: bool = True) -> tuple[list[np.ndarray], float]:
        """The run of pieces ``atoms`` (of cluster ``c``) split into the digits the model is most sure of,
        with the priors, by dynamic programming: the parts (none where no split is possible) and the
        model's confidence in them alone. ``part_odds``: whether each part of a cut must also beat the
        counter's odds that it is several digits."""
        # (value with the priors, the parts, the model's confidence in them alone)
        best: list[tuple[float, list[np.ndarray], float]] = [(1.0, [], 1.0)] + [(-1.0, [], 0.0)] * len(atoms)
        for j in range(1, len(atoms) + 1):
            for i in range(max(0, j - 3), j):
                if best[i][0] < 0 or (i, j) not in options:
                    continue
                for way, cut in options[i, j]:
                    if cut and len(way) == 3 and id(atoms[i]) in agreed:
                        continue
                    # What the novelty detector calls no digit counts for half, and within one piece of
                    # ink (two touching digits read whole, a sliver of one) for little, however sure its
                    # top digit. Not so in a cut of a piece the counter is sure is several digits: the cut's
                    # ragged edges make a 1 look odd. (That piece's odds, not its whole run's: a run of
                    # several digits always is several, and a 0 in it was cut into a 6 the detector
                    # calls no digit and a 7.)
                    if cut and several_of[id(atoms[i])] > SURELY_SEVERAL:
                        flagged = 1.0
                    else:
                        flagged = NO_DIGIT * (FLAGGED if j == i + 1 else 1.0)
                    confidence = float(np.prod([sure[id(p)] * (1.0 if looks_like_digit[id(p)] else flagged)
                                                for p in way]))
                    # Joining slices of one piece back together is no merging of pieces apart, but its opposite: where
                    # the model reads a digit's slices as surely as the digit (a 2 in a 2 and a 7), it is one digit.
                    apart = j - i - 1 - 2 * joins(atoms[i:j])
                    if apart > 0 and several_of.get(id(way[0]), 0.0) < ONE_SURE:
                        apart = 0  # pieces apart the counter is sure are one digit (an open 4)
                    value = confidence * MERGE_ODDS ** apart
                    if j > i + 1:
                        value /= 1.0 + np.exp(several_of[id(way[0])])
                        value *= one_of.get(id(way[0]), 1.0)
                    whole = next((w[0] for w, across in options[i, j] if not across), None)
                    if cut:
                        # A cut across ink must also beat the counter's odds that it is one digit; less so
                        # where the novelty detector calls both the run read whole and this piece no digit.
                        odds = float(np.exp(several_of[id(atoms[i])]))
                        if part_odds:
                            value *= float(np.prod([1.0 / (1.0 + np.exp(several_of[id(p)])) for p in way]))
                        no_digit = flagged_whole[c] and whole is not None and not looks_like_digit[id(whole)]
                        value *= odds ** (FLAGGED_ODDS if no_digit else 1.0)
                        if len(way) == 2:
                            # The pair reader's odds for the pair this cut reads, against the best of the cuts'.
                            value *= (pair_odds(way) / best_pair[id(atoms[i])]) ** PAIR_WEIGHT
                    if best[i][0] * value > best[j][0]:
                        best[j] = (best[i][0] * value, best[i][1] + way, best[i][2] * confidence)
        return best[-1][1], (best[-1][2] if best[-1][1] else 1.0)

    def kept(c: int, parts: list[np.ndarray], surest: float) -> bool:
        """Whether the digits ``parts`` chosen for cluster ``c`` (the model this ``surest`` of them
        together) are kept as several digits rather than read as one input."""
        if len(parts) < 2:
            return True
        # Ink read surely whole as a digit (a wide 0 or 2) is cut only where its pieces read surer still,
        # unless the counter is sure it is several digits (a 4 with a 9 pressed into it reads surely as 4).
        doubted_whole = whole_sure[c] < WHOLE_SURE or several[c] > SURELY_SEVERAL or paired_sure[c] >= PAIR_SURE
        # (Less surely where the counter and the pair reader are both sure that ink which looks like a digit whole
        # is two digits, for a cut in two that looks like digits: a cut's ragged edge makes a 1 look odd.)
        both_sure = (several[c] > SURELY_SEVERAL and paired_sure[c] >= PAIR_SURE and not flagged_whole[c]
                     and len(parts) == 2 and all(looks_like_digit.get(id(p), False) for p in parts))
        sure_cut = wide[c] and surest >= (CUT_PAIRED if both_sure else CUT_SURE if doubted_whole else CUT_SURER)
        read_parts = [looks_like_digit[id(p)] for p in parts if id(p) in looks_like_digit]
        no_digits = bool(read_parts) and not any(read_parts)  # a cut into pieces none of which looks like a digit
        cut_across = any(id(p) in cut_from for p in parts)  # some part is cut across a piece
        # No digit, and no run of digits either (a letter); unless it is in pieces apart, none of them cut,
        # each surely a digit (a 7 written close to a 5, which the counter may take for one digit).
        surely_digits = (not cut_across
                         and all(looks_like_digit.get(id(p), False) and sure[id(p)] >= WHOLE_SURE for p in parts))
        one_thing = flagged_whole[c] and several[c] <= 0 and not surely_digits
        # Ink that is no digit read whole, cut across in two, one of which the model reads only weakly (an H cut
        # into a 1 and a doubtful 4): one thing, unless the pair reader reads the cut's very pair, or the counter
        # has no doubt it is several and the pair reader is sure it is two (an 8 touching a 6, cut into an 8 and
        # a 6 read at 78 %; letters the counter is as sure of, the pair reader mostly is not). (Not a longer run:
        # a number of touching digits with one odd cut is still a number.)
        beyond_doubt = several[c] > BEYOND_DOUBT and paired_sure[c] >= PAIR_SURE
        weak_cut = (flagged_whole[c] and len(parts) == 2 and cut_across and not beyond_doubt
                    and min(sure.get(id(p), 0.0) for p in parts) < WEAK_CUT)
        # All the ink in one run, no digit read whole, and half or more of its digits no digits either
        # (a letter cut into a digit-looking stroke and the rest, a doodle in pieces).
        mostly_no_digits = len(clusters) == 1 and flagged_whole[c] and bool(read_parts) and np.mean(read_parts) <= 0.5
        if agrees(parts):
            # A cut in two that reads as the very pair the pair reader reads the ink as (a 7 touching a 3 read
            # 73 by both, however odd the 3's cut edge looks to the novelty detector) is two digits.
            return True
        # Not read far more surely as several digits, or cut into pieces that are no digits at all (the top
        # arc of a 3 drawn so far), or one thing that is no digit, not a number: one input, whose novelty
        # then says what it is.
        return not (no_digits or one_thing or weak_cut or mostly_no_digits
                    or (surest < CUT_ODDS * whole_sure[c] and not sure_cut))

    def choose(part_odds: bool = True) -> tuple[list[list[np.ndarray]], np.ndarray]:
        """Each cluster's digits (its groups' partitions) and how sure the model is of them together."""
        chosen: list[list[np.ndarray]] = [[] for _ in clusters]
        surest = np.ones(len(clusters))
        for c, atoms, options, ambiguous in runs:
            if whole_sure[c] >= WHOLE_SURE and not wide[c]:
                chosen[c] = [_cluster_mask(clusters[c])]
                continue
            if not ambiguous:
                chosen[c].append(np.logical_or.reduce(atoms))
                continue
            parts, confidence = partition(atoms, options, c, part_odds)
            chosen[c] += parts or [np.logical_or.reduce(atoms)]
            surest[c] *= confidence
        return chosen, surest

    chosen, surest = choose()
    fallback = None  # the cuts the model alone is surest of, made only where they are needed
    digits = []
    for c, parts in enumerate(chosen):
        if not kept(c, parts, surest[c]):
            parts = [_cluster_mask(clusters[c])]
            if several[c] > SURELY_SEVERAL and paired_sure[c] >= PAIR_SURE:
                # Ink both the counter and the pair reader are sure is several digits, whose likeliest cut
                # the model doubts: the cut it is surest of, whatever the counter makes of each part (a 4
                # pressed into a 4 leaves the second with a stub of the first, which the counter takes for two).
                fallback = fallback or choose(part_odds=False)
                if kept(c, fallback[0][c], fallback[1][c]):
                    parts = fallback[0][c]
        digits += [digit_at(part) for part in parts]
    return digits


def number_inputs(ink: np.ndarray, read: Read,
                  finer: Callable[[], np.ndarray] | None = None) -> list[tuple[tuple[int, int, int, int], np.ndarray]]:
    """Each digit's box and its 28x28 model input, left to right.

    One digit is normalised from the whole ink, exactly as a single digit always was; several
    each from their own ink, read once more together: where most look like no digit, or where they
    are stripes across the image, the whole ink is one input after all. ``finer``: as ``find_digits``.
    Raises ``NoDigitFound`` for a blank image.
    """
    whole = normalize_ink(ink)
    digits = find_digits(ink, read, whole, finer)
    if len(digits) == 1:
        return [(digits[0].box, whole)]
    inputs = []
    for digit in digits:
        try:
            inputs.append((digit.box, normalize_ink(digit.ink)))
        except NoDigitFound:
            continue  # a cut left too little ink to read: nothing was written there
    if not inputs:
        raise NoDigitFound()
    if len(inputs) == 1:
        return inputs
    # Stripes across the image (or cut by its edge, or more of them than a number has digits), or pieces most
    # of which look like no digit (the letters of a word, the blobs of a texture, a doodle's parts), are no
    # number: the whole ink is one input, whose novelty says what it is. (Not stripes of ink that read surely
    # as digits, and not all as one: a tight crop of a number whose digits are as tall as one another.)
    boxes = np.array([box for box, _ in inputs])
    probs, is_digit = read(np.stack([x for _, x in inputs]))
    is_digit = np.asarray(is_digit, bool)
    surely = _surely_digits(probs.max(axis=1), is_digit)
    stripes = _stripes(boxes.tolist(), ink.shape) and not (
        surely.mean() >= SURE_DIGITS and len(set(probs.argmax(axis=1)[surely])) > 1)
    if not stripes and np.mean(~is_digit) <= NO_NUMBER:
        return inputs
    return [((int(boxes[:, 0].min()), int(boxes[:, 1].min()), int(boxes[:, 2].max()), int(boxes[:, 3].max())), whole)]


def number_object(boxes: list[tuple[int, int, int, int]], results: list[dict[str, Any]]) -> dict[str, Any]:
    """The digits' prediction objects as one (DESIGN.md "Numbers"): ``text`` (their top-1 digits, left to
    right), ``digits`` (each object with its ``box``), and at the top the first digit's fields."""
    digits = [{"box": [int(v) for v in box], **result} for box, result in zip(boxes, results, strict=True)]
    return {**results[0], "text": "".join(str(result["top"][0]["digit"]) for result in results), "digits": digits}
