"""Small digit models of every shape DESIGN.md's "Any model" accepts, and files it refuses.

Built once per test session (``model_zoo`` and ``refused_models`` in conftest) into a temporary
folder, with auto-generated layer names and briefly trained weights (one epoch on 6000 digits,
BatchNorm statistics that follow fast: enough for maps that mean something, seconds each).
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
from keras import layers

TRAIN_DIGITS = 6000


def seed_sequential() -> keras.Model:
    """The original app's network: a Sequential with the softmax fused into the last Dense."""
    from train.seed import build_seed_cnn

    return build_seed_cnn()


def functional_fused() -> keras.Model:
    """Input (28, 28); ReLU fused into the convs, BatchNorm after the ReLU, a strided conv, a depthwise
    conv and global pooling; softmax fused into the last Dense."""
    inputs = keras.Input((28, 28))
    x = layers.Reshape((28, 28, 1))(inputs)
    x = layers.Conv2D(8, 3, activation="relu")(x)
    x = layers.BatchNormalization(momentum=0.9)(x)
    x = layers.Conv2D(16, 3, strides=2, activation="relu")(x)
    x = layers.BatchNormalization(momentum=0.9)(x)
    x = layers.DepthwiseConv2D(3, activation="relu")(x)
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, layers.Dense(10, activation="softmax")(x))


def conv_bn_relu_blocks() -> keras.Model:
    """conv -> BatchNorm -> ReLU() blocks (a SeparableConv2D and a DepthwiseConv2D among them), ending in logits."""
    inputs = keras.Input((28, 28, 1))
    x = inputs
    for conv in (layers.Conv2D(8, 3, padding="same", use_bias=False), layers.SeparableConv2D(16, 3),
                 layers.DepthwiseConv2D(3, depth_multiplier=2), layers.Conv2D(16, 3, strides=2)):
        x = layers.ReLU()(layers.BatchNormalization(momentum=0.9)(conv(x)))
    x = layers.Flatten()(layers.MaxPooling2D()(x))
    return keras.Model(inputs, layers.Dense(10)(x))


def nested_sequential() -> keras.Model:
    """A Sequential whose conv layers sit in a nested Sequential (flattened by the adapter). Pooled before
    the Flatten: 400 features rather than 1,936, whose not-a-digit fit took half a minute per test worker."""
    features = keras.Sequential([layers.Conv2D(8, 3, activation="relu"), layers.MaxPooling2D(),
                                 layers.Conv2D(16, 3, activation="relu"), layers.MaxPooling2D()])
    return keras.Sequential([keras.Input((28, 28, 1)), features, layers.Flatten(), layers.Dense(10),
                             layers.Activation("softmax")])


# name -> (builder, file suffix)
ZOO = {
    "seed_h5": (seed_sequential, ".h5"),
    "seed_keras": (seed_sequential, ".keras"),
    "functional_fused": (functional_fused, ".keras"),
    "conv_bn_relu_blocks": (conv_bn_relu_blocks, ".keras"),
    "nested_sequential": (nested_sequential, ".keras"),
}


def train_briefly(model: keras.Model, x: np.ndarray, y: np.ndarray) -> keras.Model:
    logits = model.layers[-1].get_config().get("activation") == "linear"
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=logits))
    model.fit(x[:TRAIN_DIGITS], y[:TRAIN_DIGITS], epochs=1, batch_size=64, verbose=0)
    return model


def zoo_files(folder: Path) -> dict[str, Path]:
    """Where each zoo model is (or will be) saved in ``folder``: name -> file."""
    return {name: folder / f"{name}{suffix}" for name, (_, suffix) in ZOO.items()}


def build_zoo(folder: Path) -> dict[str, Path]:
    """Every zoo model, trained briefly and saved into ``folder``; name -> file."""
    from models.mnist import load_mnist

    keras.utils.set_random_seed(7)
    x, y, _, _ = load_mnist()
    x = x[:TRAIN_DIGITS, ..., None].astype(np.float32) / 255
    trained: dict[object, keras.Model] = {}
    files = zoo_files(folder)
    for name, (builder, _) in ZOO.items():
        if builder not in trained:  # the seed network once, saved in both formats
            trained[builder] = train_briefly(builder(), x, y)
        trained[builder].save(files[name])
    return files


def build_refused(folder: Path) -> dict[str, Path]:
    """Files that are not digit models; name -> file. Each is refused with one sentence."""
    files = {}

    def save(name: str, model: keras.Model) -> None:
        files[name] = folder / f"{name}.keras"
        model.save(files[name])

    inputs = keras.Input((28, 28, 1))
    conv = layers.Flatten()(layers.Conv2D(4, 3)(inputs))
    save("lambda", keras.Model(inputs, layers.Dense(10)(layers.Lambda(lambda t: t * 2.0)(conv))))
    save("five_outputs", keras.Model(inputs, layers.Dense(5)(conv)))
    wide = keras.Input((32, 32, 3))
    save("wrong_input", keras.Model(wide, layers.Dense(10)(layers.Flatten()(layers.Conv2D(4, 3)(wide)))))
    save("no_conv", keras.Sequential([keras.Input((28, 28, 1)), layers.Flatten(), layers.Dense(10)]))
    a, b = keras.Input((28, 28, 1)), keras.Input((28, 28, 1))
    two_inputs = keras.Model([a, b], layers.Add()([layers.Conv2D(4, 3)(a), layers.Conv2D(4, 3)(b)]))
    nested = two_inputs([inputs, inputs])
    save("nested_two_inputs", keras.Model(inputs, layers.Dense(10)(layers.Flatten()(nested))))
    files["random_bytes"] = folder / "random_bytes.keras"
    files["random_bytes"].write_bytes(np.random.default_rng(0).bytes(4096))
    files["text_h5"] = folder / "notes.h5"
    files["text_h5"].write_text("not a model")
    files["missing"] = folder / "nowhere.keras"
    return files
