"""``python -m dashapp``: the development server on 127.0.0.1:8050 (debug off unless DIGIT_INSPECTOR_DEBUG=1)."""

from __future__ import annotations

import sys

from dashapp import create_app
from dashapp.field.engine import migrate
from dashapp.service import ModelService
from dashapp.settings import Settings, SettingsError
from models.inference import ModelLoadError


def main() -> int:
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if settings.field_mode != "off":
        try:
            migrate(settings.database_url)  # once, before serving (gunicorn: gunicorn.conf.py's on_starting)
        except Exception as exc:  # noqa: BLE001  (a database that is down must not stop predictions)
            print(f"warning: the field database could not be migrated, so feedback will answer 503 until it is: "
                  f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}", file=sys.stderr)
    app = create_app(settings)
    try:
        ModelService.of(app.server).load()  # fail now, with the sentence that says how to fix it
    except ModelLoadError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    app.run(host=settings.host, port=settings.port, debug=settings.debug)
    return 0


if __name__ == "__main__":
    sys.exit(main())
