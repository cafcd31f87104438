"""Numbers written in a printed form's boxes, or on a sheet photographed lying on a table, read as the app
reads an upload: ``python -m train.forms``.

People write numbers into forms (a postcode, an amount, a date), one digit to a box. A form's lines
are ink to a reader that does not know them: they join the digits into one piece, read as 1s, or
frame a single digit in a square. ``models.preprocess`` paints them out (``_unframed``); this
measures how many numbers are read whole in each kind of field (``FIELDS``): MNIST *test* digits in
blue ink, one to a cell, each 85-115 % of its cell and off its centre by up to a tenth of it, in
lines 1-3 px thick, photographed (JPEG). Seeded; a field's random choices do not depend on its kind,
so the same seed writes the same digits in the same places in every field ("blank" is plain paper).

The ``TABLE_FIELDS`` photograph plain paper lying on a table, the way a phone sees a note on a desk: a
yellow sticky note or a white page, turned, on dark wood, a grey desk or light wood, lit unevenly, the
table round it most of the photo's border. The table is darker than the paper but lighter than ink:
``models.preprocess`` paints it the paper's tone (``_off_table``) where it would otherwise take the
table for the paper and the sheet for ink. The "-aslant" ones are photographed at an angle: the sheet is a
trapezoid, not a rectangle.

The "held" fields photograph the paper held in a hand, a thumb reaching in from the photo's edge beside
the writing: a solid shape far thicker than any stroke, which took the digit's place (``_without_intruders``).

The ``SHADOW_FIELDS`` photograph plain paper with a shadow across it (a phone held over the page), a
number or one digit in pen, or one digit in a light pencil: the shadow is as dark as the ink, so the
shadow was taken for the ink (or the lit paper for ink) where ``models.preprocess`` did not look for it.
"""

from __future__ import annotations

import argparse
import io
import sys

import numpy as np

FIELDS = ("comb", "comb-light", "cells", "open-comb-light", "cells-light-turned", "box", "line", "line-light", "blank",
          "line-turned", "note", "note-one", "page-on-table", "page-on-light-table", "shadow", "shadow-one",
          "shadow-pencil-one", "page-aslant", "note-aslant-one", "held", "held-one")
NOTE, PAGE = (250, 235, 120), (245, 245, 240)  # RGB: a yellow sticky note, a white page
TABLE_FIELDS = {"note": (NOTE, (90, 60, 40)), "note-one": (NOTE, (70, 80, 90)), "page-on-table": (PAGE, (70, 80, 90)),
                "page-on-light-table": (PAGE, (170, 150, 120)), "page-aslant": (PAGE, (90, 60, 40)),
                "note-aslant-one": (NOTE, (70, 80, 90))}  # the sheet's colour, the table's
ASLANT = 0.25  # the "-aslant" fields' sheets are photographed at an angle: each corner moved in up to this share of it
SHADOW_FIELDS = ("shadow", "shadow-one", "shadow-pencil-one")  # blank paper, a shadow across it (``in_shadow``)
HELD_FIELDS = ("held", "held-one")  # blank paper held by a thumb (``held``)
PLAIN = ("blank", *TABLE_FIELDS, *SHADOW_FIELDS, *HELD_FIELDS)  # fields of paper with nothing printed on it
SINGLE = ("box", "note-one", "shadow-one", "shadow-pencil-one", "note-aslant-one",
          "held-one")  # fields that hold one digit
BLACK, LIGHT_BLUE = (30, 30, 30), (150, 170, 230)  # RGB: printed black, and a form's drop-out blue
INK = np.array([40, 40, 160], np.float32)  # a blue pen
PENCIL = np.array([150, 150, 155], np.float32)  # a soft pencil, pressed lightly
TURN = 2.0  # degrees a "-turned" field is photographed askew, at most


def form_number(digits: list[np.ndarray], field: str, rng: np.random.Generator) -> bytes:
    """A JPEG of ``digits`` (MNIST 28x28) written one to a cell of ``field`` (``FIELDS``): a box with comb
    ticks rising a third of its height from its bottom ("comb"), a row of cells, ticks on a line alone
    ("open-comb"), one box (for one digit), a line to write on alone (running a little past the cells), or
    blank paper; "-light" printed in light blue, "-turned" photographed up to 2 degrees askew; the
    ``TABLE_FIELDS``, blank paper lying on a table (``on_table``), "-aslant" photographed at an angle; the
    ``SHADOW_FIELDS``, blank paper with a shadow across it (``in_shadow``, "-pencil" written in pencil); "held",
    blank paper held by a thumb (``held``)."""
    import cv2
    from PIL import Image

    cells = len(digits)
    cell, line = int(rng.integers(60, 120)), int(rng.integers(1, 4))
    sizes = [int(cell * rng.uniform(0.85, 1.15)) for _ in digits]
    shifts = rng.integers(-(cell // 10), cell // 10 + 1, size=(cells, 2))
    turn = rng.uniform(-TURN, TURN)
    page = np.full((cell + 80, cell * cells + 80, 3), 250, np.uint8)
    ink = PENCIL if "pencil" in field else INK
    left, top, right, bottom = 40, 40, 40 + cell * cells, 40 + cell
    colour = LIGHT_BLUE if "light" in field else BLACK
    if field.startswith("line"):
        cv2.line(page, (left - 30, bottom), (right + 30, bottom), colour, line)
    elif field.startswith("open-comb"):
        cv2.line(page, (left, bottom), (right, bottom), colour, line)
        for j in range(cells + 1):
            cv2.line(page, (left + cell * j, bottom - cell // 3), (left + cell * j, bottom), colour, line)
    elif field not in PLAIN:
        cv2.rectangle(page, (left, top), (right, bottom), colour, line)
        for j in range(1, cells):
            cv2.line(page, (left + cell * j, top if field.startswith("cells") else bottom - cell // 3),
                     (left + cell * j, bottom), colour, line)
    for j, (digit, size) in enumerate(zip(digits, sizes, strict=True)):
        x = max(0, left + cell * j + (cell - size) // 2 + int(shifts[j, 0]))
        y = max(0, top + (cell - size) // 2 + int(shifts[j, 1]))
        strength = np.clip(cv2.resize(digit, (size, size), interpolation=cv2.INTER_CUBIC), 0, 255)[..., None] / 255.0
        strength = strength[:page.shape[0] - y, :page.shape[1] - x]
        area = page[y:y + strength.shape[0], x:x + strength.shape[1]].astype(np.float32)
        page[y:y + strength.shape[0], x:x + strength.shape[1]] = np.uint8(
            np.minimum(area, area * (1 - strength) + ink * strength))
    if field.endswith("turned"):
        height, width = page.shape[:2]
        page = cv2.warpAffine(page, cv2.getRotationMatrix2D((width / 2, height / 2), turn, 1.0), (width, height),
                              borderValue=(250, 250, 250))
    if field in TABLE_FIELDS:
        page = on_table(page, *TABLE_FIELDS[field], rng, ASLANT if "aslant" in field else 0.0)
    if field in SHADOW_FIELDS:
        page = in_shadow(page, rng)
    if field in HELD_FIELDS:
        page = held(page, rng)
    buffer = io.BytesIO()
    Image.fromarray(page).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def on_table(page: np.ndarray, paper: tuple, table: tuple, rng: np.random.Generator, aslant: float = 0.0) -> np.ndarray:
    """``page`` (RGB, written on paper of tone 250) as a sheet of ``paper`` colour lying on a ``table`` of that
    colour (grained), turned up to 12 degrees, 1.3-2 times smaller than the photo each way and anywhere in it,
    lit unevenly (up to 20 % brighter or darker across the photo); photographed at an angle where ``aslant``
    (a trapezoid: each of the sheet's corners moved towards its middle by up to that share of its sides)."""
    import cv2

    margin = int(rng.integers(20, 60))
    sheet = cv2.copyMakeBorder(page, margin, margin, margin, margin, cv2.BORDER_CONSTANT, value=(250, 250, 250))
    sheet = sheet.astype(np.float32) * (np.float32(paper) / 250.0)
    photo_h, photo_w = (int(side * rng.uniform(1.3, 2.0)) for side in sheet.shape[:2])
    grain = cv2.GaussianBlur(rng.normal(0, 1, (photo_h, photo_w)).astype(np.float32), (0, 0), 2.0) * 25.0
    photo = np.float32(table) + grain[..., None]
    centre = (rng.uniform(0.35, 0.65) * photo_w, rng.uniform(0.35, 0.65) * photo_h)
    move = cv2.getRotationMatrix2D((sheet.shape[1] / 2, sheet.shape[0] / 2), rng.uniform(-12, 12), 1.0)
    move[:, 2] += (centre[0] - sheet.shape[1] / 2, centre[1] - sheet.shape[0] / 2)
    if aslant:
        height, width = sheet.shape[:2]
        corners = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
        inward = np.float32([[1, 1], [-1, 1], [-1, -1], [1, -1]]) * rng.uniform(0, aslant, (4, 2)) * [width, height]
        view = np.vstack([move, [0, 0, 1]]) @ cv2.getPerspectiveTransform(corners, np.float32(corners + inward))
        placed = cv2.warpPerspective(sheet, view, (photo_w, photo_h))
        cover = cv2.warpPerspective(np.ones(sheet.shape[:2], np.float32), view, (photo_w, photo_h))[..., None]
    else:
        placed = cv2.warpAffine(sheet, move, (photo_w, photo_h))
        cover = cv2.warpAffine(np.ones(sheet.shape[:2], np.float32), move, (photo_w, photo_h))[..., None]
    photo = placed + (1.0 - cover) * photo
    ys, xs = np.mgrid[0:photo_h, 0:photo_w] / max(photo_h, photo_w)
    light = 1.0 + rng.uniform(-0.2, 0.2) * (xs - 0.5) + rng.uniform(-0.2, 0.2) * (ys - 0.5)
    return np.uint8(np.clip(photo * light[..., None], 0, 255))


def in_shadow(page: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``page`` (RGB) photographed with a shadow across it, the way a phone held over paper casts one: the
    paper on one side of a line, anywhere across the photo at any angle, 25-45 % darker, the shadow's edge
    soft over 2-8 % of the photo's longer side; and the light falling off by up to 15 % across the photo."""
    import cv2

    height, width = page.shape[:2]
    ys, xs = np.mgrid[0:height, 0:width] / max(height, width)
    angle = rng.uniform(0, 2 * np.pi)
    across = np.cos(angle) * (xs - xs.mean()) + np.sin(angle) * (ys - ys.mean()) - rng.uniform(-0.25, 0.25)
    shade = 1.0 - rng.uniform(0.25, 0.45) / (1.0 + np.exp(-across / rng.uniform(0.02, 0.08)))
    light = shade * (1.0 + rng.uniform(-0.15, 0.15) * (xs - 0.5) + rng.uniform(-0.15, 0.15) * (ys - 0.5))
    grain = cv2.GaussianBlur(rng.normal(0, 1, (height, width)).astype(np.float32), (0, 0), 1.0) * 3.0
    return np.uint8(np.clip(page.astype(np.float32) * light[..., None] + grain[..., None], 0, 255))


def held(page: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``page`` (RGB) photographed held in a hand: a thumb (a skin-coloured oval, softly shaded) reaching in
    from a side or a corner, clear of the writing, over 4-15 % of the photo."""
    import cv2

    height, width = page.shape[:2]
    out = page.astype(np.float32)
    for _ in range(200):  # a thumb that leaves the writing alone (the last one tried if none does)
        thumb = np.zeros((height, width), np.uint8)
        side, along = int(rng.integers(8)), rng.uniform(0.2, 0.8)  # a corner, or a point along a side
        cx = (0, width, 0, width, int(along * width), int(along * width), 0, width)[side]
        cy = (0, 0, height, height, 0, height, int(along * height), int(along * height))[side]
        axes = (int(rng.uniform(0.12, 0.25) * width), int(rng.uniform(0.2, 0.4) * height))
        cv2.ellipse(thumb, (cx, cy), axes, rng.uniform(0, 180), 0, 360, 1, -1)
        share = thumb.mean()
        if 0.04 <= share <= 0.15 and not (thumb.astype(bool) & (page.min(axis=2) < 200)).any():
            break
    skin = np.float32(rng.choice([(225, 180, 150), (190, 140, 110), (140, 95, 70), (95, 65, 50)]))
    shade = cv2.GaussianBlur(thumb.astype(np.float32), (0, 0), 6.0)[..., None]
    out = out * (1 - shade) + skin * shade * (0.85 + 0.15 * shade)
    return np.uint8(np.clip(out, 0, 255))


def main(argv: list[str] | None = None) -> int:
    """Read numbers of 2-5 digits written in each kind of form field (and single digits in a box) through
    the app's pipeline, and print how many are read whole and how many are called not a digit."""
    from models.preprocess import DigitInputError, image_ink, load_image
    from models.segment import number_inputs
    from train.numbers import model_and_test_digits

    parser = argparse.ArgumentParser(prog="python -m train.forms", description=main.__doc__)
    parser.add_argument("--count", type=int, default=30, help="numbers of each field")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--fields", default=",".join(FIELDS), help="the fields to read, comma-separated")
    args, model, x_test, y_test = model_and_test_digits(parser, argv)
    print(f"{'field':<20}{'numbers':>8}{'read whole':>12}{'not a digit':>13}")
    for field in args.fields.split(","):
        rng = np.random.default_rng([args.seed, FIELDS.index(field)])
        right = flagged = 0
        for _ in range(args.count):
            picks = rng.choice(len(x_test), 1 if field in SINGLE else int(rng.integers(2, 6)), replace=False)
            data = form_number([x_test[i] for i in picks], field, rng)
            try:
                found = number_inputs(image_ink(load_image(data)), model.read)
            except DigitInputError:
                continue
            probabilities, is_digit = model.read(np.stack([x for _, x in found]))
            right += "".join(str(int(p.argmax())) for p in probabilities) == "".join(str(y_test[i]) for i in picks)
            flagged += not is_digit[0]
        print(f"{field:<20}{args.count:>8}{right / args.count:>12.1%}{flagged / args.count:>13.1%}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
