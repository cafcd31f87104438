"""Evaluation page, robustness: accuracy per MNIST-C corruption; a bar's misread digits, corrupted, explained."""

from __future__ import annotations

from typing import Any

import numpy as np
from dash import Input, Output, State, callback, html
from dash.exceptions import PreventUpdate

from callbacks import model_service
from callbacks.evaluation import GALLERY_LIMIT, sample_card
from callbacks.figures import message_figure, robustness_figure, robustness_summary
from callbacks.models import session_model
from callbacks.predict import mnist_test_set
from layouts import ids
from layouts.shell import NO_COMPARISON
from models.corruptions import corrupt
from models.inference import ModelLoadError
from models.mnist import MnistError
from models.robustness import SEED


def robustness_sections(reports: dict[str, dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """(model name, robustness section) of each report that has one, in the order given."""
    return [(name, report["robustness"]) for name, report in reports.items() if report.get("robustness")]


def corruption_samples(section: dict[str, Any], corruption: str, images: np.ndarray, labels: np.ndarray,
                       limit: int = GALLERY_LIMIT) -> list[dict[str, Any]]:
    """The misread digits of one corruption, rebuilt exactly as they were evaluated (same seed and index).

    Each is {"index", "true", "predicted", "image"}: the corrupted 28x28 digit in [0, 1].
    """
    row = next((row for row in section["corruptions"] if row["name"] == corruption), None)
    if row is None:
        return []
    seed = section.get("seed", SEED)
    return [{"index": index, "true": int(labels[index]), "predicted": predicted,
             "image": corrupt(corruption, images[index], index, seed)}
            for index, predicted in zip(row["misread"][:limit], row["predicted"][:limit], strict=True)]


@callback(Output(ids.ROBUSTNESS_FIGURE, "figure"), Output(ids.ROBUSTNESS_SUMMARY, "children"),
          Input(ids.EVALUATION_OPENED, "data"), Input(ids.SELECTED_MODEL, "data"), Input(ids.COMPARE_MODEL, "data"))
def show_robustness(_opened, model, compared):
    """The session's model's bars, and the compared model's beside them."""
    service = model_service()
    model = session_model(model)
    names = [model]
    if compared not in (None, NO_COMPARISON, model) and compared in {entry.name for entry in service.models()}:
        names.append(compared)
    try:
        sections = robustness_sections({name: service.report(name) for name in names})
    except (MnistError, ModelLoadError) as exc:
        return message_figure("No report"), f"No robustness report: {exc}"
    if not sections:
        message = "This report has no robustness section: run `python -m train.evaluate` to add it."
        return message_figure(message), message
    return robustness_figure(sections), robustness_summary(sections)


@callback(Output(ids.MISCLASSIFIED_GALLERY, "children", allow_duplicate=True),
          Input(ids.ROBUSTNESS_FIGURE, "clickData"), State(ids.SELECTED_LAYER, "data"),
          prevent_initial_call=True)
def show_corruption(click, selected):
    """A bar's misread digits under its corruption, each with the Grad-CAM map of the wrong answer."""
    if not click:
        raise PreventUpdate
    name, corruption = click["points"][0]["customdata"]
    service = model_service()
    section = service.report(name)["robustness"]
    images, labels = mnist_test_set()
    samples = corruption_samples(section, corruption, images, labels)
    row = next(row for row in section["corruptions"] if row["name"] == corruption)
    if not samples:
        return html.P(f"{name} read every digit under {corruption} right.", className="text-muted")
    layer = service.layer(selected, name)
    classes = np.array([s["predicted"] for s in samples])
    probabilities, heatmaps, _, _ = service.load(name).explain_batch(
        np.stack([s["image"] for s in samples]), layer, "gradcam", classes)
    for sample, probability in zip(samples, probabilities, strict=True):
        sample["confidence"] = float(probability[sample["predicted"]])
    misread = round((1 - row["accuracy"]) * section["digits"])
    heading = (f"{name} under {corruption}: {misread:,} of {section['digits']:,} test digits misread "
               f"({row['accuracy']:.1%} right), the first {len(samples)} shown as the model saw them; "
               f"Grad-CAM at {layer} for the wrong answer. A digit opens uncorrupted on the Predict page.")
    return [html.P(heading, className="text-muted"),
            html.Div([sample_card(s, h, corruption) for s, h in zip(samples, heatmaps, strict=True)],
                     className="sample-grid")]
