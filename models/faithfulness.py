"""Deletion / insertion faithfulness of a saliency map (Petsiuk et al. 2018, RISE).

Pixels are removed from the input (deletion) or revealed on a blank input (insertion) in
the order of the map, hottest first; the class probability is recorded after each step and
the area under that curve, in [0, 1], summarises it. A faithful map makes the probability
fall fast on deletion (low AUC) and rise fast on insertion (high AUC). All steps of all
images go through the network in one batched forward pass; the end points are not recomputed
(the input itself was just explained, and the blank input's answer is a constant of the model).
"""

from __future__ import annotations

from collections.abc import Callable

import tensorflow as tf

PIXELS = 28 * 28


def auc(curves: tf.Tensor) -> tf.Tensor:
    """Trapezoid area under curves sampled at equal steps over [0, 1] (last axis)."""
    steps = tf.cast(tf.shape(curves)[-1] - 1, curves.dtype)
    return (tf.reduce_sum(curves, -1) - 0.5 * (curves[..., 0] + curves[..., -1])) / steps


def faithfulness_auc(images: tf.Tensor, maps: tf.Tensor, classes: tf.Tensor, original: tf.Tensor,
                     blank: tf.Tensor, probabilities: Callable[[tf.Tensor], tf.Tensor], steps: int) -> tf.Tensor:
    """(B, 2) deletion and insertion AUC.

    images (B, 28, 28, 1), maps (B, 28, 28), classes (B,); original and blank (B,): the class
    probability on the unchanged and on the all-zero input; ``probabilities(images) -> (N, 10)``
    is the network.
    """
    b = tf.shape(images)[0]
    flat = tf.reshape(images, (b, 1, PIXELS))
    order = tf.argsort(-tf.reshape(maps, (b, PIXELS)), axis=-1, stable=True)
    rank = tf.argsort(order, axis=-1, stable=True)  # position of each pixel in the map's order
    counts = tf.cast(tf.round(tf.linspace(0.0, float(PIXELS), steps + 1)), tf.int32)[1:-1]
    chosen = rank[:, None, :] < counts[None, :, None]  # (B, steps-1, pixels): the inner steps
    sequences = tf.concat([tf.where(chosen, 0.0, flat), tf.where(chosen, flat, 0.0)], axis=1)
    scores = probabilities(tf.reshape(sequences, (-1, 28, 28, 1)))
    inner = tf.gather(scores, tf.repeat(classes, 2 * (steps - 1)), batch_dims=1)
    inner = tf.reshape(inner, (b, 2, steps - 1))
    blank = blank[:, None]
    deletion = tf.concat([original[:, None], inner[:, 0], blank], axis=1)
    insertion = tf.concat([blank, inner[:, 1], original[:, None]], axis=1)
    return tf.stack([auc(deletion), auc(insertion)], axis=-1)
