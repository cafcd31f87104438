"""gunicorn settings for ``gunicorn dashapp.wsgi:server`` (run from the repository root).

TensorFlow is not fork-safe, so the app is never preloaded in the master: each worker imports
the app after the fork and loads the model in ``post_worker_init``, before it takes requests.
"""

import os
import subprocess
import sys

from gunicorn.errors import AppImportError

bind = os.environ.get("DIGIT_INSPECTOR_BIND") or "{}:{}".format(
    os.environ.get("DIGIT_INSPECTOR_HOST", "127.0.0.1"), os.environ.get("DIGIT_INSPECTOR_PORT", "8050"))
workers = int(os.environ.get("DIGIT_INSPECTOR_WORKERS", "2"))
threads = int(os.environ.get("DIGIT_INSPECTOR_THREADS", "4"))
worker_class = "gthread"
timeout = int(os.environ.get("DIGIT_INSPECTOR_TIMEOUT", "60"))
graceful_timeout = int(os.environ.get("DIGIT_INSPECTOR_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
preload_app = False
accesslog = os.environ.get("DIGIT_INSPECTOR_ACCESS_LOG", "-") or None  # empty: no access log


def on_starting(server):
    """Migrate the field database once, before any worker starts (workers never migrate, so never race).

    In a child process: the master imports neither the app nor the database driver, so it forks
    workers with no connection and no TensorFlow. A database that is down does not stop the
    server: predictions answer, feedback answers 503 until it is back and migrated.
    """
    if os.environ.get("DIGIT_INSPECTOR_FIELD", "").strip().lower() == "off":
        return
    done = subprocess.run([sys.executable, "-m", "dashapp.field", "migrate"], capture_output=True, text=True,
                          cwd=os.path.dirname(os.path.abspath(__file__)))
    if done.returncode != 0:
        server.log.warning("field database not migrated: %s", " ".join(done.stderr.strip().splitlines()[-1:]))


def post_worker_init(worker):
    """Load the model in this worker; a missing or corrupt model stops gunicorn with one sentence."""
    from dashapp.service import ModelService
    from models.inference import ModelLoadError

    try:
        ModelService.of(worker.wsgi).load()
    except ModelLoadError as exc:
        raise AppImportError(str(exc)) from None
