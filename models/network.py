"""The shipped digit CNN, built with the Functional API.

It ends in global average pooling, a small dense layer, a logits ``Dense(10)`` and a separate
softmax ``Activation``. Nothing else relies on its layer names: the app reads every model through
``models.adapter``.
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


# conv1..conv4 at 28, 28, 14 and 14 pixels: about the multiply-adds of the previous Flatten + Dense
# network (every explanation sends 15 digits through it, so its cost is most of a request's time).
CONV_FILTERS = (16, 32, 48, 64)


def build_digit_cnn(dropout: float = 0.3) -> keras.Model:
    """Per-image standardisation, four 3x3 convs (``CONV_FILTERS``) with BatchNorm + ReLU, max-pool
    after conv2, global average pooling of conv4, Dense(128) + BatchNorm + ReLU, dropout, logits.

    The standardisation (each image to zero mean, unit variance; no weights) makes the network
    blind to a grey or brighter background: without it conv1's BatchNorm, whose statistics come
    from black backgrounds, shifted every activation by many standard deviations and a bright
    image read as one class whatever its digit.

    The head pools conv4 over its places before anything else, so the gradient of a class score is
    the same at every place of conv4: Grad-CAM there weighs each channel by what it adds to the
    score wherever it fires, the class activation map of Zhou et al. 2016 taken through the dense
    layer. Behind Flatten + Dense, Grad-CAM's spatial average of the gradient lost where the evidence
    was (HiResCAM, Draelos & Carin 2020), and its maps were barely better than a random order.
    The 128 features before the logits are what the not-a-digit detectors measure.
    """
    inputs = keras.Input(shape=INPUT_SHAPE, name="digit")
    x = layers.LayerNormalization(axis=(1, 2, 3), center=False, scale=False, name="standardize")(inputs)
    x = _conv_block(x, CONV_FILTERS[0], "conv1")
    x = _conv_block(x, CONV_FILTERS[1], "conv2")
    x = layers.MaxPooling2D(name="pool1")(x)
    x = _conv_block(x, CONV_FILTERS[2], "conv3")
    x = _conv_block(x, CONV_FILTERS[3], "conv4")
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    x = layers.Dense(128, use_bias=False, name="dense")(x)
    x = layers.BatchNormalization(name="dense_bn")(x)
    x = layers.Activation("relu", name="dense_relu")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    logits = layers.Dense(10, name=LOGITS_LAYER)(x)
    probabilities = layers.Activation("softmax", name=PROBABILITIES_LAYER)(logits)
    return keras.Model(inputs, probabilities, name="digit_cnn")
