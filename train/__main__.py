"""Train the digit CNN: ``python -m train [--epochs N] [--out PATH] [--seed S] [--from MODEL]``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from models import DEFAULT_MODEL_PATH
from models.mnist import as_model_input, load_mnist
from train import report_training, save_training_metadata

BATCH_SIZE = 128
EXPOSURE_BATCH = 32  # non-digits of ``train.nondigits.EXPOSURE_KINDS`` in each batch (outlier exposure)
EXPOSURE_WEIGHT = 0.3  # their loss (cross-entropy to the uniform answer) against the digits' (Hendrycks et al.)
EXPOSURE_BANK = 20000  # distinct non-digits made once, augmented afresh each epoch


def augmented_batches(x_train, y_train, epochs: int, seed: int, exposure: np.ndarray | None = None):
    """Every epoch's batches, shuffled and augmented (``train/augment.py``: some 1s flagged and 7s barred,
    then damaged) from (seed, step) alone, so a run is reproducible whatever the number of threads
    preparing them.

    With ``exposure`` (non-digits as the model sees them) each batch also carries ``EXPOSURE_BATCH``
    of them, augmented the same way (a damaged non-digit is still no digit), whose target is the
    uniform answer "none of the ten", weighted ``EXPOSURE_WEIGHT``. Targets are then one-hot.
    """
    import tensorflow as tf

    from train.augment import augment_batch

    steps_per_epoch = len(x_train) // BATCH_SIZE
    orders = [np.random.default_rng([seed, epoch]).permutation(len(x_train)) for epoch in range(epochs)]
    extra = 0 if exposure is None else EXPOSURE_BATCH
    total = BATCH_SIZE + extra

    def make_batch(step):
        epoch, i = divmod(int(step), steps_per_epoch)
        picks = orders[epoch][i * BATCH_SIZE:(i + 1) * BATCH_SIZE]
        images = augment_batch(x_train[picks], seed, int(step), y_train[picks])
        if exposure is None:
            return images[..., None], y_train[picks], np.ones(BATCH_SIZE, np.float32)
        rng = np.random.default_rng([seed, int(step), 1])
        others = augment_batch(exposure[rng.choice(len(exposure), EXPOSURE_BATCH, replace=False)], seed + 1, int(step))
        targets = np.concatenate([np.eye(10, dtype=np.float32)[y_train[picks]],
                                  np.full((EXPOSURE_BATCH, 10), 0.1, np.float32)])
        weights = np.r_[np.ones(BATCH_SIZE), np.full(EXPOSURE_BATCH, EXPOSURE_WEIGHT)].astype(np.float32)
        return np.concatenate([images, others])[..., None], targets, weights

    label_type, label_shape = (tf.int32, (total,)) if exposure is None else (tf.float32, (total, 10))

    def load(step):
        images, labels, weights = tf.numpy_function(make_batch, [step], (tf.float32, label_type, tf.float32))
        return (tf.ensure_shape(images, (total, 28, 28, 1)), tf.ensure_shape(labels, label_shape),
                tf.ensure_shape(weights, (total,)))

    dataset = (tf.data.Dataset.range(epochs * steps_per_epoch)
               .map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
               .prefetch(tf.data.AUTOTUNE))
    return dataset, steps_per_epoch


class StartModelError(ValueError):
    """The model ``--from`` names cannot be loaded; the message says so in one sentence."""


def _load_start(start: Path):
    import keras

    try:
        return keras.models.load_model(start)
    except Exception as exc:  # a file Keras cannot read: one sentence, never a stack trace
        raise StartModelError(f"--from {start}: Keras cannot load it as a model ({type(exc).__name__})") from None


LEARNING_RATE = 1e-3  # a new network's, decayed by a cosine over the run
CONTINUED_LEARNING_RATE = 1e-4  # a model trained on (``--from``): a tenth, so that it keeps what it knew


def train(epochs: int, out: Path, seed: int, train_size: int | None = None, exposure: bool = False,
          start: Path | None = None) -> dict:
    """Train a new network, or go on training the model at ``start`` (its weights, at a tenth of the
    learning rate), and save it at ``out`` with its metadata."""
    import keras

    from models.network import build_digit_cnn
    from models.novelty import file_digest
    from models.report import read_metadata
    from train.augment import BARRED_SEVENS, FLAGGED_ONES
    from train.nondigits import EXPOSURE_KINDS, exposure_inputs

    start_digest = None if start is None else file_digest(start)  # before ``out`` may replace it

    keras.utils.set_random_seed(seed)
    x_train, y_train, x_test, y_test = load_mnist()
    x_train, y_train = x_train[:train_size], y_train[:train_size]
    started = time.perf_counter()
    others = exposure_inputs(EXPOSURE_BANK, seed, x_train) if exposure else None
    x_train, x_test = x_train.astype(np.float32) / 255.0, as_model_input(x_test)
    train_ds, steps_per_epoch = augmented_batches(x_train, y_train.astype(np.int32), epochs, seed, others)
    steps = epochs * steps_per_epoch
    model = build_digit_cnn() if start is None else _load_start(start)
    rate = LEARNING_RATE if start is None else CONTINUED_LEARNING_RATE
    model.compile(
        optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(rate, decay_steps=steps)),
        loss="categorical_crossentropy" if exposure else "sparse_categorical_crossentropy",
    )
    model.fit(train_ds, epochs=epochs, steps_per_epoch=steps_per_epoch, verbose=1)
    seconds = time.perf_counter() - started
    accuracy = float(np.mean(model.predict(x_test, batch_size=512, verbose=0).argmax(axis=1) == y_test))
    out.parent.mkdir(parents=True, exist_ok=True)
    model.save(out)
    continued = {} if start is None else {"continued_from": {
        "model": start.name, "sha256": start_digest, "learning_rate": rate, "metadata": read_metadata(start)}}
    return save_training_metadata(out, {
        **continued,
        "epochs": epochs,
        "seed": seed,
        "train_size": len(x_train),
        "batch_size": BATCH_SIZE,
        "augmentation": "train/augment.py (MNIST-C kinds and severities held out; "
                        f"{FLAGGED_ONES:.0%} of 1s flagged, {BARRED_SEVENS:.0%} of 7s barred)",
        "outlier_exposure": (f"{EXPOSURE_BATCH} non-digits per batch, weight {EXPOSURE_WEIGHT}: "
                             + ", ".join(EXPOSURE_KINDS)) if exposure else None,
    }, seconds, accuracy)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train", description=__doc__)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--out", type=Path, default=DEFAULT_MODEL_PATH)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--train-size", type=int, default=None,
                        help="train on the first N training digits only (quick trial runs)")
    parser.add_argument("--exposure", action="store_true",
                        help="also train on non-digits toward the uniform answer (outlier exposure; not how the "
                             "shipped model was trained: see the README)")
    parser.add_argument("--from", dest="start", metavar="MODEL", type=Path, default=None,
                        help="go on training this model file (at a tenth of the learning rate) instead of a new "
                             "network: how the shipped model learnt flagged 1s (see the README)")
    parser.add_argument("--finetune", metavar="MODEL", default=None,
                        help="fine-tune this model (path or name) on --field instead of training one")
    parser.add_argument("--field", metavar="EXPORT", type=Path, default=None,
                        help="the field export to fine-tune on (npz of GET /api/field/export)")
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error("--epochs must be at least 1")
    if args.finetune or args.field:
        if not (args.finetune and args.field):
            parser.error("--finetune MODEL and --field EXPORT go together")
        from train.finetune import main as finetune
        return finetune(args.finetune, args.field, args.seed,  # --epochs when given, else fine-tuning's few
                        None if args.epochs == parser.get_default("epochs") else args.epochs)
    if args.start is not None and not args.start.is_file():
        parser.error(f"--from {args.start}: no such model file")
    try:
        return report_training(lambda: train(args.epochs, args.out, args.seed, args.train_size, args.exposure,
                                             args.start), args.out)
    except StartModelError as exc:
        parser.error(str(exc))


if __name__ == "__main__":
    sys.exit(main())
