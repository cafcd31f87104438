"""Deletion / insertion faithfulness of a saliency map (Petsiuk et al. 2018, RISE).

Pixels are removed from the input (deletion) or revealed on a blank input (insertion) in
the order of the map, hottest first; the class probability is recorded after each step and
the area under that curve, in [0, 1], summarises it. A faithful map makes the probability
fall fast on deletion (low AUC) and rise fast on insertion (high AUC). The inner steps of all
images go through the network batched, the deleted ones and the revealed ones as two batches
that can run side by side; the end points are not recomputed (the input itself was just
explained, and the blank input's answer is a constant of the model).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import tensorflow as tf


def faithfulness_auc(images: tf.Tensor, maps: tf.Tensor, classes: tf.Tensor, original: tf.Tensor,
                     blank: tf.Tensor, probabilities: Callable[[tf.Tensor], tf.Tensor], steps: int) -> tf.Tensor:
    """(B, 2) deletion and insertion AUC.

    images (B, H, W, 1) with a static H and W, maps (B, H, W), classes (B,); original and blank
    (B,): the class probability on the unchanged and on the all-zero input;
    ``probabilities(images) -> (N, classes)`` is the network.
    """
    b = tf.shape(images)[0]
    shape = images.shape[1:]
    pixels = shape[0] * shape[1]
    flat = tf.reshape(images, (b, 1, pixels))
    order = tf.argsort(-tf.reshape(maps, (b, pixels)), axis=-1, stable=True)
    rank = tf.argsort(order, axis=-1, stable=True)  # position of each pixel in the map's order
    counts = np.round(np.linspace(0, pixels, steps + 1)).astype(np.int32)[1:-1, None]
    chosen = rank[:, None, :] < counts  # (B, steps-1, pixels): the inner steps
    # Two batches, not one: independent ops, so two inter-op threads run them side by side.
    deleted = probabilities(tf.reshape(tf.where(chosen, 0.0, flat), (-1, *shape)))
    revealed = probabilities(tf.reshape(tf.where(chosen, flat, 0.0), (-1, *shape)))
    scores = tf.reshape(tf.stack([deleted, revealed], axis=1), (b, steps - 1, 2, -1))
    inner = tf.gather(scores, classes, axis=3, batch_dims=1)  # (B, steps-1, 2)
    # Trapezoids over equal steps: deletion runs original -> blank, insertion blank -> original, so
    # both curves have the same two end points, each weighing half a step.
    return (tf.reduce_sum(inner, axis=1) + 0.5 * (original + blank)[:, None]) / steps
