"""The evaluation report: accuracy, per-class metrics, confusion matrix, mistakes, calibration."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

CALIBRATION_BINS = 10


def confusion_matrix(true: np.ndarray, predicted: np.ndarray, classes: int = 10) -> np.ndarray:
    """Counts, rows = true digit, columns = predicted digit."""
    matrix = np.zeros((classes, classes), np.int64)
    np.add.at(matrix, (true, predicted), 1)
    return matrix


def per_class_metrics(matrix: np.ndarray) -> list[dict[str, Any]]:
    rows = []
    for digit in range(len(matrix)):
        tp = matrix[digit, digit]
        predicted, actual = matrix[:, digit].sum(), matrix[digit].sum()
        precision = tp / predicted if predicted else 0.0
        recall = tp / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        rows.append({"digit": digit, "precision": float(precision), "recall": float(recall),
                     "f1": float(f1), "support": int(actual)})
    return rows


def calibration(confidence: np.ndarray, correct: np.ndarray, bins: int = CALIBRATION_BINS) -> dict[str, Any]:
    """Reliability diagram bins and the expected calibration error (Guo et al. 2017)."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    rows, ece = [], 0.0
    for b in range(bins):
        inside = index == b
        count = int(inside.sum())
        accuracy = float(correct[inside].mean()) if count else None
        mean_confidence = float(confidence[inside].mean()) if count else None
        if count:
            ece += count / len(confidence) * abs(accuracy - mean_confidence)
        rows.append({"lower": float(edges[b]), "upper": float(edges[b + 1]), "count": count,
                     "accuracy": accuracy, "confidence": mean_confidence})
    return {"bins": rows, "ece": float(ece)}


def evaluation_report(probabilities: np.ndarray, labels: np.ndarray, images: np.ndarray,
                      model_name: str) -> dict[str, Any]:
    """Build the report from test-set probabilities (N, 10), labels (N,) and uint8 images (N, 28, 28)."""
    predicted = probabilities.argmax(axis=1)
    confidence = probabilities.max(axis=1)
    correct = predicted == labels
    matrix = confusion_matrix(labels, predicted, classes=probabilities.shape[1])
    mistakes = []
    for index in np.flatnonzero(~correct):
        top = np.argsort(-probabilities[index], kind="stable")[:3]
        mistakes.append({
            "index": int(index),
            "true": int(labels[index]),
            "predicted": int(predicted[index]),
            "confidence": round(float(confidence[index]), 6),
            "top": [{"digit": int(d), "probability": round(float(probabilities[index, d]), 6)} for d in top],
            "image": images[index].astype(int).tolist(),  # so the app can show it without MNIST
        })
    return {
        "model": model_name,
        "test_size": int(len(labels)),
        "test_accuracy": float(correct.mean()),
        "classes": per_class_metrics(matrix),
        "confusion_matrix": matrix.tolist(),
        "misclassified": mistakes,
        "calibration": calibration(confidence, correct),
    }


def evaluate(model, batch_size: int = 1000, progress: Callable[[float], None] | None = None) -> dict[str, Any]:
    """Run a ``DigitModel`` over the MNIST test set and build its report; ``progress`` gets the fraction done."""
    from models.mnist import load_mnist

    _, _, x_test, y_test = load_mnist()
    x = x_test.astype(np.float32) / 255.0
    batches = []
    for start in range(0, len(x), batch_size):
        batches.append(model.probabilities(x[start:start + batch_size]))
        if progress:
            progress(min(start + batch_size, len(x)) / len(x))
    return evaluation_report(np.concatenate(batches), y_test.astype(np.int64), x_test, model.name)


def explanations(model, digits: int | None = None, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """The report's ``explanations`` section (``models.scoreboard``) over the first MNIST test digits."""
    from models.mnist import load_mnist
    from models.scoreboard import SCOREBOARD_DIGITS, explanations_section

    _, _, x_test, _ = load_mnist()
    images = x_test[:digits or SCOREBOARD_DIGITS].astype(np.float32) / 255.0
    return explanations_section(model, images, progress=progress)
