"""Command line: ``python -m models predict IMAGE [IMAGE ...] [--model PATH_OR_NAME] [--layer NAME] --json``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from models import DEFAULT_MODEL_PATH, MODELS_DIR
from models.methods import DEFAULT_METHOD, METHOD_NAMES, needs_layer
from models.preprocess import DigitInputError, image_ink, load_image
from models.segment import number_inputs, number_object


def _predict_file(model, path: Path, args: argparse.Namespace) -> dict:
    try:
        data = path.read_bytes()
    except OSError as exc:
        return {"file": str(path), "error": f"cannot read the file: {exc.strerror or exc}"}
    try:
        found = number_inputs(image_ink(load_image(data)), model.read)
    except DigitInputError as exc:
        return {"file": str(path), "error": str(exc)}
    results = model.predict_batch(np.stack([digit for _, digit in found]), layer=args.layer, method=args.method,
                                  class_index=args.digit)
    return {"file": str(path), **number_object([box for box, _ in found], results)}


def _summary(result: dict) -> str:
    if "error" in result:
        return f"{result['file']}: error: {result['error']}"
    if len(result["digits"]) > 1:
        def flagged(d: dict) -> bool:
            return bool(d.get("novelty")) and not d["novelty"]["is_digit"]

        read = "; ".join(f"{d['top'][0]['digit']} {d['top'][0]['probability']:.1%}"
                         + (" not a digit" if flagged(d) else "") for d in result["digits"])
        if all(flagged(d) for d in result["digits"]):
            return f"{result['file']}: not a digit (none of its {len(result['digits'])} pieces looks like one); " \
                   f"closest: {result['text']} ({read})"
        return f"{result['file']}: {result['text']} ({read})"
    top = ", ".join(f"{t['digit']} ({t['probability']:.1%})" for t in result["top"])
    explanation = result["explanation"]
    note = " (map is empty)" if explanation["empty"] else ""
    where = f" at {explanation['layer']}" if explanation["layer"] else ""  # None: a pixel-level method
    novelty = result.get("novelty")
    if novelty and not novelty["is_digit"]:
        top = f"not a digit (novelty {novelty['score']:.3g} > {novelty['threshold']:.3g}); closest: {top}"
    return f"{result['file']}: {top}; {explanation['method']}{where}{note}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models", description="Digit Inspector command line.")
    commands = parser.add_subparsers(dest="command", required=True)
    predict = commands.add_parser("predict", help="read digits (or numbers) from image files and explain the answer")
    predict.add_argument("images", nargs="+", type=Path, metavar="IMAGE")
    predict.add_argument("--model", default=str(DEFAULT_MODEL_PATH), metavar="PATH_OR_NAME",
                         help=f"a .keras or .h5 model file, or the name of one in {MODELS_DIR} (e.g. seed_cnn)")
    predict.add_argument("--layer", default=None, help="conv layer to explain (default: the last one)")
    predict.add_argument("--method", default=DEFAULT_METHOD, choices=METHOD_NAMES)
    predict.add_argument("--class", dest="digit", type=int, default=None,
                         help="digit to explain (default: the top-1 answer)")
    predict.add_argument("--json", action="store_true", help="one JSON object per image, one per line")
    args = parser.parse_args(argv)

    from models.catalog import resolve_model
    from models.inference import DigitModel, ModelLoadError

    try:
        model = DigitModel.load(resolve_model(args.model))
        if needs_layer(args.method):  # a pixel-level method accepts and ignores --layer
            model.check_layer(args.layer)
        model.check_class(args.digit)
    except (ModelLoadError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    failed = False
    for path in args.images:
        result = _predict_file(model, path, args)
        failed |= "error" in result
        print(json.dumps(result) if args.json else _summary(result), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
