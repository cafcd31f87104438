"""The shipped digit CNN, built with the Functional API.

It ends in global average pooling, a logits ``Dense(10)`` and a separate softmax ``Activation``.
Nothing else relies on its layer names: the app reads every model through ``models.adapter``.
"""

from __future__ import annotations

import keras
from keras import layers

INPUT_SHAPE = (28, 28, 1)
LOGITS_LAYER = "logits"
PROBABILITIES_LAYER = "probabilities"


def _conv_block(x, filters: int, name: str):
    # No bias and no BatchNorm: paper (0 after ``paper_at_zero``) stays exactly 0 through every
    # layer, so each layer's activations, and every map made of them, live on the ink.
    return layers.Conv2D(filters, 3, padding="same", use_bias=False, activation="relu",
                         kernel_initializer="he_normal", name=name)(x)


# conv1..conv4 at 28, 28, 14 and 7 pixels: about the multiply-adds of the previous Flatten + Dense
# network (every explanation sends 15 digits through it, so its cost is most of a request's time).
CONV_FILTERS = (16, 32, 48, 64)


def build_digit_cnn(dropout: float = 0.2) -> keras.Model:
    """Per-image standardisation, four 3x3 convs (``CONV_FILTERS``) with BatchNorm + ReLU, max-pool
    after conv2 and conv3, global average pooling, logits.

    The standardisation (each image to zero mean, unit variance; no weights) makes the network
    blind to a grey or brighter background: without it conv1's BatchNorm, whose statistics come
    from black backgrounds, shifted every activation by many standard deviations and a bright
    image read as one class whatever its digit.

    The head pools globally before its one linear layer, so each class score is a sum over places
    of conv4's evidence: Grad-CAM at conv4 is then the class activation map of Zhou et al. 2016,
    faithful by construction. Behind Flatten + Dense, Grad-CAM's spatial average of the gradient
    lost where the evidence was (HiResCAM, Draelos & Carin 2020), and its maps were barely better
    than a random order. The pooled 128 features are also what the not-a-digit detectors measure.
    """
    inputs = keras.Input(shape=INPUT_SHAPE, name="digit")
    x = layers.LayerNormalization(axis=(1, 2, 3), center=False, scale=False, name="standardize")(inputs)
    darkest = layers.GlobalMaxPooling2D(keepdims=True, name="darkest")(layers.Rescaling(-1.0, name="negate")(x))
    x = layers.Add(name="paper_at_zero")([x, darkest])
    x = _conv_block(x, CONV_FILTERS[0], "conv1")
    x = _conv_block(x, CONV_FILTERS[1], "conv2")
    x = layers.MaxPooling2D(name="pool1")(x)
    x = _conv_block(x, CONV_FILTERS[2], "conv3")
    x = _conv_block(x, CONV_FILTERS[3], "conv4")
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    logits = layers.Dense(10, name=LOGITS_LAYER)(x)
    probabilities = layers.Activation("softmax", name=PROBABILITIES_LAYER)(logits)
    return keras.Model(inputs, probabilities, name="digit_cnn")
