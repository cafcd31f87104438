"""Settings from environment variables, read once when the app is created."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from models import DEFAULT_MODEL_NAME, DEFAULT_MODEL_PATH, MODELS_DIR
from models.catalog import is_path, model_files
from models.inference import FAITHFULNESS_PRECISIONS
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


def _choice(environ: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    """One of ``choices`` (the first when unset)."""
    text = environ.get(PREFIX + name, "").strip().lower()
    if text and text not in choices:
        raise SettingsError(f"{PREFIX}{name} must be one of {', '.join(choices)}, not {text!r}.")
    return text or choices[0]


def _retention(environ: Mapping[str, str]) -> int:
    """DIGIT_INSPECTOR_FIELD_RETENTION_DAYS: 0 or unset keeps records for ever."""
    text = environ.get(PREFIX + "FIELD_RETENTION_DAYS", "").strip()
    return 0 if text in ("", "0") else _integer(environ, "FIELD_RETENTION_DAYS", 0)


MAX_MODEL_BYTES = 50_000_000
DEFAULT_CACHE_DIR = Path.home() / ".cache" / "digit-inspector"
FIELD_MODES = ("feedback", "all", "off")  # DIGIT_INSPECTOR_FIELD: which predictions become field records
# SQLite next to the code by default, so that `make run` needs no set-up (instance/ is not tracked).
DEFAULT_DATABASE_URL = "sqlite:///" + str(Path(__file__).resolve().parents[1] / "instance" / "field.db")


def _default_model(environ: Mapping[str, str], models_dir: Path) -> Path:
    """DIGIT_INSPECTOR_MODEL: a path to a model file, or the name of one in the models folder."""
    value = environ.get(PREFIX + "MODEL", "").strip()
    if value and is_path(value):
        return Path(value)
    files = model_files(models_dir)
    if value and value not in files:
        raise SettingsError(f"{PREFIX}MODEL names {value!r}, but {models_dir} has no {value}.keras or {value}.h5: "
                            f"name one of {', '.join(files) or 'none'}, or give the path of a model file.")
    if not value and DEFAULT_MODEL_NAME not in files and files:
        return next(iter(files.values()))  # a models folder without digit_cnn: its first model
    return files.get(value or DEFAULT_MODEL_NAME, models_dir / f"{DEFAULT_MODEL_NAME}.keras")


@dataclass(frozen=True)
class Settings:
    model_path: Path = DEFAULT_MODEL_PATH  # the default model's file (DIGIT_INSPECTOR_MODEL)
    max_upload_bytes: int = MAX_IMAGE_BYTES  # checked before an image is decoded
    max_image_pixels: int = MAX_IMAGE_PIXELS  # width x height, read from the header before decoding
    debug: bool = False
    host: str = "127.0.0.1"
    port: int = 8050
    tensorflow_threads: int = 1  # per op, in each process: under gunicorn, scale with workers instead
    models_dir: Path = MODELS_DIR  # every *.keras and *.h5 in it is offered, named by its stem
    max_loaded: int = 4  # models each process keeps in memory, least recently used dropped first
    model_uploads: bool = False  # whether .keras files may be uploaded into models_dir
    max_model_bytes: int = MAX_MODEL_BYTES
    cache_dir: Path = DEFAULT_CACHE_DIR  # evaluation reports of models in a read-only models_dir
    faithfulness_precision: str = "auto"  # how the faithfulness curves are scored: auto, float32 or bfloat16
    field_mode: str = "feedback"  # DIGIT_INSPECTOR_FIELD: feedback, all or off (DESIGN.md "Field data")
    database_url: str = DEFAULT_DATABASE_URL  # where field records are kept (SQLAlchemy URL)
    admin_token: str = ""  # DIGIT_INSPECTOR_ADMIN_TOKEN: the Bearer token of the field data's admin routes
    admin_required: bool = False  # set by dashapp.wsgi: under gunicorn the field data needs the token
    field_retention_days: int = 0  # field records older than this are deleted; 0 keeps them

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """DIGIT_INSPECTOR_MODEL, _MODELS, _MAX_LOADED, _MODEL_UPLOADS, _MAX_MODEL_BYTES, _CACHE, _MAX_BYTES,
        _MAX_PIXELS, _DEBUG, _HOST, _PORT, _TF_THREADS, _FAITHFULNESS_PRECISION, _FIELD, _DATABASE_URL, _ADMIN_TOKEN,
        _FIELD_RETENTION_DAYS; unset ones keep the defaults."""
        models_dir = Path(environ.get(PREFIX + "MODELS") or MODELS_DIR)
        return cls(
            model_path=_default_model(environ, models_dir),
            max_upload_bytes=_integer(environ, "MAX_BYTES", MAX_IMAGE_BYTES),
            max_image_pixels=_integer(environ, "MAX_PIXELS", MAX_IMAGE_PIXELS),
            debug=_flag(environ, "DEBUG"),
            host=environ.get(PREFIX + "HOST") or "127.0.0.1",
            port=_integer(environ, "PORT", 8050),
            tensorflow_threads=_integer(environ, "TF_THREADS", 1),
            models_dir=models_dir,
            max_loaded=_integer(environ, "MAX_LOADED", 4),
            model_uploads=_flag(environ, "MODEL_UPLOADS"),
            max_model_bytes=_integer(environ, "MAX_MODEL_BYTES", MAX_MODEL_BYTES),
            cache_dir=Path(environ.get(PREFIX + "CACHE") or DEFAULT_CACHE_DIR),
            faithfulness_precision=_choice(environ, "FAITHFULNESS_PRECISION", FAITHFULNESS_PRECISIONS),
            field_mode=_choice(environ, "FIELD", FIELD_MODES),
            database_url=environ.get(PREFIX + "DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL,
            admin_token=environ.get(PREFIX + "ADMIN_TOKEN", "").strip(),
            field_retention_days=_retention(environ),
        )
