"""Settings from environment variables, read once when the app is created."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from models import DEFAULT_MODEL_PATH
from models.preprocess import MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS

PREFIX = "DIGIT_INSPECTOR_"


class SettingsError(ValueError):
    """An environment variable holds a value the app cannot use; the message names it."""


def _integer(environ: Mapping[str, str], name: str, default: int) -> int:
    text = environ.get(PREFIX + name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise SettingsError(f"{PREFIX}{name} must be a whole number, not {text!r}.") from None
    if value <= 0:
        raise SettingsError(f"{PREFIX}{name} must be positive, not {value}.")
    return value


def _flag(environ: Mapping[str, str], name: str) -> bool:
    return environ.get(PREFIX + name, "").strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Settings:
    model_path: Path = DEFAULT_MODEL_PATH
    max_upload_bytes: int = MAX_IMAGE_BYTES  # checked before an image is decoded
    max_image_pixels: int = MAX_IMAGE_PIXELS  # width x height, read from the header before decoding
    debug: bool = False
    host: str = "127.0.0.1"
    port: int = 8050
    tensorflow_threads: int = 1  # per op, in each process: under gunicorn, scale with workers instead

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """DIGIT_INSPECTOR_MODEL, _MAX_BYTES, _MAX_PIXELS, _DEBUG, _HOST, _PORT, _TF_THREADS; unset ones keep
        the defaults."""
        return cls(
            model_path=Path(environ.get(PREFIX + "MODEL") or DEFAULT_MODEL_PATH),
            max_upload_bytes=_integer(environ, "MAX_BYTES", MAX_IMAGE_BYTES),
            max_image_pixels=_integer(environ, "MAX_PIXELS", MAX_IMAGE_PIXELS),
            debug=_flag(environ, "DEBUG"),
            host=environ.get(PREFIX + "HOST") or "127.0.0.1",
            port=_integer(environ, "PORT", 8050),
            tensorflow_threads=_integer(environ, "TF_THREADS", 1),
        )
