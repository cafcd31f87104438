"""The Digit Inspector Dash app: ``create_app()`` builds it, ``dashapp.wsgi:server`` serves it.

Nothing here imports TensorFlow: the model is loaded by ``dashapp.service`` on first use, in the
process that serves requests (a gunicorn worker, after the fork).
"""

from __future__ import annotations

import io

import dash
from flask import Flask, Request, Response

import callbacks.evaluation  # noqa: F401  (importing a callbacks module registers its callbacks)
import callbacks.explanations  # noqa: F401
import callbacks.feedback  # noqa: F401
import callbacks.field  # noqa: F401
import callbacks.layers  # noqa: F401
import callbacks.models  # noqa: F401
import callbacks.predict  # noqa: F401
import callbacks.report_download  # noqa: F401
import callbacks.robustness  # noqa: F401
import callbacks.shell  # noqa: F401
import dashapp.field_api  # noqa: F401  (adds the field routes to the api blueprint)
from dashapp.api import api
from dashapp.field import FieldService
from dashapp.service import ModelService
from dashapp.settings import Settings
from layouts import evaluation, explanations, field, layers, predict
from layouts.shell import shell

PAGES = (predict, layers, evaluation, explanations, field)

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "Referrer-Policy": "same-origin",
}


# Dash's own page, with the language declared (screen readers pick their voice from it).
INDEX_STRING = """<!DOCTYPE html>
<html lang="en">
    <head>
        {%metas%}
        <title>{%title%}</title>
        {%favicon%}
        {%css%}
    </head>
    <body>
        {%app_entry%}
        <footer>
            {%config%}
            {%scripts%}
            {%renderer%}
        </footer>
    </body>
</html>"""


class InMemoryRequest(Request):
    """Uploaded files stay in memory: Werkzeug would spill those over 500 kB to temporary files."""

    def _get_file_stream(self, total_content_length, content_type, filename=None, content_length=None):
        return io.BytesIO()


def _add_security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def create_app(settings: Settings | None = None) -> dash.Dash:
    """The app with its three pages, the JSON API under /api and the model service (not loaded yet).

    ``@dash.callback`` registers callbacks globally and the first app to serve a request takes
    them all, so create one app per process.
    """
    settings = settings or Settings.from_env()
    server = Flask(__name__)
    server.request_class = InMemoryRequest
    server.json.sort_keys = False  # answers keep DESIGN.md's key order, and skip a sort per request
    # Dash callbacks carry an upload base64-encoded (4/3 of the file) inside JSON; the API checks
    # the exact file size itself and answers 413 with a sentence.
    largest = max(settings.max_upload_bytes, settings.max_model_bytes if settings.model_uploads else 0)
    server.config["MAX_CONTENT_LENGTH"] = 2 * largest + 1024 * 1024
    server.after_request(_add_security_headers)
    ModelService(settings).init_app(server)
    FieldService(settings).init_app(server)
    server.register_blueprint(api)

    app = dash.Dash(__name__, server=server, use_pages=True, pages_folder="", title="Digit Inspector",
                    update_title=None)
    app.index_string = INDEX_STRING
    for page in PAGES:
        dash.register_page(page.__name__, layout=page.layout, **page.PAGE)
    app.layout = shell(dash.page_registry.values(), model_uploads=settings.model_uploads)
    return app
