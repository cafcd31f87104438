"""Train the digit CNN: ``python -m train [--epochs N] [--out PATH] [--seed S]``."""

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


def augmented_batches(x_train, y_train, epochs: int, seed: int):
    """Every epoch's batches, shuffled and augmented (``train/augment.py``) from (seed, step) alone,
    so a run is reproducible whatever the number of threads preparing them."""
    import tensorflow as tf

    from train.augment import augment_batch

    steps_per_epoch = len(x_train) // BATCH_SIZE
    orders = [np.random.default_rng([seed, epoch]).permutation(len(x_train)) for epoch in range(epochs)]

    def make_batch(step):
        epoch, i = divmod(int(step), steps_per_epoch)
        picks = orders[epoch][i * BATCH_SIZE:(i + 1) * BATCH_SIZE]
        return augment_batch(x_train[picks], seed, int(step))[..., None], y_train[picks]

    def load(step):
        images, labels = tf.numpy_function(make_batch, [step], (tf.float32, tf.int32))
        return tf.ensure_shape(images, (BATCH_SIZE, 28, 28, 1)), tf.ensure_shape(labels, (BATCH_SIZE,))

    dataset = (tf.data.Dataset.range(epochs * steps_per_epoch)
               .map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
               .prefetch(tf.data.AUTOTUNE))
    return dataset, steps_per_epoch


def train(epochs: int, out: Path, seed: int, train_size: int | None = None) -> dict:
    import keras

    from models.network import build_digit_cnn

    keras.utils.set_random_seed(seed)
    x_train, y_train, x_test, y_test = load_mnist()
    x_train, y_train = x_train[:train_size], y_train[:train_size]
    x_train, x_test = x_train.astype(np.float32) / 255.0, as_model_input(x_test)
    train_ds, steps_per_epoch = augmented_batches(x_train, y_train.astype(np.int32), epochs, seed)
    steps = epochs * steps_per_epoch
    model = build_digit_cnn()
    model.compile(
        optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(1e-3, decay_steps=steps)),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    started = time.perf_counter()
    model.fit(train_ds, epochs=epochs, steps_per_epoch=steps_per_epoch, verbose=1)
    seconds = time.perf_counter() - started
    _, accuracy = model.evaluate(x_test, y_test, batch_size=512, verbose=0)
    out.parent.mkdir(parents=True, exist_ok=True)
    model.save(out)
    return save_training_metadata(out, {
        "epochs": epochs,
        "seed": seed,
        "train_size": len(x_train),
        "batch_size": BATCH_SIZE,
        "augmentation": "train/augment.py (MNIST-C kinds and severities held out)",
    }, seconds, accuracy)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train", description=__doc__)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--out", type=Path, default=DEFAULT_MODEL_PATH)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--train-size", type=int, default=None,
                        help="train on the first N training digits only (quick trial runs)")
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error("--epochs must be at least 1")
    return report_training(lambda: train(args.epochs, args.out, args.seed, args.train_size), args.out)


if __name__ == "__main__":
    sys.exit(main())
