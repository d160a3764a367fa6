"""activejob's tables in a Django database, applied by activejob's migration runner.

Each Django migration of this app calls :func:`apply_schema`, which applies every
pending versioned ``.sql`` migration of the connection's dialect, so ``manage.py
migrate`` and ``activejob migrate`` agree on the schema version whichever runs.

Example::

    from django.db import connection
    apply_schema(connection)   # what 0001_initial does
"""

from __future__ import annotations

from typing import Any

from activejob.contrib.django.adapter import storage_for_alias

__all__ = ["apply_schema"]


def apply_schema(connection: Any) -> list[str]:
    """Apply activejob's pending migrations on Django's ``connection``; returns their
    names. On SQLite and PostgreSQL they run in the transaction Django has open on it
    (DDL commits by itself on MySQL, where the storage's own runner serialises
    processes with a named lock)."""
    storage = storage_for_alias(connection.alias)
    try:
        if connection.vendor == "mysql":
            return storage.apply_migrations()
        connection.ensure_connection()
        return storage.migrate_in_transaction(connection.connection)
    finally:
        storage.close()
