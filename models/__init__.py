"""Digit Inspector core: network, pre-processing, inference and explanations (no Dash)."""

from pathlib import Path

MODELS_DIR = Path(__file__).resolve().parent
DEFAULT_MODEL_PATH = MODELS_DIR / "digit_cnn.keras"

# Explanation methods, listed here so that callers can validate names without importing TensorFlow.
METHOD_NAMES = ("gradcam", "gradcam++", "layercam", "hirescam", "scorecam")
