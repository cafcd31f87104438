"""The digit CNN, built with the Functional API.

Keras 3 cannot take gradients through a sub-model cut out of a loaded ``Sequential``
(the gradients come back as None and Grad-CAM silently breaks), so the network is
Functional, and it ends in a logits ``Dense(10)`` followed by a separate softmax
``Activation``: Grad-CAM needs the class score *before* softmax.
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


def build_digit_cnn(dropout: float = 0.3) -> keras.Model:
    """Four 3x3 convs (32-32-64-64) with BatchNorm + ReLU, max-pool after each pair."""
    inputs = keras.Input(shape=INPUT_SHAPE, name="digit")
    x = _conv_block(inputs, 32, "conv1")
    x = _conv_block(x, 32, "conv2")
    x = layers.MaxPooling2D(name="pool1")(x)
    x = _conv_block(x, 64, "conv3")
    x = _conv_block(x, 64, "conv4")
    x = layers.MaxPooling2D(name="pool2")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(128, use_bias=False, name="dense")(x)
    x = layers.BatchNormalization(name="dense_bn")(x)
    x = layers.Activation("relu", name="dense_relu")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    logits = layers.Dense(10, name=LOGITS_LAYER)(x)
    probabilities = layers.Activation("softmax", name=PROBABILITIES_LAYER)(logits)
    return keras.Model(inputs, probabilities, name="digit_cnn")


def conv_layer_names(model: keras.Model) -> list[str]:
    """Names of the model's convolution layers, input side first."""
    return [layer.name for layer in model.layers if isinstance(layer, layers.Conv2D)]


def receptive_fields(model: keras.Model) -> dict[str, int]:
    """Receptive field (pixels of the input) of each layer of a chain of convs and pools."""
    field, jump, fields = 1, 1, {}
    for layer in model.layers:
        if isinstance(layer, (layers.Conv2D, layers.MaxPooling2D)):
            kernel = layer.kernel_size[0] if isinstance(layer, layers.Conv2D) else layer.pool_size[0]
            field += (kernel - 1) * jump
            jump *= layer.strides[0]
        fields[layer.name] = field
    return fields
