"""moto's server, with DynamoDB requests applied one at a time.

DynamoDB checks a condition and writes atomically; moto's threaded server
does not lock, so two concurrent conditional writes on one item can both
succeed. Serializing DynamoDB requests (only those: SQS long polls and the
rest stay concurrent) restores the guarantee the store's race tests rely on.

moto's TransactWriteItems also backs up the whole table once per item of
the transaction (to roll back on failure), which makes a 100-item
transaction on a table of 30,000 items copy three million items. The
backup is the same every time (nothing is written before the loop ends),
so it is taken once per table per transaction here: same rollback, a
hundredth of the copying.

Usage: python scripts/moto_server.py HOST PORT
"""

import copy
import sys
import threading

import moto.dynamodb.models as dynamodb_models
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple

_dynamodb = threading.Lock()
_transaction = threading.local()


class _BackupOncePerTable:
    """Stands in for the `copy` module inside moto's DynamoDB models."""

    def __getattr__(self, name):
        return getattr(copy, name)

    def deepcopy(self, obj, memo=None):
        backups = getattr(_transaction, "backups", None)
        if backups is None or not isinstance(obj, dynamodb_models.Table):
            return copy.deepcopy(obj, memo)
        if id(obj) not in backups:
            backups[id(obj)] = copy.deepcopy(obj)
        return backups[id(obj)]


def _backup_once_per_table():
    original = dynamodb_models.DynamoDBBackend.transact_write_items

    def transact_write_items(self, transact_items):
        _transaction.backups = {}
        try:
            return original(self, transact_items)
        finally:
            _transaction.backups = None

    dynamodb_models.copy = _BackupOncePerTable()
    dynamodb_models.DynamoDBBackend.transact_write_items = transact_write_items


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
    _backup_once_per_table()
    app = DomainDispatcherApplication(create_backend_app)
    app.debug = True
    run_simple(host, port, SerializeDynamoDB(app), threaded=True)


if __name__ == "__main__":
    main()
