"""Deletion / insertion faithfulness of a saliency map (Petsiuk et al. 2018, RISE).

Pixels are removed from the input (deletion) or revealed on a blank input (insertion) in
the order of the map, hottest first; the class probability is recorded after each step and
the area under that curve, in [0, 1], summarises it. A faithful map makes the probability
fall fast on deletion (low AUC) and rise fast on insertion (high AUC). All steps of all
images go through the network in one batched forward pass.
"""

from __future__ import annotations

from collections.abc import Callable

import tensorflow as tf


def auc(curves: tf.Tensor) -> tf.Tensor:
    """Trapezoid area under curves sampled at equal steps over [0, 1] (last axis)."""
    steps = tf.cast(tf.shape(curves)[-1] - 1, curves.dtype)
    return (tf.reduce_sum(curves, -1) - 0.5 * (curves[..., 0] + curves[..., -1])) / steps


def compile_faithfulness(engine, steps: int) -> Callable:
    """``(images (B,28,28), maps (B,28,28), classes (B,)) -> (B, 2)`` deletion and insertion AUC."""

    @tf.function(input_signature=[tf.TensorSpec([None, 28, 28], tf.float32),
                                  tf.TensorSpec([None, 28, 28], tf.float32),
                                  tf.TensorSpec([None], tf.int32)])
    def faithfulness(images, maps, classes):
        b = tf.shape(images)[0]
        pixels = 28 * 28
        flat = tf.reshape(images, (b, 1, pixels))
        order = tf.argsort(-tf.reshape(maps, (b, pixels)), axis=-1, stable=True)
        rank = tf.argsort(order, axis=-1, stable=True)  # position of each pixel in the order
        counts = tf.cast(tf.round(tf.linspace(0.0, float(pixels), steps + 1)), tf.int32)
        chosen = rank[:, None, :] < counts[None, :, None]  # (B, steps+1, pixels)
        deleted = tf.where(chosen, 0.0, flat)
        inserted = tf.where(chosen, flat, 0.0)
        batch = tf.reshape(tf.concat([deleted, inserted], axis=1), (-1, 28, 28, 1))
        scores = engine._class_probability(batch, tf.repeat(classes, 2 * (steps + 1)))
        curves = tf.reshape(scores, (b, 2, steps + 1))
        return auc(curves)

    return faithfulness
