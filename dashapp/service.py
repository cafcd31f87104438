"""The one pipeline behind the UI and the JSON API: models, options, image or strokes -> prediction object.

Models are loaded on first use and never at import: TensorFlow is not fork-safe, so under
gunicorn it must first be imported in each worker, after the fork. Each worker keeps at most
``max_loaded`` models in memory (least recently used dropped first, the default model never).

What the UI and the API call (``name`` is a model name from ``models()``; None means the default):
``models()``, ``model_info(name)``, ``load(name)`` (a ``DigitModel``), ``options(..., model=name)``,
``predict_image`` / ``predict_strokes``, ``report(name)`` with ``report_progress(name)``,
``comparison(first, second)``, and
``save_upload(filename, data)`` when uploads are on.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from flask import Flask
from PIL import Image

from callbacks import SERVICE_EXTENSION
from dashapp.settings import Settings
from models.catalog import model_files
from models.inference import DigitModel, ModelLoadError
from models.methods import DEFAULT_METHOD, METHOD_NAMES, needs_layer, unknown_method_message
from models.preprocess import DigitInputError, drawing_inks, image_ink, load_image
from models.report import file_lock, read_json, read_metadata, report_path, write_json
from models.segment import number_inputs, number_object

FALLBACK_METHOD = "layercam"  # keeps the positive gradients pixel by pixel: rarely all zero where Grad-CAM is


class OptionError(DigitInputError):
    """A layer, method or class the model does not offer; the message says what to send instead.

    A ``DigitInputError`` like a bad image: what the person sent is wrong, and the UI and the API
    answer both the same way (the status line, a 4xx with the message).
    """


class UploadError(DigitInputError):
    """An uploaded model file that is refused; the message says why and what to send instead."""


@dataclass(frozen=True)
class ExplainOptions:
    layer: str | None  # None for a pixel-level method
    method: str
    class_index: int | None
    model: str | None = None  # a name from ModelService.models(); None: the default model


@dataclass(frozen=True)
class ModelEntry:
    name: str
    path: Path
    default: bool


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


def warm_up(model: DigitModel, recommended: tuple[str, str | None] | None = None) -> None:
    """Run one prediction with the default and the fallback method, and with the scoreboard's
    ``recommended`` (method, layer), the predict page's default: the first call of each compiles
    its explanation function (about half a second; Score-CAM's a second), so the first person to
    draw does not wait. A recommendation this model cannot make (a stale report) is skipped."""
    blank = np.zeros((28, 28), np.float32)
    blank[6:22, 13:15] = 1.0
    pairs = [(DEFAULT_METHOD, model.default_layer), (FALLBACK_METHOD, model.default_layer)]
    if recommended and recommended[0] in METHOD_NAMES and (
            not needs_layer(recommended[0]) or recommended[1] in model.layer_names):
        pairs.append(recommended)
    for method, layer in dict.fromkeys(pairs):
        model.predict(blank, layer=layer, method=method)


class ModelService:
    """The models of one process, loaded lazily (thread-safe, once each), and every prediction it makes."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._loaded: OrderedDict[str, DigitModel] = OrderedDict()  # least recently used first
        self._lock = threading.Lock()
        self._loading: dict[str, threading.Lock] = {}
        self._reports: dict[str, tuple[Path, float | None, dict[str, Any]]] = {}
        self._report_locks: dict[str, threading.Lock] = {}
        self._progress: dict[str, float] = {}

    def init_app(self, server: Flask) -> None:
        server.extensions[SERVICE_EXTENSION] = self

    @staticmethod
    def of(server: Flask) -> ModelService:
        return server.extensions[SERVICE_EXTENSION]

    # --- which models ---------------------------------------------------------------------------------

    @property
    def default_name(self) -> str:
        return self.settings.model_path.stem

    def models(self) -> list[ModelEntry]:
        """Every model offered, by name: the models folder (read again each time, so that a model
        another worker saved shows up) and the default model's file."""
        files = model_files(self.settings.models_dir)
        files[self.default_name] = self.settings.model_path
        return [ModelEntry(name, path, name == self.default_name) for name, path in sorted(files.items())]

    def model_name(self, name: str | None = None) -> str:
        """``name`` if it is offered, the default for None or ""; else an ``OptionError`` listing the names.

        The default model and the models in memory are known without reading the models folder
        (a request that names one costs no directory listing); a loaded model stays offered until
        it is dropped from memory, even if its file goes meanwhile.
        """
        if not name or name == self.default_name:
            return self.default_name
        if name in self._loaded:
            return name
        names = [entry.name for entry in self.models()]
        if name not in names:
            raise OptionError(f"Unknown model {name!r}: send one of {', '.join(names)}.")
        return name

    def model_path(self, name: str | None = None) -> Path:
        name = self.model_name(name)
        return next(entry.path for entry in self.models() if entry.name == name)

    # --- loaded models --------------------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        return self.default_name in self._loaded

    def load(self, name: str | None = None) -> DigitModel:
        """The model ``name`` (default: the default model), loaded if not yet done; raises ``ModelLoadError``
        (one sentence naming the file and the fix) or ``OptionError`` for a name that is not offered."""
        name = self.model_name(name)
        with self._lock:
            if name in self._loaded:
                self._loaded.move_to_end(name)
                return self._loaded[name]
            loading = self._loading.setdefault(name, threading.Lock())
        with loading:  # one thread loads a model; others asking for it wait for that one
            with self._lock:
                if name in self._loaded:
                    return self._loaded[name]
            model = DigitModel.load(self.model_path(name), self.settings.tensorflow_threads,
                                    self.settings.faithfulness_precision, cache_dir=self.settings.cache_dir)
            warm_up(model, self._recommendation(self._scoreboard_on_disk(name)))
            with self._lock:
                self._loaded[name] = model
                self._evict()
        return model

    def _evict(self) -> None:
        for name in list(self._loaded):
            if len(self._loaded) <= self.settings.max_loaded:
                break
            if name != self.default_name:  # the default one answers /api/health: always kept
                del self._loaded[name]

    def loaded(self) -> list[str]:
        """Names of the models in memory, least recently used first."""
        with self._lock:
            return list(self._loaded)

    @property
    def model(self) -> DigitModel:
        """The default model."""
        return self.load()

    def test_accuracy(self, name: str | None = None) -> float | None:
        """From the model's metadata, else from its report if one was written; None before either exists."""
        name = self.model_name(name)
        path = self.model_path(name)
        accuracy = (read_metadata(path) or {}).get("test_accuracy")
        if accuracy is None:
            location, cached = self._existing_report(path, name), self._reports.get(name)
            report = cached[2] if cached else (read_json(location) if location else None)
            accuracy = (report or {}).get("test_accuracy")
        return accuracy

    def model_info(self, name: str | None = None) -> dict[str, Any]:
        """``GET /api/model``'s object."""
        name = self.model_name(name)
        model = self.load(name)
        return {"name": name, "test_accuracy": self.test_accuracy(name), "conv_layers": model.conv_layers(),
                "default_layer": model.default_layer, "methods": list(METHOD_NAMES)}

    def models_info(self) -> list[dict[str, Any]]:
        """``GET /api/models``'s list; reads files only, loads no model."""
        return [{"name": entry.name, "file": entry.path.name, "test_accuracy": self.test_accuracy(entry.name),
                 "default": entry.default} for entry in self.models()]

    # --- predictions ----------------------------------------------------------------------------------

    def options(self, layer: str | None = None, method: str | None = None, class_index: object = None,
                model: str | None = None) -> ExplainOptions:
        """Validate the explanation options against the allow-lists, before any pixel is decoded."""
        name = self.model_name(model)
        method = method or DEFAULT_METHOD
        if method not in METHOD_NAMES:
            raise OptionError(unknown_method_message(method))
        try:
            # A pixel-level method accepts and ignores a layer (DESIGN.md).
            layer = self.load(name).check_layer(layer or None) if needs_layer(method) else None
        except ValueError as exc:
            raise OptionError(str(exc)) from None
        return ExplainOptions(layer, method, _class_index(class_index), None if model is None else name)

    def layer(self, name: str | None, model: str | None = None) -> str:
        """``name`` if the model has that conv layer, else the scoreboard's recommended one, else the last one."""
        digit_model = self.load(model)
        if name in digit_model.layer_names:
            return name
        return self.recommended(model)[1] or digit_model.default_layer

    def explain(self, image: np.ndarray, options: ExplainOptions) -> dict[str, Any]:
        """The DESIGN.md prediction object for a 28x28 model input."""
        return self.load(options.model).predict(image, layer=options.layer, method=options.method,
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
        model = self.load(options.model)
        if options.layer is None:  # a pixel-level method: no layer to move along
            tries = [replace(options, method=FALLBACK_METHOD, layer=model.default_layer)]
        else:
            names = model.layer_names
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

    def find_digits(self, ink: np.ndarray, model: str | None = None,
                    finer: Callable[[], np.ndarray] | None = None) -> list[tuple[tuple[int, int, int, int],
                                                                                np.ndarray]]:
        """The digits of a number (``models.segment.number_inputs``), left to right: each one's box in
        pixels of ``ink`` and its 28x28 input; one digit is normalised exactly as it always was."""
        return number_inputs(ink, self.load(model).read, finer)

    def explain_number(self, found: list[tuple[tuple[int, int, int, int], np.ndarray]],
                       options: ExplainOptions) -> dict[str, Any]:
        """The prediction object of a number (DESIGN.md "Numbers"): ``text``, ``digits`` (each with its ``box``),
        and at the top the fields of the first digit. The digits are explained in one batched call."""
        if len(found) == 1:
            results = [self.explain(found[0][1], options)]
        else:
            results = self.load(options.model).predict_batch(np.stack([digit for _, digit in found]),
                                                             options.layer, options.method, options.class_index)
        return number_object([box for box, _ in found], results)

    def predict_image(self, data: bytes, options: ExplainOptions, timings: Timings | None = None) -> dict[str, Any]:
        timings = timings or Timings()
        return self.predict_decoded(self.decode(data, timings), options, timings)

    def decode(self, data: bytes, timings: Timings | None = None) -> Image.Image:
        """The image file decoded under this server's limits (``DigitInputError`` with a sentence if not)."""
        with (timings or Timings()).span("decode"):
            return load_image(data, self.settings.max_upload_bytes, self.settings.max_image_pixels)

    def predict_decoded(self, image: Image.Image, options: ExplainOptions,
                        timings: Timings | None = None) -> dict[str, Any]:
        timings = timings or Timings()
        with timings.span("normalise"):
            found = self.find_digits(image_ink(image), options.model)
        with timings.span("model"):
            return self.explain_number(found, options)

    def predict_strokes(self, paths: list[str], options: ExplainOptions) -> dict[str, Any]:
        """Canvas strokes (``rasterize_strokes``'s square canvas) -> the prediction object; boxes in canvas units."""
        ink, finer = drawing_inks(paths)
        found = self.find_digits(ink, options.model, finer)
        return self.explain_number(found, options)

    # --- evaluation reports ---------------------------------------------------------------------------

    def _cached_report_path(self, name: str) -> Path:
        return self.settings.cache_dir / f"{name}.report.json"

    def _existing_report(self, path: Path, name: str) -> Path | None:
        for candidate in (report_path(path), self._cached_report_path(name)):
            if candidate.is_file():
                return candidate
        return None

    def report(self, name: str | None = None) -> dict[str, Any]:
        """The model's evaluation report: next to the model (or in the cache folder), re-read when it changes.

        If there is none it is computed once (about ten seconds over the MNIST test set; see
        ``report_progress``) and written, once for all processes: a file lock makes the other
        workers wait and read it. Raises ``MnistError`` if MNIST cannot be loaded for that.
        """
        name = self.model_name(name)
        path = self.model_path(name)
        with self._lock:
            lock = self._report_locks.setdefault(name, threading.Lock())
        with lock:
            location = self._existing_report(path, name)
            cached = self._reports.get(name)
            if location and cached and cached[:2] == (location, _modified_time(location)):
                return cached[2]
            report = read_json(location) if location else None
            if report is None:
                report, location = self._evaluate_once(name, path)
            self._reports[name] = (location, _modified_time(location), report)
            return report

    def comparison(self, first: str | None, second: str) -> dict[str, Any]:
        """Both models' metrics side by side and the test digits exactly one of them reads right
        (``models.comparison.compare_reports``); computes a missing report as ``report`` does."""
        from models.comparison import compare_reports

        return compare_reports(self.report(first), self.report(second))

    def explanations(self, name: str | None = None) -> dict[str, Any] | None:
        """The report's scoreboard section (``models.scoreboard``); None if the model has no report with one.

        Reads an existing report only: the scoreboard takes minutes, so it is made by
        ``python -m train.evaluate --model NAME``, never on a request.
        """
        name = self.model_name(name)
        if self._existing_report(self.model_path(name), name) is None:
            return None
        return self.report(name).get("explanations")

    def novelty(self, name: str | None = None) -> dict[str, Any] | None:
        """The report's not-a-digit scoreboard (``train.nondigits``); None if the model's report has none.

        Like the explanation scoreboard it is made by ``python -m train.evaluate``, never on a request.
        """
        name = self.model_name(name)
        if self._existing_report(self.model_path(name), name) is None:
            return None
        return self.report(name).get("novelty")

    def recommended(self, name: str | None = None) -> tuple[str, str | None]:
        """The (method, layer) the predict page opens on (``models.scoreboard.default_row``: Grad-CAM where
        the scoreboard finds it faithful and sane, else its recommendation); the defaults without a scoreboard."""
        return self._recommendation(self.explanations(name)) or (DEFAULT_METHOD, self.load(name).default_layer)

    @staticmethod
    def _recommendation(section: dict[str, Any] | None) -> tuple[str, str | None] | None:
        from models.scoreboard import default_row

        best = default_row(section or {})
        return None if best is None else (best["method"], best["layer"])

    def _scoreboard_on_disk(self, name: str) -> dict[str, Any] | None:
        """The scoreboard in the model's report file, read directly: while a model loads, ``report``
        (which may evaluate the model, so load it) must not be called. The report read here is kept
        for ``report``, which then need not read it again."""
        location = self._existing_report(self.model_path(name), name)
        modified = _modified_time(location) if location else None  # before reading: a newer file is re-read
        report = read_json(location) if location else None
        if report is None:
            return None
        self._reports.setdefault(name, (location, modified, report))
        return report.get("explanations")

    def report_progress(self, name: str | None = None) -> float | None:
        """The fraction of the report this process is computing for ``name``, None when it is not computing one."""
        return self._progress.get(self.model_name(name))

    def _evaluate_once(self, name: str, path: Path) -> tuple[dict[str, Any], Path]:
        from models.evaluation import evaluate

        # Next to the model where that folder is writable, else in the cache folder (read-only deployments).
        target = report_path(path) if os.access(path.parent, os.W_OK) else self._cached_report_path(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        with file_lock(target.with_suffix(".lock")):
            report = read_json(target)  # another worker may have written it while this one waited
            if report is None:
                self._progress[name] = 0.0
                try:
                    report = evaluate(self.load(name), progress=lambda done: self._progress.__setitem__(name, done))
                    write_json(target, report)
                finally:
                    self._progress.pop(name, None)
        return report, target

    # --- uploads --------------------------------------------------------------------------------------

    def save_upload(self, filename: str, data: bytes) -> str:
        """Check an uploaded .keras file with the adapter and save it into the models folder; its new name.

        A name in use gets a suffix (``name_2``): an upload never replaces a model. Raises
        ``UploadError`` with the sentence to show.
        """
        settings = self.settings
        if not settings.model_uploads:
            raise UploadError("Model uploads are off on this server: ask its operator to set "
                              "DIGIT_INSPECTOR_MODEL_UPLOADS=1.")
        shown = Path(filename or "").name or "The upload"
        if Path(shown).suffix.lower() != ".keras":
            raise UploadError(f"{shown} is not a .keras file: send a model saved by Keras 3 with "
                              "model.save('name.keras').")
        if len(data) > settings.max_model_bytes:
            raise UploadError(f"{shown} is {len(data) / 1e6:.1f} MB, over the {settings.max_model_bytes / 1e6:.1f} MB "
                              "limit: send a smaller model.")
        if not os.access(settings.models_dir, os.W_OK):
            raise UploadError(f"The models folder of this server is read-only, so {shown} cannot be saved.")
        stem = re.sub(r"[^A-Za-z0-9_-]+", "_", Path(shown).stem).strip("_") or "model"
        with tempfile.TemporaryDirectory() as folder:
            checked = Path(folder) / f"{stem}.keras"
            checked.write_bytes(data)
            try:
                DigitModel.load(checked, settings.tensorflow_threads, settings.faithfulness_precision)
            except ModelLoadError as exc:
                raise UploadError(str(exc).replace(str(checked), shown)) from None
            return self._save_new(checked, stem)

    def _save_new(self, checked: Path, stem: str) -> str:
        partial = self.settings.models_dir / f".{stem}.{os.getpid()}.partial"
        shutil.copyfile(checked, partial)
        try:
            for number in range(1, 1000):
                name = stem if number == 1 else f"{stem}_{number}"
                if name in {entry.name for entry in self.models()}:
                    continue
                try:
                    os.link(partial, self.settings.models_dir / f"{name}.keras")  # fails if it exists: no replacing
                except FileExistsError:
                    continue
                return name
            raise UploadError(f"Too many models named {stem}: rename the file and send it again.")
        finally:
            partial.unlink(missing_ok=True)
