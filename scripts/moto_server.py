"""moto's server, with DynamoDB requests applied one at a time.

DynamoDB checks a condition and writes atomically; moto's threaded server
does not lock, so two concurrent conditional writes on one item can both
succeed. Serializing DynamoDB requests (only those: SQS long polls and the
rest stay concurrent) restores the guarantee the store's race tests rely on.

Usage: python scripts/moto_server.py HOST PORT
"""

import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple

_dynamodb = threading.Lock()


class SerializeDynamoDB:
    """WSGI middleware: one DynamoDB request at a time (by its X-Amz-Target)."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            with _dynamodb:
                # Drain the response inside the lock: the write happens while it is built.
                return list(self.app(environ, start_response))
        return self.app(environ, start_response)


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    app = DomainDispatcherApplication(create_backend_app)
    app.debug = True
    run_simple(host, port, SerializeDynamoDB(app), threaded=True)


if __name__ == "__main__":
    main()
