"""Fine-tune a model on field digits: ``python -m train --finetune MODEL --field EXPORT``.

The field export (``GET /api/field/export?format=npz``, or ``python -m dashapp.field export``) holds
what people sent, as the model saw it (``x``: uint8, white ink on black like Keras' MNIST), and the
answer they said was right (``y``: 0-9, or 10 for "not a digit"). This script:

1. splits the export into records to learn from and held-out records to judge on (30 %, per label
   when a label has two records or more, seeded);
2. fine-tunes the model for a few epochs at a small learning rate on the field records mixed with
   MNIST training digits (so it does not forget MNIST); a "not a digit" record is trained toward the
   uniform answer, "none of the ten", as outlier exposure does (Hendrycks et al. 2019);
3. checks the MNIST test accuracy after every epoch: the first epoch that loses more than 0.1 point
   against the original model ends the run, and the last epoch within that budget is kept (when the
   first epoch is already over the budget, the run starts again at a smaller learning rate);
4. writes ``<models dir>/<name>_field.keras`` (a free name: an existing file is never replaced), its
   metadata and its evaluation report, whose ``finetune`` section compares the original and the
   fine-tuned model on the held-out field records and on the MNIST test set.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import keras
import numpy as np

from models import MODELS_DIR
from models.mnist import MnistError, load_mnist

NOT_A_DIGIT = 10  # the export's label for "not a digit"
HELD_OUT = 0.3  # share of each label's field records kept aside to judge the fine-tuned model on
MIN_RECORDS = 10
EPOCHS = 5
LEARNING_RATES = (1e-4, 3e-5, 1e-5)  # small, then smaller when one epoch already costs MNIST too much
BATCH_SIZE = 64
MNIST_PER_FIELD = 3  # a quarter of every epoch is field records, three quarters MNIST training digits...
MIN_MNIST_PER_EPOCH = 4000  # ...at least this many, drawn afresh every epoch (a small export is repeated)
NONDIGIT_WEIGHT = 0.5  # a "not a digit" record's loss against a digit's, as in `python -m train`
MAX_MNIST_DROP = 0.001  # the promise: at most 0.1 point of MNIST test accuracy lost


class FieldExportError(ValueError):
    """The field export cannot be used; the message says what was expected."""


class FinetuneRefused(RuntimeError):
    """No epoch stayed within the MNIST budget: nothing is written."""


def models_folder() -> Path:
    """The folder the app offers models from (``DIGIT_INSPECTOR_MODELS``, default ``models/``)."""
    return Path(os.environ.get("DIGIT_INSPECTOR_MODELS") or MODELS_DIR)


def load_field_export(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """``x`` (N, 28, 28) uint8 and ``y`` (N,) in 0-10 of a field export, checked."""
    expected = ("expected the npz of `GET /api/field/export?format=npz` (or `python -m dashapp.field export`) "
                "with x (N, 28, 28) uint8 and y (N,) labels 0-9 or 10 for not a digit")
    try:
        with np.load(path, allow_pickle=False) as data:
            x, y = data["x"], data["y"]
    except (OSError, ValueError, KeyError, EOFError) as exc:
        raise FieldExportError(f"Field export {path} cannot be read ({type(exc).__name__}): {expected}.") from None
    if x.dtype != np.uint8 or x.ndim != 3 or x.shape[1:] != (28, 28) or y.shape != (len(x),):
        raise FieldExportError(f"Field export {path} has x {x.dtype} {x.shape} and y {y.shape}: {expected}.")
    if len(y) and (y.min() < 0 or y.max() > NOT_A_DIGIT):
        raise FieldExportError(f"Field export {path} has labels outside 0-10: {expected}.")
    if len(y) < MIN_RECORDS:
        raise FieldExportError(f"Field export {path} has {len(y)} labelled records; fine-tuning needs at least "
                               f"{MIN_RECORDS} (some to learn from, some to judge on).")
    return x, y.astype(np.int64)


def split_field(labels: np.ndarray, held_out: float = HELD_OUT, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Indices (to learn from, held out): ``held_out`` of each label's records, at least one of a label that
    has two or more (a label seen once is learnt from); seeded, so the old and new model meet the same digits."""
    rng = np.random.default_rng(seed)
    learn, held = [], []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        count = max(1, round(len(members) * held_out)) if len(members) >= 2 else 0
        held.append(members[:count])
        learn.append(members[count:])
    return np.sort(np.concatenate(learn)), np.sort(np.concatenate(held))


def as_inputs(model: keras.Model, images: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) -> float32 in [0, 1], shaped as the model's input ((28, 28) or (28, 28, 1))."""
    return (images.astype(np.float32) / 255.0).reshape(-1, *model.inputs[0].shape[1:])


def outputs_probabilities(model: keras.Model, images: np.ndarray) -> bool:
    """Whether the model ends in a softmax (probabilities) rather than logits, read from what it answers:
    every row non-negative and summing to 1 is a softmax (logits do that by chance never)."""
    answers = np.asarray(model(as_inputs(model, images[:64]), training=False))
    return bool((answers >= 0).all() and np.allclose(answers.sum(axis=1), 1.0, atol=1e-3))


def freeze_batch_norm(model: keras.Model) -> None:
    """Keep every BatchNormalization's MNIST statistics: small batches of a few hundred field digits would
    drag them away (a frozen BatchNormalization also normalises in inference mode in Keras 3)."""
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False
        elif isinstance(layer, keras.Model):
            freeze_batch_norm(layer)


def mnist_accuracy(model: keras.Model, x_test: np.ndarray, y_test: np.ndarray) -> float:
    return float(np.mean(model.predict(as_inputs(model, x_test), batch_size=1000, verbose=0).argmax(axis=1) == y_test))


def mnist_per_epoch(field_records: int, mnist_digits: int) -> int:
    return min(mnist_digits, max(MNIST_PER_FIELD * field_records, MIN_MNIST_PER_EPOCH))


def epoch_mix(x_field: np.ndarray, y_field: np.ndarray, x_mnist: np.ndarray, y_mnist: np.ndarray,
              rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One epoch's images (uint8), soft targets (N, 10) and weights: the field records (repeated when the
    export is small, so that they stay a quarter of the epoch) and fresh MNIST training digits.

    A digit's target is one-hot; "not a digit"'s is uniform (0.1 each), weighted ``NONDIGIT_WEIGHT``.
    """
    size = mnist_per_epoch(len(x_field), len(x_mnist))
    repeats = max(1, round(size / (MNIST_PER_FIELD * len(x_field))))
    picks = rng.choice(len(x_mnist), size, replace=False)
    images = np.concatenate([np.tile(x_field, (repeats, 1, 1)), x_mnist[picks]])
    labels = np.concatenate([np.tile(y_field, repeats), y_mnist[picks]])
    targets = np.eye(NOT_A_DIGIT + 1, NOT_A_DIGIT, dtype=np.float32)[labels]
    targets[labels == NOT_A_DIGIT] = 1.0 / NOT_A_DIGIT
    weights = np.where(labels == NOT_A_DIGIT, NONDIGIT_WEIGHT, 1.0).astype(np.float32)
    return images, targets, weights


def free_model_path(folder: Path, stem: str) -> Path:
    """``folder/<stem>.keras``, or with ``_2``, ``_3``... when a model of that name (.keras or .h5) is there."""
    for n in range(1, 10000):
        name = stem if n == 1 else f"{stem}_{n}"
        if not any((folder / f"{name}{suffix}").exists() for suffix in (".keras", ".h5")):
            return folder / f"{name}.keras"
    raise FileExistsError(f"No free model name {stem}_N left in {folder}.")


def save_new(model: keras.Model, folder: Path, stem: str) -> Path:
    """Save the model under a free name in ``folder``, never over a file: it is written in a temporary
    folder, then hard-linked in place, which fails rather than replace a file that appeared meanwhile."""
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".finetune-") as scratch:
        written = Path(scratch) / "model.keras"
        model.save(written)
        while True:
            path = free_model_path(folder, stem)
            try:
                os.link(written, path)
                return path
            except FileExistsError:
                continue


def field_scores(digit_model, x_held: np.ndarray, y_held: np.ndarray, x_test: np.ndarray,
                 y_test: np.ndarray) -> dict[str, Any]:
    """How a ``DigitModel`` does on the held-out field records and on the MNIST test set.

    ``field_accuracy`` counts as the /field page does (the answer is "not a digit" when the novelty
    detector says so); ``field_digits_accuracy`` is the top-1 digit on the records labelled 0-9;
    ``nondigits_flagged`` the share of records labelled "not a digit" that the detector flags.
    """
    images = x_held.astype(np.float32) / 255.0
    features, logits = digit_model.features_and_logits(images, pooled=True)
    digit = logits.argmax(axis=1)
    novelty = digit_model.novelty
    flagged = (novelty.all_scores(features, logits)[novelty.detector] > novelty.threshold
               if novelty is not None else np.zeros(len(digit), bool))
    answer = np.where(flagged, NOT_A_DIGIT, digit)
    digits = y_held < NOT_A_DIGIT
    test = digit_model.probabilities(x_test.astype(np.float32) / 255.0).argmax(axis=1)
    return {
        "field_accuracy": float(np.mean(answer == y_held)),
        "field_digits_accuracy": float(np.mean(digit[digits] == y_held[digits])) if digits.any() else None,
        "nondigits_flagged": float(np.mean(flagged[~digits])) if (~digits).any() else None,
        "mnist_test_accuracy": float(np.mean(test == y_test)),
        "detector": novelty.detector if novelty is not None else None,
    }


def finetune(model_path: str | Path, field_path: str | Path, models_dir: str | Path | None = None,
             epochs: int = EPOCHS, seed: int = 1, verbose: int = 1) -> dict[str, Any]:
    """Fine-tune the model file on the field export, write the new model, its metadata and report, and
    return the report's ``finetune`` section (with ``path``, the new file)."""
    from models.adapter import load_keras_model
    from models.evaluation import evaluate
    from models.inference import DigitModel
    from models.novelty import file_digest
    from models.report import write_report
    from train import save_training_metadata

    model_path = Path(model_path)
    models_dir = Path(models_dir or models_folder())
    keras.utils.set_random_seed(seed)
    started = time.perf_counter()

    # The data: field records split once, MNIST for the mix and the guarantee.
    x_field, y_field = load_field_export(field_path)
    learn, held = split_field(y_field, seed=seed)
    x_train, y_train, x_test, y_test = load_mnist()

    # The model, as the app loads it; its loss takes soft targets whether it ends in a softmax or in logits.
    model = load_keras_model(model_path)
    freeze_batch_norm(model)
    loss = keras.losses.CategoricalCrossentropy(from_logits=not outputs_probabilities(model, x_test))
    before, original = mnist_accuracy(model, x_test, y_test), model.get_weights()

    # Fine-tune epoch by epoch, keeping the last epoch within the MNIST budget; when even the first epoch
    # is over it, start again from the original weights at a smaller learning rate.
    for learning_rate in LEARNING_RATES:
        model.set_weights(original)
        model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss)
        kept_weights, kept_epoch, history = original, 0, []
        rng = np.random.default_rng([seed, 2])
        for epoch in range(1, epochs + 1):
            images, targets, weights = epoch_mix(x_field[learn], y_field[learn], x_train, y_train, rng)
            model.fit(as_inputs(model, images), targets, sample_weight=weights, batch_size=BATCH_SIZE, epochs=1,
                      shuffle=True, verbose=verbose)
            accuracy = mnist_accuracy(model, x_test, y_test)
            history.append({"epoch": epoch, "mnist_test_accuracy": accuracy})
            print(f"learning rate {learning_rate:g}, epoch {epoch}/{epochs}: MNIST test accuracy {accuracy:.4f} "
                  f"({(accuracy - before) * 100:+.2f} points)", flush=True)
            if before - accuracy > MAX_MNIST_DROP + 1e-9:  # exactly 0.1 point (10 digits) is within it
                print(f"over the budget of {MAX_MNIST_DROP * 100:.1f} point: keeping epoch {kept_epoch}", flush=True)
                break
            kept_weights, kept_epoch = model.get_weights(), epoch
        if kept_epoch:
            break
    else:
        raise FinetuneRefused(f"Fine-tuning {model_path} lost more than {MAX_MNIST_DROP * 100:.1f} point of MNIST "
                              f"test accuracy from the first epoch even at a learning rate of {learning_rate:g}; "
                              "nothing was written.")
    model.set_weights(kept_weights)
    out = save_new(model, models_dir, f"{model_path.stem}_field")
    seconds = time.perf_counter() - started

    # Judge both models as the app runs them (adapted graph, own novelty detector, same held-out records).
    old, new = DigitModel.load(model_path), DigitModel.load(out)
    section = {
        "from": old.name,
        "from_sha256": file_digest(model_path),
        "field_export": str(field_path),
        "seed": seed,
        "records": int(len(y_field)),
        "learnt_from": int(len(learn)),
        "held_out": int(len(held)),
        "held_out_nondigits": int(np.sum(y_field[held] == NOT_A_DIGIT)),
        "learning_rate": learning_rate,
        "max_mnist_drop": MAX_MNIST_DROP,
        "epochs": history,
        "epoch_kept": kept_epoch,
        "before": field_scores(old, x_field[held], y_field[held], x_test, y_test),
        "after": field_scores(new, x_field[held], y_field[held], x_test, y_test),
    }
    report = evaluate(new)
    report["finetune"] = section
    write_report(out, report)
    save_training_metadata(out, {
        "finetuned_from": old.name,
        "field_export": str(field_path),
        "epochs": kept_epoch,
        "seed": seed,
        "learning_rate": learning_rate,
        "field_records": int(len(learn)),
        "mnist_per_epoch": mnist_per_epoch(len(learn), len(x_train)),
    }, seconds, report["test_accuracy"])
    return {**section, "path": str(out)}


def summary_lines(section: dict[str, Any]) -> list[str]:
    """The comparison, in a few lines for the terminal."""
    before, after = section["before"], section["after"]
    new = Path(section["path"]).stem

    def share(value: float | None, digits: int = 1) -> str:
        return "—" if value is None else f"{value * 100:.{digits}f} %"

    drop = (before["mnist_test_accuracy"] - after["mnist_test_accuracy"]) * 100
    rows = [("held-out field records", "field_accuracy", 1),
            ("  of them digits 0-9 (top 1)", "field_digits_accuracy", 1),
            ("  'not a digit' flagged", "nondigits_flagged", 1),
            ("MNIST test set", "mnist_test_accuracy", 2)]
    lines = [f"wrote {section['path']} (epoch {section['epoch_kept']} of {len(section['epochs'])} kept, "
             f"learning rate {section['learning_rate']:g}; "
             f"{section['learnt_from']} field records learnt from, {section['held_out']} held out)",
             f"{'':30}{section['from']:>16}{new:>22}"]
    lines += [f"{label:30}{share(before[key], digits):>16}{share(after[key], digits):>22}"
              for label, key, digits in rows]
    lines.append(f"MNIST test accuracy {'lost' if drop > 0 else 'gained'} {abs(drop):.2f} point "
                 f"(the budget is {section['max_mnist_drop'] * 100:.1f}).")
    return lines


def main(model: str, field: Path, seed: int = 1, epochs: int | None = None) -> int:
    """``python -m train --finetune MODEL --field EXPORT``: the exit code (2 with one sentence on stderr when
    the model, the export or MNIST cannot be used, 1 when no epoch kept MNIST within the budget)."""
    from models.catalog import resolve_model
    from models.inference import ModelLoadError

    try:
        section = finetune(resolve_model(model, models_folder()), field, epochs=epochs or EPOCHS, seed=seed)
    except (ModelLoadError, FieldExportError, MnistError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except FinetuneRefused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print("\n".join(summary_lines(section)))
    return 0
