"""Thin callbacks, one module per page: UI state -> calls on the model service -> figures.

Callbacks reach the app's ``ModelService`` (``dashapp.service``) through the Flask server it is
registered on, so this package never imports ``dashapp``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app

if TYPE_CHECKING:
    from dashapp.service import ModelService

SERVICE_EXTENSION = "digit_inspector"


def model_service() -> ModelService:
    """The model service of the app serving the current request."""
    return current_app.extensions[SERVICE_EXTENSION]
