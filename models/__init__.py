"""Digit Inspector core: network, pre-processing, inference and explanations (no Dash)."""

from pathlib import Path

from models.methods import DEFAULT_METHOD, METHOD_LABELS, METHOD_NAMES  # noqa: F401  (TensorFlow-free)

MODELS_DIR = Path(__file__).resolve().parent
DEFAULT_MODEL_NAME = "digit_cnn"
DEFAULT_MODEL_PATH = MODELS_DIR / f"{DEFAULT_MODEL_NAME}.keras"
MODEL_SUFFIXES = (".keras", ".h5")  # the files Keras 3 loads; a models folder offers each by its stem
