"""Entry point: `flask --app wsgi run` in development, `gunicorn wsgi:app` in production."""
import gc

from hub import create_app

app = create_app()
# Everything loaded so far (modules, the app, the mappers, the OpenAPI document) lives as long as the
# worker: moved out of the garbage collector's sight, so that its full collections scan only what the
# requests made. Measured (bench/profile.py, gunicorn worker, 300 handoffs): the collector took 2.7 ms
# a request, two thirds of it in full collections over the ~170,000 objects of the loaded app.
gc.freeze()
