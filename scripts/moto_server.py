"""moto's server, with DynamoDB requests applied one at a time.

DynamoDB checks a condition and writes atomically; moto's threaded server
does not lock, so two concurrent conditional writes on one item can both
succeed. Serializing DynamoDB requests (only those: SQS long polls and the
rest stay concurrent) restores the guarantee the store's race tests rely on.

moto's TransactWriteItems also backs up the whole table once per item of
the transaction, to roll back on failure: a 100-item transaction on a
table of 30,000 items copies three million items, and each transaction is
slower than the last. Here a transaction backs up only the items it names
(read before it runs) and, if it fails, puts exactly those back: the same
all-or-nothing outcome, at the cost of the transaction's own size.

moto also keeps every DynamoDB model object it ever made (for its
dashboard), backups included, so memory only grows: about 10 MB per
transaction on a table of 20,000 items, until the machine runs out. The
DynamoDB models are not tracked here; nothing in the server reads that list.

Usage: python scripts/moto_server.py HOST PORT
"""

import copy
import sys
import threading

import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple

_dynamodb = threading.Lock()
_transaction = threading.local()


class _NoTableBackup:
    """Stands in for the `copy` module inside moto's DynamoDB models: a
    table is not copied while a transaction backs up its own items."""

    def __getattr__(self, name):
        return getattr(copy, name)

    def deepcopy(self, obj, memo=None):
        if getattr(_transaction, "active", False) and isinstance(obj, dynamodb_models.Table):
            return obj
        return copy.deepcopy(obj, memo)


def _named_items(backend, transact_items):
    """(table, hash key, range key, copy of the item or None) for each item a transaction names."""
    named = []
    for entry in transact_items:
        try:
            _, op = next(iter(entry.items()))
            table = backend.get_table(op["TableName"])
            attrs = op.get("Item") or op["Key"]
            hash_key = DynamoType(attrs[table.hash_key_attr])
            range_key = DynamoType(attrs[table.range_key_attr]) if table.range_key_attr else None
            current = table.get_item(hash_key, range_key)
        except Exception:
            # A malformed entry: moto refuses the transaction itself, before writing.
            continue
        named.append((table, hash_key, range_key, copy.deepcopy(current)))
    return named


def _put_back(named):
    for table, hash_key, range_key, old in reversed(named):
        if range_key is not None:
            if old is None:
                table.items.get(hash_key, {}).pop(range_key, None)
            else:
                table.items[hash_key][range_key] = old
        elif old is None:
            table.items.pop(hash_key, None)
        else:
            table.items[hash_key] = old


def _back_up_named_items_only():
    original = dynamodb_models.DynamoDBBackend.transact_write_items

    def transact_write_items(self, transact_items):
        named = _named_items(self, transact_items)
        _transaction.active = True
        try:
            return original(self, transact_items)
        except Exception:
            _put_back(named)
            raise
        finally:
            _transaction.active = False

    dynamodb_models.copy = _NoTableBackup()
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


class _Untracked(list):
    """An instance list that keeps nothing."""

    def append(self, _item):
        pass


def _stop_tracking_dynamodb_models():
    from moto.core.model_instances import model_data

    for cls in model_data.get("dynamodb", {}).values():
        cls.instances_tracked = _Untracked()


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    _back_up_named_items_only()
    _stop_tracking_dynamodb_models()
    app = DomainDispatcherApplication(create_backend_app)
    app.debug = True
    run_simple(host, port, SerializeDynamoDB(app), threaded=True)


if __name__ == "__main__":
    main()
