"""The digit CNN, built with the Functional API.

Keras 3 cannot take gradients through a sub-model cut out of a loaded ``Sequential``
(the gradients come back as None and Grad-CAM silently breaks), so the network is
Functional, and it ends in a logits ``Dense(10)`` followed by a separate softmax
``Activation``: Grad-CAM needs the class score *before* softmax.
"""

from __future__ import annotations

import keras
import numpy as np
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


def _is_chain(model: keras.Model) -> bool:
    """Whether every layer takes exactly the previous layer's output (as ``build_digit_cnn`` makes)."""
    chain = model.layers
    return (all(layer.input is previous.output for previous, layer in zip(chain, chain[1:], strict=False))
            and len(model.outputs) == 1 and model.outputs[0] is chain[-1].output)


def _clone(layer: layers.Layer, **changes) -> layers.Layer:
    return type(layer).from_config({**layer.get_config(), **changes})


def fold_batch_norm(model: keras.Model) -> keras.Model:
    """An inference copy with each BatchNormalization folded into the Conv2D or Dense before it.

    At inference BatchNorm is a per-channel affine map, so ``bn(conv(x))`` is one convolution with
    scaled kernels and a bias: the same outputs (to float rounding) for fewer passes over the
    activations. Layer names are kept, and each ``convN_relu`` still outputs what it did, so the
    Grad-CAM taps are unchanged. A model that is not a plain chain of layers is returned as it is.
    """
    if not _is_chain(model):
        return model
    stack = model.layers[1:]  # after the InputLayer
    x = inputs = keras.Input(shape=model.input.shape[1:], name=model.layers[0].name)
    copies: list[tuple[layers.Layer, list]] = []
    i = 0
    while i < len(stack):
        layer = stack[i]
        following = stack[i + 1] if i + 1 < len(stack) else None
        if isinstance(layer, (layers.Conv2D, layers.Dense)) and isinstance(following, layers.BatchNormalization):
            gamma, beta, mean, variance = (np.asarray(w) for w in following.get_weights())
            scale = gamma / np.sqrt(variance + following.epsilon)
            weights = layer.get_weights()
            bias = weights[1] if layer.use_bias else np.zeros_like(mean)
            copy = _clone(layer, use_bias=True)
            copies.append((copy, [weights[0] * scale, (bias - mean) * scale + beta]))
            i += 2
        else:
            copy = _clone(layer)
            copies.append((copy, layer.get_weights()))
            i += 1
        x = copy(x)
    folded = keras.Model(inputs, x, name=model.name)
    for copy, weights in copies:
        copy.set_weights(weights)
    return folded
