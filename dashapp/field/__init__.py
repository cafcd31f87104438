"""Field data: what people drew or sent, the model's answer and, when they gave it, the right one.

The one home of the field data (DESIGN.md "Field data"): the schema (``schema``), the engines and
migrations (``engine``), the queries (``store``) and what a record is made of (``records``). The
API, the callbacks and the CLI (``python -m dashapp.field``) call this package and write no SQL.

``FieldService`` is the app's handle: the recording mode, the store and the admin token check.
Nothing here connects at import: each process (a gunicorn worker, after the fork) makes its
own engine on first use.
"""

from __future__ import annotations

import hmac
from pathlib import Path
from typing import Any

from flask import Flask

from dashapp.field.records import LABELS, NOT_A_DIGIT, FieldInputError, file_sha256, new_record, parse_label
from dashapp.field.store import FieldStore, FieldUnavailable, Filters, UnknownRecord
from dashapp.settings import Settings

__all__ = ["FIELD_EXTENSION", "LABELS", "NOT_A_DIGIT", "AccessRefused", "FieldInputError", "FieldService", "FieldStore",
           "FieldUnavailable", "Filters", "UnknownRecord", "bearer_token", "parse_label"]

FIELD_EXTENSION = "digit_inspector_field"
KEPT_SENTENCES = {
    "feedback": "Pressing a button keeps this digit (as the model saw it, a small picture of it, your strokes), "
                "the model's answer and yours, to check and improve the model. Nothing is kept otherwise.",
    "all": "This server keeps every digit it reads (as the model saw it, a small picture, your strokes) with "
           "the model's answer; a button adds the right answer to it.",
    "off": "Field data is off on this server: nothing is kept, and the buttons are off.",
}


class AccessRefused(Exception):
    """The admin token is not set on the server (403) or not sent / wrong (401); the message says which."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def bearer_token(header: str | None) -> str:
    """The token of an ``Authorization: Bearer TOKEN`` header ("" when there is none)."""
    scheme, _, token = (header or "").strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


class FieldService:
    """The field data of one app: its mode, its store, who may read it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = FieldStore(settings.database_url, settings.field_retention_days)

    def init_app(self, server: Flask) -> None:
        server.extensions[FIELD_EXTENSION] = self

    @staticmethod
    def of(server: Flask) -> FieldService:
        return server.extensions[FIELD_EXTENSION]

    @property
    def mode(self) -> str:
        return self.settings.field_mode

    @property
    def kept_sentence(self) -> str:
        return KEPT_SENTENCES[self.mode]

    def check_admin(self, token: str | None) -> None:
        """Raise ``AccessRefused`` unless the admin token is given (under gunicorn; locally anyone may read).

        Compared in constant time: how long a refusal takes says nothing about the token.
        """
        if not self.settings.admin_required:
            return
        expected = self.settings.admin_token
        if not expected:
            raise AccessRefused("Field data is locked on this server because no admin token is set: set "
                                "DIGIT_INSPECTOR_ADMIN_TOKEN and send it as Authorization: Bearer TOKEN.", 403)
        if not token or not hmac.compare_digest(token.encode("utf-8"), expected.encode("utf-8")):
            raise AccessRefused("Field data needs the admin token: send Authorization: Bearer TOKEN with the "
                                "value of DIGIT_INSPECTOR_ADMIN_TOKEN." if not token else
                                "That admin token is wrong: send the value of DIGIT_INSPECTOR_ADMIN_TOKEN.", 401)

    def keep(self, prediction: dict[str, Any], model: str, model_path: Path, source: str, thumbnail: bytes,
             strokes: list[str] | None = None, label: int | None = None) -> int:
        """Store one record; its id. Raises ``FieldUnavailable`` when the database cannot take it."""
        if self.mode == "off":
            raise FieldInputError("Field data is off on this server (DIGIT_INSPECTOR_FIELD=off): nothing is kept.")
        return self.store.add(new_record(prediction, model, file_sha256(model_path), source, thumbnail, strokes,
                                         label))
