"""The explanation methods: one entry each, spelled once (TensorFlow-free).

The API, the CLI, the dropdowns and the tests read this list; ``models.explain`` holds one
weighting rule per class-activation method and one attribution function per pixel-level method
(``needs_layer=False``: it explains the input pixels, so a layer is accepted and ignored, as
captum splits layer and input attribution). Adding a method is an entry here and a rule there.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Method:
    name: str  # the value of the API's and the CLI's `method` field
    label: str  # what people read in the UI
    description: str  # one line: what the map shows
    needs_layer: bool = True  # False: a pixel-level method, whose explanation's layer is null


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
    Method("occlusion", "Occlusion",
           "Zeiler & Fergus 2014: how much the probability drops when a patch of the input is blacked out.",
           needs_layer=False),
    Method("integrated_gradients", "Integrated Gradients",
           "Sundararajan et al. 2017: gradients summed along the path from a black image; sums to the score.",
           needs_layer=False),
)
METHOD_NAMES = tuple(method.name for method in METHODS)
METHOD_LABELS = {method.name: method.label for method in METHODS}
LAYER_METHODS = tuple(method.name for method in METHODS if method.needs_layer)
PIXEL_METHODS = tuple(method.name for method in METHODS if not method.needs_layer)
DEFAULT_METHOD = "gradcam"


def unknown_method_message(name: object) -> str:
    return f"Unknown method {name!r}: send one of {', '.join(METHOD_NAMES)}."


def needs_layer(name: str) -> bool:
    return name not in PIXEL_METHODS
