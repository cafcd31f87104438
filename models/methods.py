"""The explanation methods: one entry each, spelled once (TensorFlow-free).

The API, the CLI, the dropdowns and the tests read this list; ``models.explain`` holds one
weighting rule per entry. Adding a method is an entry here and a rule there.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Method:
    name: str  # the value of the API's and the CLI's `method` field
    label: str  # what people read in the UI
    description: str  # one line: what the map shows


METHODS = (
    Method("gradcam", "Grad-CAM",
           "Selvaraju et al. 2017: each channel weighted by its mean gradient; coarse, stable."),
    Method("gradcam++", "Grad-CAM++",
           "Chattopadhay et al. 2018: pixel-wise gradient weights; better for several instances."),
    Method("layercam", "Layer-CAM",
           "Jiang et al. 2021: positive gradient x activation per pixel; sharp at shallow layers."),
    Method("hirescam", "HiResCAM",
           "Draelos & Carin 2020: gradient x activation per pixel, no averaging; faithful to the layer."),
    Method("scorecam", "Score-CAM",
           "Wang et al. 2020: each channel weighted by the probability gain it alone brings; no gradients."),
)
METHOD_NAMES = tuple(method.name for method in METHODS)
METHOD_LABELS = {method.name: method.label for method in METHODS}
DEFAULT_METHOD = "gradcam"


def unknown_method_message(name: object) -> str:
    return f"Unknown method {name!r}: send one of {', '.join(METHOD_NAMES)}."
