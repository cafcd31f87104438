"""Explanations page (/explanations): which method and layer to trust on this model."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts import ids
from layouts.shell import session_stores

PAGE = {"path": "/explanations", "name": "Explanations", "title": "Digit Inspector: which explanation to trust",
        "order": 3}


def _stores() -> list[dcc.Store]:
    # The navbar's model choice (selected-model) is in the shell, beside its menu.
    return [*session_stores(), dcc.Store(id=ids.EXPLANATIONS_OPENED, data=True)]


def _chart(graph_id: str, text_id: str, heading: str, caption: str) -> html.Section:
    return html.Section([
        html.H2(heading, className="h5 mt-3"),
        html.P(caption, className="small text-muted mb-0"),
        dcc.Loading(dcc.Graph(id=graph_id, config={"displayModeBar": False}), delay_show=300),
        html.Details([html.Summary("The chart as text", className="small"),  # its text alternative
                      html.P(id=text_id, className="small text-muted")]),
    ])


def layout() -> html.Div:
    return html.Div([
        *_stores(),
        html.H1("Which explanation to trust", className="h3"),
        html.P("Every method at every conv layer, scored over MNIST test digits: how faithful its maps are "
               "(removing the hottest pixels first should make the answer collapse, revealing them first should "
               "bring it back), how often a map is empty, and whether it survives the sanity check (a map that "
               "stays the same once the model's weights are randomised does not explain the model).",
               className="text-muted"),
        html.Div(id=ids.EXPLANATIONS_STATUS),
        dbc.Alert(id=ids.RECOMMENDATION, color="primary", className="py-2"),
        _chart(ids.METHOD_SCOREBOARD, ids.METHOD_SCOREBOARD_TEXT, "Scoreboard: methods × layers",
               "Colour: insertion minus deletion AUC (higher is more faithful); hover a cell for its numbers."),
        _chart(ids.SANITY_FIGURE, ids.SANITY_FIGURE_TEXT, "Sanity check: cascading randomisation",
               "Rank correlation of each method's maps once the weights from the logits down to a layer are "
               "randomised (Adebayo et al. 2018); below the dotted line passes."),
        html.H2("Is it a digit at all?", className="h4 mt-4"),
        html.P("Each not-a-digit detector scores how unlike the model's training digits an input is; its threshold "
               "keeps 99 % of the MNIST test digits. Left: how many of each kind of non-digit it flags; right: how "
               "many real digits of each kind it flags by mistake. The app uses the best one on this model.",
               className="text-muted"),
        dbc.Alert(id=ids.NOVELTY_ADVICE, color="secondary", className="py-2"),
        _chart(ids.NOVELTY_SCOREBOARD, ids.NOVELTY_SCOREBOARD_TEXT, "Scoreboard: not-a-digit detectors × kinds",
               "Hover a cell for the detector's AUROC on that kind and how many of it pass for digits at 95 % TPR."),
    ])
