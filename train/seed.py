"""The original Streamlit app's network, trained exactly as its README says: ``python -m train.seed``.

It is shipped as ``models/seed_cnn.h5`` so that the app can compare its own CNN with the one it
grew out of. Read top to bottom like the keras-io ``mnist_convnet`` example it follows: a
Sequential with the softmax fused into the last Dense, Adam, 3 epochs, 10 % held out for
validation, saved as HDF5 without the optimizer's state.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from models import MODELS_DIR
from models.mnist import load_mnist
from train import report_training, save_training_metadata

SEED_MODEL_PATH = MODELS_DIR / "seed_cnn.h5"
EPOCHS = 3


def build_seed_cnn():
    from keras import Sequential
    from keras.layers import Conv2D, Dense, Flatten, Input, MaxPooling2D

    return Sequential([
        Input(shape=(28, 28, 1)),
        Conv2D(32, (3, 3), activation="relu"),
        MaxPooling2D((2, 2)),
        Conv2D(64, (3, 3), activation="relu"),
        MaxPooling2D((2, 2)),
        Flatten(),
        Dense(128, activation="relu"),
        Dense(10, activation="softmax"),
    ])


def train_seed(out: Path, seed: int, epochs: int = EPOCHS, train_size: int | None = None) -> dict:
    import keras

    keras.utils.set_random_seed(seed)
    x_train, y_train, x_test, y_test = load_mnist()
    x_train, y_train = x_train[:train_size], y_train[:train_size]
    model = build_seed_cnn()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    started = time.perf_counter()
    model.fit(x_train[..., None] / 255.0, y_train, epochs=epochs, validation_split=0.1)
    seconds = time.perf_counter() - started
    _, accuracy = model.evaluate(x_test[..., None] / 255.0, y_test, verbose=0)
    out.parent.mkdir(parents=True, exist_ok=True)
    model.save(out, include_optimizer=False)
    return save_training_metadata(out, {
        "network": "the original Streamlit app's Sequential CNN (softmax fused into the last Dense)",
        "epochs": epochs,
        "seed": seed,
        "train_size": len(x_train),
        "validation_split": 0.1,
    }, seconds, accuracy)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train.seed", description=__doc__)
    parser.add_argument("--out", type=Path, default=SEED_MODEL_PATH)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--train-size", type=int, default=None,
                        help="train on the first N training digits only (quick trial runs)")
    args = parser.parse_args(argv)
    return report_training(lambda: train_seed(args.out, args.seed, args.epochs, args.train_size), args.out)


if __name__ == "__main__":
    sys.exit(main())
