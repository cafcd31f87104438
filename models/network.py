"""The shipped digit CNN, built with the Functional API.

It ends in global average pooling of every conv layer, a logits ``Dense(10)`` and a separate
softmax ``Activation``.
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


# conv1..conv4 at 28, 28, 14 and 14 pixels: about the multiply-adds of the previous Flatten + Dense
# network (every explanation sends 15 digits through it, so its cost is most of a request's time).
CONV_FILTERS = (16, 32, 48, 64)


def build_digit_cnn(dropout: float = 0.2) -> keras.Model:
    """Per-image standardisation with the paper at 0, four 3x3 convs (``CONV_FILTERS``, ReLU), max-pool
    after conv2, then a head that pools every conv layer globally and reads the pooled channels with
    one linear layer: the logits.

    The standardisation (each image to zero mean and unit variance, then shifted so that its darkest
    pixel, the paper, is 0; no weights) makes the network blind to a grey or brighter background.

    The head: each class score is a sum, over the layers and their places, of each layer's own
    evidence, so Grad-CAM at every conv layer contains that layer's class activation map (Zhou et
    al. 2016) and at conv4 it is exactly that map. Behind Flatten + Dense, Grad-CAM's spatial average
    of the gradient lost where the evidence was (HiResCAM, Draelos & Carin 2020), and its maps were
    barely better than a random order. With no bias and no BatchNorm, paper stays exactly 0 through
    every layer, so activations and maps live on the ink. The pooled channels of all four layers are
    also the features the not-a-digit detectors measure.
    """
    inputs = keras.Input(shape=INPUT_SHAPE, name="digit")
    x = layers.LayerNormalization(axis=(1, 2, 3), center=False, scale=False, name="standardize")(inputs)
    darkest = layers.GlobalMaxPooling2D(keepdims=True, name="darkest")(layers.Rescaling(-1.0, name="negate")(x))
    x = layers.Add(name="paper_at_zero")([x, darkest])
    conv1 = _conv_block(x, CONV_FILTERS[0], "conv1")
    conv2 = _conv_block(conv1, CONV_FILTERS[1], "conv2")
    conv3 = _conv_block(layers.MaxPooling2D(name="pool1")(conv2), CONV_FILTERS[2], "conv3")
    conv4 = _conv_block(conv3, CONV_FILTERS[3], "conv4")
    pooled = [layers.GlobalAveragePooling2D(name=f"conv{i}_pool")(conv)
              for i, conv in enumerate((conv1, conv2, conv3, conv4), start=1)]
    x = layers.Concatenate(name="pooled")(pooled)
    x = layers.Dropout(dropout, name="dropout")(x)
    logits = layers.Dense(10, name=LOGITS_LAYER)(x)
    probabilities = layers.Activation("softmax", name=PROBABILITIES_LAYER)(logits)
    return keras.Model(inputs, probabilities, name="digit_cnn")
