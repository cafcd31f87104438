"""Explanations page: the report's scoreboard, its sanity check and what they recommend."""

from __future__ import annotations

from dash import Input, Output, callback, html

from callbacks import model_service
from callbacks.explanation_figures import sanity_figure, sanity_text, scoreboard_figure, scoreboard_text
from callbacks.figures import message_figure
from callbacks.novelty_figures import novelty_figure, novelty_text
from layouts import ids
from models.inference import ModelLoadError
from models.mnist import MnistError
from models.novelty import novelty_sentences
from models.preprocess import DigitInputError
from models.scoreboard import recommendation_sentences


@callback(Output(ids.METHOD_SCOREBOARD, "figure"), Output(ids.METHOD_SCOREBOARD_TEXT, "children"),
          Output(ids.SANITY_FIGURE, "figure"), Output(ids.SANITY_FIGURE_TEXT, "children"),
          Output(ids.RECOMMENDATION, "children"), Output(ids.EXPLANATIONS_STATUS, "children"),
          Input(ids.EXPLANATIONS_OPENED, "data"), Input(ids.SELECTED_MODEL, "data"))
def show_scoreboard(_opened, model):
    service = model_service()
    try:
        name = service.model_name(model or None)
        section = service.explanations(name)
    except (DigitInputError, ModelLoadError, MnistError) as exc:
        return _nothing(f"No scoreboard: {exc}")
    if section is None:
        return _nothing(f"Model {name} has no explanation scoreboard yet: run `python -m train.evaluate --model "
                        f"{name} --only explanations` (a few minutes), then reload this page.")
    sentences = recommendation_sentences(section)
    return (scoreboard_figure(section), scoreboard_text(section), sanity_figure(section), sanity_text(section),
            [html.Strong(sentences[0]), *(html.Div(s, className="small") for s in sentences[1:])],
            html.P(f"Model {name}: {section['digits']} test digits, sanity check over {section.get('sanity_digits')}.",
                   className="small text-muted"))


@callback(Output(ids.NOVELTY_SCOREBOARD, "figure"), Output(ids.NOVELTY_SCOREBOARD_TEXT, "children"),
          Output(ids.NOVELTY_ADVICE, "children"),
          Input(ids.EXPLANATIONS_OPENED, "data"), Input(ids.SELECTED_MODEL, "data"))
def show_novelty(_opened, model):
    """The report's not-a-digit scoreboard and which detector the app uses."""
    service = model_service()
    try:
        section = service.novelty(service.model_name(model or None))
    except (DigitInputError, ModelLoadError, MnistError) as exc:
        return message_figure("No scoreboard"), "", f"No not-a-digit scoreboard: {exc}"
    sentences = novelty_sentences(section)
    advice = [html.Strong(sentences[0]), *(html.Div(s, className="small") for s in sentences[1:])]
    if section is None:
        return message_figure("No scoreboard"), "", advice
    return novelty_figure(section), novelty_text(section), advice


def _nothing(message: str) -> tuple:
    return (message_figure("No scoreboard"), "", message_figure("No sanity check"), "", message,
            html.P(message, className="text-danger"))
