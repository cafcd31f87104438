"""The model menus of every page: the session's model, a second one to compare with, model uploads."""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING, Any

from dash import Input, Output, State, callback, ctx, html, no_update

from callbacks import model_service
from layouts import ids
from layouts.shell import NO_COMPARISON

if TYPE_CHECKING:
    from dashapp.service import ModelService


def model_options(models: list[dict[str, Any]]) -> list[dict[str, str]]:
    """``ModelService.models_info()`` -> dropdown options: each name with its test accuracy when known."""
    return [{"label": f"{m['name']} ({m['test_accuracy']:.2%})" if m["test_accuracy"] is not None else m["name"],
             "value": m["name"]} for m in models]


def session_model(name: str | None) -> str:
    """The session's model (``selected-model``) if the server offers it, else the default one."""
    service = model_service()
    return name if name in {entry.name for entry in service.models()} else service.default_name


def chosen_model(value: str | None, stored: str | None, picked: bool, names: list[str], default: str) -> str:
    """The session's model: what was just picked, else what the session holds; the default for a name
    no longer offered (another server's session, a model file removed)."""
    name = value if picked else stored
    return name if name in names else default


@callback(Output(ids.MODEL_DROPDOWN, "options"), Output(ids.MODEL_DROPDOWN, "value"),
          Output(ids.SELECTED_MODEL, "data"),
          Input(ids.MODEL_DROPDOWN, "value"), Input(ids.SELECTED_MODEL, "data"))
def pick_model(value, stored):
    service = model_service()
    models = service.models_info()
    name = chosen_model(value, stored, ctx.triggered_id == ids.MODEL_DROPDOWN, [m["name"] for m in models],
                        service.default_name)
    return model_options(models), name, name


def compare_options(models: list[dict[str, Any]], selected: str) -> list[dict[str, str]]:
    """Every model but the session's own, after "none"."""
    return [{"label": "none", "value": NO_COMPARISON}] + [o for o in model_options(models) if o["value"] != selected]


@callback(Output(ids.COMPARE_DROPDOWN, "options"), Output(ids.COMPARE_DROPDOWN, "value"),
          Output(ids.COMPARE_MODEL, "data"),
          Input(ids.COMPARE_DROPDOWN, "value"), Input(ids.COMPARE_MODEL, "data"), Input(ids.SELECTED_MODEL, "data"))
def pick_comparison(value, stored, selected):
    service = model_service()
    models = service.models_info()
    names = [m["name"] for m in models]
    options = compare_options(models, chosen_model(selected, None, True, names, service.default_name))
    name = chosen_model(value, stored, ctx.triggered_id == ids.COMPARE_DROPDOWN,
                        [o["value"] for o in options], NO_COMPARISON)
    return options, name, name


def upload_model(service: ModelService, filename: str | None, contents: str | None) -> tuple[str | None, str]:
    """A dcc.Upload of a model -> (its name in the list, or None when refused; the sentence to show)."""
    from dashapp.service import UploadError

    try:
        data = base64.b64decode((contents or "").partition(",")[2], validate=True)
    except (binascii.Error, ValueError):
        data = b""
    try:
        name = service.save_upload(filename or "", data)
    except UploadError as exc:
        return None, str(exc)
    return name, f"{filename} was added as {name}, and is now the model of every page."


@callback(Output(ids.MODEL_DROPDOWN, "value", allow_duplicate=True), Output(ids.MODEL_UPLOAD_STATUS, "children"),
          Input(ids.MODEL_UPLOAD, "contents"), State(ids.MODEL_UPLOAD, "filename"), prevent_initial_call=True)
def add_uploaded_model(contents, filename):
    name, sentence = upload_model(model_service(), filename, contents)
    alert = html.P(sentence, className="alert alert-success py-2" if name else "alert alert-danger py-2")
    return name or no_update, alert
