"""WSGI entry point: ``gunicorn dashapp.wsgi:server`` (settings in gunicorn.conf.py).

Importing this builds the app but loads no model and imports no TensorFlow, so the gunicorn
master stays TensorFlow-free; each worker loads the model after the fork.
"""

from dataclasses import replace

from dashapp import create_app
from dashapp.settings import Settings

# Deployed: the field data (summary, export, delete, /field) needs DIGIT_INSPECTOR_ADMIN_TOKEN.
app = create_app(replace(Settings.from_env(), admin_required=True))
server = app.server
