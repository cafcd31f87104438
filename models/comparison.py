"""Two models' evaluation reports side by side (the evaluation page's ``comparison``), from the reports alone."""

from __future__ import annotations

from typing import Any


def compare_reports(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """Accuracy and per-class F1 of both models, and the test digits exactly one of them reads right.

    Each such digit carries its image (from the report of the model that got it wrong) and what
    each model read, so that the page can show it with both models' maps.
    """
    names = [first["model"], second["model"]]
    wrong = [{m["index"]: m for m in report["misclassified"]} for report in (first, second)]
    digits = []
    for index in sorted(set(wrong[0]) ^ set(wrong[1])):
        mistake = wrong[0].get(index) or wrong[1][index]
        read = [wrong[k][index]["predicted"] if index in wrong[k] else mistake["true"] for k in (0, 1)]
        digits.append({"index": index, "true": mistake["true"], "read": dict(zip(names, read, strict=True)),
                       "right": names[0] if index in wrong[1] else names[1], "image": mistake["image"]})
    return {
        "models": names,
        "test_accuracy": [first["test_accuracy"], second["test_accuracy"]],
        "classes": [{"digit": a["digit"], "f1": [a["f1"], b["f1"]]}
                    for a, b in zip(first["classes"], second["classes"], strict=True)],
        "only_one_right": digits,
    }
