"""Numbers written in a printed form's boxes, read as the app reads an upload: ``python -m train.forms``.

People write numbers into forms (a postcode, an amount, a date), one digit to a box. A form's lines
are ink to a reader that does not know them: they join the digits into one piece, read as 1s, or
frame a single digit in a square. ``models.preprocess`` paints them out (``_unframed``); this
measures how many numbers are read whole in each kind of field (``FIELDS``): MNIST *test* digits in
blue ink, one to a cell, each 85-115 % of its cell and off its centre by up to a tenth of it, in
lines 1-3 px thick, photographed (JPEG). Seeded; a field's random choices do not depend on its kind,
so the same seed writes the same digits in the same places in every field ("blank" is plain paper).
"""

from __future__ import annotations

import argparse
import io
import sys

import numpy as np

FIELDS = ("comb", "comb-light", "cells", "open-comb-light", "cells-light-turned", "box", "line", "line-light", "blank",
          "line-turned")
BLACK, LIGHT_BLUE = (30, 30, 30), (150, 170, 230)  # RGB: printed black, and a form's drop-out blue
INK = np.array([40, 40, 160], np.float32)  # a blue pen
TURN = 2.0  # degrees a "-turned" field is photographed askew, at most


def form_number(digits: list[np.ndarray], field: str, rng: np.random.Generator) -> bytes:
    """A JPEG of ``digits`` (MNIST 28x28) written one to a cell of ``field`` (``FIELDS``): a box with comb
    ticks rising a third of its height from its bottom ("comb"), a row of cells, ticks on a line alone
    ("open-comb"), one box (for one digit), a line to write on alone (running a little past the cells), or
    blank paper; "-light" printed in light blue, "-turned" photographed up to 2 degrees askew."""
    import cv2
    from PIL import Image

    cells = len(digits)
    cell, line = int(rng.integers(60, 120)), int(rng.integers(1, 4))
    sizes = [int(cell * rng.uniform(0.85, 1.15)) for _ in digits]
    shifts = rng.integers(-(cell // 10), cell // 10 + 1, size=(cells, 2))
    turn = rng.uniform(-TURN, TURN)
    page = np.full((cell + 80, cell * cells + 80, 3), 250, np.uint8)
    left, top, right, bottom = 40, 40, 40 + cell * cells, 40 + cell
    colour = LIGHT_BLUE if "light" in field else BLACK
    if field.startswith("line"):
        cv2.line(page, (left - 30, bottom), (right + 30, bottom), colour, line)
    elif field.startswith("open-comb"):
        cv2.line(page, (left, bottom), (right, bottom), colour, line)
        for j in range(cells + 1):
            cv2.line(page, (left + cell * j, bottom - cell // 3), (left + cell * j, bottom), colour, line)
    elif field != "blank":
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
            np.minimum(area, area * (1 - strength) + INK * strength))
    if field.endswith("turned"):
        height, width = page.shape[:2]
        page = cv2.warpAffine(page, cv2.getRotationMatrix2D((width / 2, height / 2), turn, 1.0), (width, height),
                              borderValue=(250, 250, 250))
    buffer = io.BytesIO()
    Image.fromarray(page).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    """Read numbers of 2-5 digits written in each kind of form field (and single digits in a box) through
    the app's pipeline, and print how many are read whole and how many are called not a digit."""
    from models.preprocess import DigitInputError, image_ink, load_image
    from models.segment import number_inputs
    from train.numbers import model_and_test_digits

    parser = argparse.ArgumentParser(prog="python -m train.forms", description=main.__doc__)
    parser.add_argument("--count", type=int, default=30, help="numbers of each field")
    parser.add_argument("--seed", type=int, default=5)
    args, model, x_test, y_test = model_and_test_digits(parser, argv)
    print(f"{'field':<20}{'numbers':>8}{'read whole':>12}{'not a digit':>13}")
    for field in FIELDS:
        rng = np.random.default_rng([args.seed, FIELDS.index(field)])
        right = flagged = 0
        for _ in range(args.count):
            picks = rng.choice(len(x_test), 1 if field == "box" else int(rng.integers(2, 6)), replace=False)
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
