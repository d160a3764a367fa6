"""``django`` / ``django://ALIAS``: the SQL backend in the database Django already uses.

The dialect follows the alias's ``vendor`` (``sqlite``, ``postgresql``, ``mysql``)
and the connection settings are Django's own ``DATABASES[ALIAS]``, so there is no
second URL to keep in step. Inside ``transaction.atomic()`` a job is written on
Django's connection for the alias, in Django's transaction: it exists if and only
if that transaction commits (a rolled-back savepoint drops it too). Outside a
transaction, and in the worker, the storage uses connections of its own opened
with the same settings (Django's connections are per thread and per request, and
may not be used from async code). The tables are made by ``manage.py migrate``.

The query may set ``keep_finished`` and ``poll_interval``.

Example::

    # settings.py
    INSTALLED_APPS = [..., "activejob.contrib.django"]
    ACTIVEJOB = {"ADAPTER": "django"}          # or "django://jobs_db"
"""

from __future__ import annotations

import os
from typing import Any, ClassVar
from urllib.parse import unquote, urlsplit

from activejob.adapters.durable import StorageAdapter
from activejob.errors import ConfigurationError
from activejob.storage.base import DEFAULT_KEEP_FINISHED
from activejob.storage.options import UrlOptions
from activejob.storage.sql.base import SQLStorage
from activejob.transaction import current_connection

__all__ = ["DjangoAdapter", "alias_of", "ensure_django", "storage_for_alias"]

_POSTGRES_NOT_LIBPQ = frozenset(
    {"isolation_level", "server_side_binding", "assume_role", "pool", "cursor_factory", "context"}
)
"""Django's own OPTIONS for PostgreSQL, which are not libpq connection parameters."""


def alias_of(url: str) -> str:
    """The database alias an adapter URL names: ``django`` and ``django:`` mean
    ``default``, ``django://jobs`` means ``jobs``."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "django":
        raise ConfigurationError(f"{url!r} is not a django adapter URL (django://ALIAS)")
    return unquote(parts.netloc) or "default"


def storage_for_alias(
    alias: str,
    *,
    keep_finished: float = DEFAULT_KEEP_FINISHED,
    poll_interval: float | None = None,
) -> SQLStorage:
    """The storage for Django's database ``alias``, chosen by its vendor; it opens no
    connection until used."""
    ensure_django()
    from django.db import connections  # type: ignore[import-untyped, unused-ignore]

    if alias not in connections:
        raise ConfigurationError(
            f"django adapter: no database {alias!r} in settings.DATABASES "
            f"(there are {', '.join(sorted(connections.settings)) or 'none'})"
        )
    connection = connections[alias]
    settings: dict[str, Any] = connection.settings_dict
    vendor = connection.vendor
    tuning: dict[str, Any] = {"keep_finished": keep_finished}
    if poll_interval is not None:
        tuning["poll_interval"] = poll_interval
    if vendor == "sqlite":
        return _sqlite(alias, settings, tuning)
    if vendor == "postgresql":
        return _postgresql(settings, tuning)
    if vendor == "mysql":
        return _mysql(settings, tuning)
    raise ConfigurationError(
        f"django adapter: database {alias!r} is {vendor}; activejob stores jobs in "
        "SQLite, PostgreSQL, MySQL or MariaDB"
    )


def _sqlite(alias: str, settings: dict[str, Any], tuning: dict[str, Any]) -> SQLStorage:
    from activejob.storage.sql.sqlite import SQLiteStorage

    name = os.fspath(settings.get("NAME") or "")
    if not name or name == ":memory:" or "mode=memory" in name:
        raise ConfigurationError(
            f"django adapter: database {alias!r} is an in-memory SQLite database, which a "
            "worker cannot share; give it a file NAME (and TEST['NAME'] for tests)"
        )
    timeout = (settings.get("OPTIONS") or {}).get("timeout", 5.0)
    return SQLiteStorage(name, busy_timeout=float(timeout), **tuning)


def _postgresql(settings: dict[str, Any], tuning: dict[str, Any]) -> SQLStorage:
    from psycopg.conninfo import make_conninfo

    from activejob.storage.sql.postgresql import PostgreSQLStorage

    params: dict[str, Any] = {
        key: value
        for key, value in (settings.get("OPTIONS") or {}).items()
        if key not in _POSTGRES_NOT_LIBPQ and isinstance(value, (str, int))
    }
    for key, setting in (("dbname", "NAME"), ("user", "USER"), ("password", "PASSWORD")):
        if settings.get(setting):
            params[key] = settings[setting]
    if settings.get("HOST"):
        params["host"] = settings["HOST"]
    if settings.get("PORT"):
        params["port"] = str(settings["PORT"])
    # Django's psycopg uses client-side binding unless asked otherwise; ours prepares
    # statements, which a transaction-mode PgBouncer in front of Django may refuse.
    prepare = None if not (settings.get("OPTIONS") or {}).get("server_side_binding") else 5
    return PostgreSQLStorage(make_conninfo(**params), prepare_threshold=prepare, **tuning)


def _mysql(settings: dict[str, Any], tuning: dict[str, Any]) -> SQLStorage:
    from activejob.storage.sql.mysql import MySQLStorage

    options = settings.get("OPTIONS") or {}
    args: dict[str, Any] = {"database": settings.get("NAME") or options.get("database")}
    host = settings.get("HOST") or options.get("host") or "localhost"
    if str(host).startswith("/"):
        args["unix_socket"] = host
        host = "localhost"
    args["host"] = host
    if settings.get("PORT"):
        args["port"] = int(settings["PORT"])
    if settings.get("USER") or options.get("user"):
        args["user"] = settings.get("USER") or options.get("user")
    if settings.get("PASSWORD") or options.get("password"):
        args["password"] = settings.get("PASSWORD") or options.get("password")
    return MySQLStorage(args, **tuning)


def ensure_django() -> None:
    """Set Django up in a process that has not (a worker child, the CLI): needs
    ``DJANGO_SETTINGS_MODULE``."""
    from django.apps import apps  # type: ignore[import-untyped, unused-ignore]

    if apps.ready:
        return
    if not os.environ.get("DJANGO_SETTINGS_MODULE"):
        from django.conf import settings  # type: ignore[import-untyped, unused-ignore]

        if not settings.configured:
            raise ConfigurationError(
                "the django adapter needs Django's settings: set DJANGO_SETTINGS_MODULE "
                "(or run `python manage.py activejob ...`)"
            )
    import django  # type: ignore[import-untyped, unused-ignore]

    django.setup()


class DjangoAdapter(StorageAdapter):
    """Enqueues into the SQL storage of a Django database alias; inside
    ``transaction.atomic()`` on that alias, the job joins Django's transaction."""

    scheme: ClassVar[str] = "django"
    supports_transactions: ClassVar[bool] = True

    def __init__(self, storage: SQLStorage, alias: str = "default") -> None:
        super().__init__(storage)
        self.alias = alias

    @classmethod
    def from_url(cls, url: str) -> DjangoAdapter:
        """``django``, ``django:``, ``django://ALIAS``; ``?keep_finished=3d&poll_interval=1``."""
        if url.lower() in ("django", "django:"):
            url = "django://default"
        alias = alias_of(url)
        options = UrlOptions.parse(url)
        poll = options.take("poll_interval", float, -1.0)
        storage = storage_for_alias(
            alias,
            keep_finished=options.duration("keep_finished", DEFAULT_KEEP_FINISHED),
            poll_interval=None if poll < 0 else poll,
        )
        options.reject_unknown()
        return cls(storage, alias)

    def transaction_connection(self) -> Any:
        """The connection to write on: an explicit :func:`activejob.in_transaction`
        one, else Django's DB-API connection while ``transaction.atomic()`` is open
        on the alias, else ``None`` (the storage's own connections)."""
        explicit = current_connection()
        if explicit is not None:
            return explicit
        from django.db import connections  # type: ignore[import-untyped, unused-ignore]

        connection = connections[self.alias]
        if connection.in_atomic_block:
            return connection.connection
        return None

    def __str__(self) -> str:
        return f"django adapter ({self.alias}: {self.storage.describe()})"
