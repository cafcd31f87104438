"""Layers page: the conv-layer table, picking the target layer, the feature maps of the current digit."""

from __future__ import annotations

from typing import Any

import numpy as np
from dash import Input, Output, callback
from dash.exceptions import PreventUpdate

from callbacks import model_service
from callbacks.figures import feature_maps_figure, message_figure
from callbacks.models import session_model
from layouts import ids

# Two lines in the figure: a plotly annotation does not wrap, and a phone is narrower than one.
NO_DIGIT = ("Draw or upload a digit on the Predict page", "to see what this layer responds to.")
SELECTED_ROW_STYLE = {"backgroundColor": "#e7f0fd", "fontWeight": "bold"}


def layer_rows(conv_layers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``DigitModel.conv_layers()`` -> table rows (``id`` is the layer name, so clicks report it)."""
    return [{
        "id": layer["name"],
        "name": layer["name"],
        "type": layer["type"],
        "output_shape": " × ".join(str(d) for d in layer["output_shape"]),
        "params": f"{layer['params']:,}",
        "kernel": " × ".join(str(k) for k in layer["kernel"]),
        "receptive_field": f"{layer['receptive_field']} × {layer['receptive_field']} px",
    } for layer in conv_layers]


@callback(Output(ids.LAYERS_TABLE, "data"), Output(ids.LAYERS_TABLE, "style_data_conditional"),
          Input(ids.SELECTED_LAYER, "data"), Input(ids.SELECTED_MODEL, "data"))
def show_layers(selected, model):
    service, model = model_service(), session_model(model)
    layer = service.layer(selected, model)  # a layer of another model: this one's default
    highlight = [{"if": {"state": "active"}, **SELECTED_ROW_STYLE, "border": "none"},
                 {"if": {"filter_query": f'{{name}} = "{layer}"'}, **SELECTED_ROW_STYLE}]
    return layer_rows(service.load(model).conv_layers()), highlight


@callback(Output(ids.SELECTED_LAYER, "data", allow_duplicate=True), Input(ids.LAYERS_TABLE, "active_cell"),
          prevent_initial_call=True)
def select_layer(cell):
    if not cell:
        raise PreventUpdate
    return cell["row_id"]


def feature_maps_summary(maps: np.ndarray, layer: str) -> str:
    """The feature-map grid in words: its size and the channels that respond most to the digit."""
    h, w, k = maps.shape
    peaks = maps.reshape(-1, k).max(axis=0)
    strongest = [int(c) for c in np.argsort(-peaks, kind="stable")[:3] if peaks[c] > 0]
    answer = f"Feature maps of {layer}: {k} channels of {h} by {w} pixels for the digit last read. "
    if not strongest:
        return answer + "No channel responds to it."
    return answer + f"The channels that respond most are {', '.join(map(str, strongest))}."


@callback(Output(ids.FEATURE_MAPS, "figure"), Output(ids.FEATURE_MAPS_SUMMARY, "children"),
          Input(ids.CURRENT_DIGIT, "data"), Input(ids.SELECTED_LAYER, "data"), Input(ids.SELECTED_MODEL, "data"))
def show_feature_maps(digit, selected, model):
    if digit is None:
        return message_figure("<br>".join(NO_DIGIT)), " ".join(NO_DIGIT)
    service, model = model_service(), session_model(model)
    layer = service.layer(selected, model)
    maps = service.load(model).feature_maps(np.asarray(digit, np.float32), layer)
    return feature_maps_figure(maps, layer), feature_maps_summary(np.asarray(maps), layer)
