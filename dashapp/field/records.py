"""What a field record is made of, from a prediction object and what was sent: no database here."""

from __future__ import annotations

import hashlib
import io
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

LABELS = [str(digit) for digit in range(10)] + ["not a digit"]  # the 11 rows and columns of the matrix
NOT_A_DIGIT = 10
SOURCES = ("canvas", "upload", "api", "example")
THUMBNAIL_SIZE = 64  # pixels a side at most: enough to recognise the drawing, small enough to keep
MAX_STROKES_CHARS = 100_000  # a drawing's SVG paths beyond this are not kept (the thumbnail still is)
HOW_TO_LABEL = 'label must be a digit from 0 to 9 or "not a digit"'


class FieldInputError(ValueError):
    """A field that cannot be used (a label out of range, an unknown id...); the message says what to send."""


def parse_label(value: object) -> int:
    """A person's label: 0-9, or 10 for "not a digit" (as the text, or 10 itself in stored form)."""
    if isinstance(value, bool) or value is None:
        raise FieldInputError(f"{HOW_TO_LABEL}; none was sent." if value is None else f"{HOW_TO_LABEL}.")
    text = str(value).strip().lower().replace("-", " ").replace("_", " ")
    if text == "not a digit":
        return NOT_A_DIGIT
    if len(text) == 1 and text in "0123456789":
        return int(text)
    shown = str(value)[:40]
    raise FieldInputError(f"{HOW_TO_LABEL}, not {shown!r}.")


def parse_record_id(value: object) -> int:
    text = str(value if value is not None else "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise FieldInputError(f"id must be the whole number a recorded prediction carries, not {text[:40]!r}.")
    return int(text)


def answer_of(prediction: dict[str, Any]) -> int:
    """The model's answer as a column of the matrix: its top digit, or "not a digit" when its novelty
    detector says so (predictions made before the detector have no ``novelty``)."""
    novelty = prediction.get("novelty")
    if novelty and novelty.get("is_digit") is False:
        return NOT_A_DIGIT
    return int(prediction["top"][0]["digit"])


def input_bytes(digit: np.ndarray | list) -> bytes:
    grid = np.asarray(digit, dtype=np.float32).reshape(28, 28)
    return grid.tobytes()


def input_array(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype=np.float32).reshape(28, 28)


def thumbnail_png(picture: Image.Image | np.ndarray) -> bytes:
    """A PNG of at most 64 px a side: of the image as sent, or of a grid of [0, 1] floats (white ink on black)."""
    if isinstance(picture, np.ndarray):
        picture = Image.fromarray(np.clip(np.asarray(picture, np.float32) * 255 + 0.5, 0, 255).astype(np.uint8))
    if picture.mode not in ("L", "RGB", "RGBA"):
        picture = picture.convert("RGBA" if "transparency" in picture.info or "A" in picture.getbands() else "RGB")
    factor = -(-max(picture.size) // THUMBNAIL_SIZE)  # box-averaging by a whole factor: fast, and enough here
    picture = picture.reduce(factor) if factor > 1 else picture
    buffer = io.BytesIO()
    picture.save(buffer, "PNG", optimize=False, compress_level=1)
    return buffer.getvalue()


def thumbnail_of_bytes(data: bytes) -> bytes:
    """The thumbnail of an image file already checked by the prediction (first frame of an animation)."""
    with Image.open(io.BytesIO(data)) as picture:
        picture.draft("RGB", (THUMBNAIL_SIZE * 2, THUMBNAIL_SIZE * 2))  # JPEG: decode at a reduced size
        picture.seek(0)
        return thumbnail_png(picture)


def strokes_json(strokes: list[str] | None) -> str | None:
    if not strokes:
        return None
    text = json.dumps([str(path) for path in strokes])
    return text if len(text) <= MAX_STROKES_CHARS else None


@lru_cache(maxsize=32)
def _sha256(path: str, size: int, modified: float) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    """The model file's SHA-256, computed once per version of the file."""
    stat = path.stat()
    return _sha256(str(path), stat.st_size, stat.st_mtime)


def new_record(prediction: dict[str, Any], model: str, model_sha256: str, source: str, thumbnail: bytes,
               strokes: list[str] | None = None, label: int | None = None) -> dict[str, Any]:
    """The column values of a record (without its id and times)."""
    if source not in SOURCES:
        raise FieldInputError(f"source must be one of {', '.join(SOURCES)}, not {source!r}.")
    novelty = prediction.get("novelty") or {}
    top = [{"digit": int(t["digit"]), "probability": float(t["probability"])} for t in prediction["top"]]
    return {
        "model": model, "model_sha256": model_sha256, "source": source,
        "input": input_bytes(prediction["input"]), "thumbnail": thumbnail, "strokes": strokes_json(strokes),
        "top": json.dumps(top), "top_digit": top[0]["digit"], "confidence": top[0]["probability"],
        "answer": answer_of(prediction),
        "novelty_is_digit": novelty.get("is_digit"), "novelty_score": novelty.get("score"),
        "novelty_threshold": novelty.get("threshold"), "novelty_detector": novelty.get("detector"),
        "label": label,
    }
