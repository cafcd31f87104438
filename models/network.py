"""The shipped digit CNN, built with the Functional API.

It ends in a logits ``Dense(10)`` followed by a separate softmax ``Activation``. Nothing else
relies on its layer names: the app reads every model through ``models.adapter``.
"""

from __future__ import annotations

import keras
from keras import layers

INPUT_SHAPE = (28, 28, 1)
LOGITS_LAYER = "logits"
PROBABILITIES_LAYER = "probabilities"


def _conv_block(x, filters: int, name: str):
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=name)(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.Activation("relu", name=f"{name}_relu")(x)


# conv1..conv4. Half the multiply-adds of 32-32-64-64 at the same accuracy: every explanation
# sends 15 digits through the network, so its cost is most of a request's time.
CONV_FILTERS = (16, 32, 32, 64)


def build_digit_cnn(dropout: float = 0.3) -> keras.Model:
    """Per-image standardisation, then four 3x3 convs (``CONV_FILTERS``) with BatchNorm + ReLU,
    max-pool after each pair.

    The standardisation (each image to zero mean, unit variance; no weights) makes the network
    blind to a grey or brighter background: without it conv1's BatchNorm, whose statistics come
    from black backgrounds, shifted every activation by many standard deviations and a bright
    image read as one class whatever its digit.
    """
    inputs = keras.Input(shape=INPUT_SHAPE, name="digit")
    x = layers.LayerNormalization(axis=(1, 2, 3), center=False, scale=False, name="standardize")(inputs)
    x = _conv_block(x, CONV_FILTERS[0], "conv1")
    x = _conv_block(x, CONV_FILTERS[1], "conv2")
    x = layers.MaxPooling2D(name="pool1")(x)
    x = _conv_block(x, CONV_FILTERS[2], "conv3")
    x = _conv_block(x, CONV_FILTERS[3], "conv4")
    x = layers.MaxPooling2D(name="pool2")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(128, use_bias=False, name="dense")(x)
    x = layers.BatchNormalization(name="dense_bn")(x)
    x = layers.Activation("relu", name="dense_relu")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    logits = layers.Dense(10, name=LOGITS_LAYER)(x)
    probabilities = layers.Activation("softmax", name=PROBABILITIES_LAYER)(logits)
    return keras.Model(inputs, probabilities, name="digit_cnn")
