"""The one pipeline behind the UI and the JSON API: options, image or strokes -> prediction object.

The model is loaded once per process, on first use and never at import: TensorFlow is not
fork-safe, so under gunicorn it must first be imported in each worker, after the fork.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from flask import Flask

from callbacks import SERVICE_EXTENSION
from dashapp.settings import Settings
from models import METHOD_NAMES
from models.inference import DigitModel
from models.preprocess import DigitInputError, load_image, normalize_digit, rasterize_strokes
from models.report import read_report, report_path, write_report

DEFAULT_METHOD = "gradcam"
FALLBACK_METHOD = "layercam"  # keeps the positive gradients pixel by pixel: rarely all zero where Grad-CAM is


class OptionError(DigitInputError):
    """A layer, method or class the model does not offer; the message says what to send instead.

    A ``DigitInputError`` like a bad image: what the person sent is wrong, and the UI and the API
    answer both the same way (the status line, a 4xx with the message).
    """


@dataclass(frozen=True)
class ExplainOptions:
    layer: str
    method: str
    class_index: int | None


@dataclass
class Timings:
    """Milliseconds spent in each step of one request, sent back as a ``Server-Timing`` header."""

    spans: dict[str, float] = field(default_factory=dict)

    @contextlib.contextmanager
    def span(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.spans[name] = (time.perf_counter() - started) * 1000

    def header(self) -> str:
        return ", ".join(f"{name};dur={ms:.2f}" for name, ms in self.spans.items())


def _class_index(value: object) -> int | None:
    if value is None or value == "":
        return None
    try:
        digit = int(str(value).strip())
    except ValueError:
        digit = -1
    if not 0 <= digit <= 9:
        raise OptionError(f"class must be a digit from 0 to 9 (the digit to explain), not {value!r}.")
    return digit


def _modified_time(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None


def warm_up(model: DigitModel) -> None:
    """Run one prediction with the default and the fallback method: the first call of each compiles
    its explanation function (about half a second), so the first person to draw does not wait."""
    blank = np.zeros((28, 28), np.float32)
    blank[6:22, 13:15] = 1.0
    for method in (DEFAULT_METHOD, FALLBACK_METHOD):
        model.predict(blank, layer=model.default_layer, method=method)


class ModelService:
    """Loads the model lazily (thread-safe, once) and runs every prediction of the process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._model: DigitModel | None = None
        self._model_lock = threading.Lock()
        self._report: dict[str, Any] | None = None
        self._report_time: float | None = None
        self._report_lock = threading.Lock()

    def init_app(self, server: Flask) -> None:
        server.extensions[SERVICE_EXTENSION] = self

    @staticmethod
    def of(server: Flask) -> ModelService:
        return server.extensions[SERVICE_EXTENSION]

    @property
    def ready(self) -> bool:
        return self._model is not None

    def load(self) -> DigitModel:
        """Load the model if not yet done; raises ``ModelLoadError`` (one sentence naming the file and the fix)."""
        if self._model is None:
            with self._model_lock:
                if self._model is None:
                    model = DigitModel.load(self.settings.model_path, self.settings.tensorflow_threads)
                    warm_up(model)
                    self._model = model
        return self._model

    @property
    def model(self) -> DigitModel:
        return self.load()

    def options(self, layer: str | None = None, method: str | None = None,
                class_index: object = None) -> ExplainOptions:
        """Validate the explanation options against the allow-lists, before any pixel is decoded."""
        method = method or DEFAULT_METHOD
        if method not in METHOD_NAMES:
            raise OptionError(f"Unknown method {method!r}: send one of {', '.join(METHOD_NAMES)}.")
        try:
            layer = self.model.check_layer(layer or None)
        except ValueError as exc:
            raise OptionError(str(exc)) from None
        return ExplainOptions(layer, method, _class_index(class_index))

    def layer(self, name: str | None) -> str:
        """``name`` if the model has that conv layer, else the default (the last one)."""
        return name if name in self.model.layer_names else self.model.default_layer

    def explain(self, image: np.ndarray, options: ExplainOptions) -> dict[str, Any]:
        """The DESIGN.md prediction object for a 28x28 model input."""
        return self.model.predict(image, layer=options.layer, method=options.method,
                                  class_index=options.class_index)

    def explain_nonempty(self, image: np.ndarray, options: ExplainOptions) -> dict[str, Any]:
        """As ``explain``, but an empty map gives way to one with evidence: the same method at the nearest
        other layer (the deeper first), else Layer-CAM at the asked layer. ``explanation["instead_of"]``
        then names the map asked for. A map that stays empty loses its faithfulness scores: they
        would rank pixels by nothing.
        """
        result = self.explain(image, options)
        if not result["explanation"]["empty"]:
            return result
        names = self.model.layer_names
        asked = names.index(options.layer)
        nearest = sorted((i for i in range(len(names)) if i != asked), key=lambda i: (abs(i - asked), i < asked))
        tries = [replace(options, layer=names[i]) for i in nearest]
        if options.method != FALLBACK_METHOD:
            tries.append(replace(options, method=FALLBACK_METHOD))
        for other in tries:
            shown = self.explain(image, other)
            if not shown["explanation"]["empty"]:
                shown["explanation"]["instead_of"] = {"method": options.method, "layer": options.layer}
                return shown
        result["explanation"].pop("faithfulness", None)
        return result

    def predict_image(self, data: bytes, options: ExplainOptions, timings: Timings | None = None) -> dict[str, Any]:
        timings = timings or Timings()
        with timings.span("decode"):
            image = load_image(data, self.settings.max_upload_bytes, self.settings.max_image_pixels)
        with timings.span("normalise"):
            digit = normalize_digit(image)
        with timings.span("model"):
            return self.explain(digit, options)

    def predict_strokes(self, paths: list[str], options: ExplainOptions) -> dict[str, Any]:
        return self.explain(normalize_digit(rasterize_strokes(paths)), options)

    def report(self) -> dict[str, Any]:
        """The evaluation report next to the model, re-read when its file changes.

        If it is missing it is computed once (about ten seconds over the MNIST test set) and written;
        raises ``MnistError`` if MNIST cannot be loaded for that.
        """
        path = self.settings.model_path
        with self._report_lock:
            written = _modified_time(report_path(path))
            if self._report is None or written != self._report_time:
                report = read_report(path)
                if report is None:
                    report = self._evaluate()
                self._report, self._report_time = report, _modified_time(report_path(path))
            return self._report

    def _evaluate(self) -> dict[str, Any]:
        from models.evaluation import evaluate

        report = evaluate(self.model)
        try:
            write_report(self.settings.model_path, report)
        except OSError:
            pass  # a read-only deployment still shows the report it just computed
        return report
