"""WSGI entry point: ``gunicorn dashapp.wsgi:server`` (settings in gunicorn.conf.py).

Importing this builds the app but loads no model and imports no TensorFlow, so the gunicorn
master stays TensorFlow-free; each worker loads the model after the fork.
"""

from dashapp import create_app

app = create_app()
server = app.server
