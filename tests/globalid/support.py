"""Helpers for the GlobalID tests.

An in-memory Locatable model that counts lookups and can be "down" (every lookup
raises ConnectionError, as a database that cannot be reached), and real databases:
a PostgreSQL database of our own, a real outage of it, a locked SQLite file.
"""

from __future__ import annotations

import importlib
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.services import service_url


class Store:
    """Rows by id (text), with lookup counters and an outage switch."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {}
        self.down = False
        self.calls: list[tuple[str, Any]] = []
        self.lock = threading.Lock()

    def fetch(self, kind: str, ids: Any) -> None:
        with self.lock:
            self.calls.append((kind, ids))
        if self.down:
            raise ConnectionError("store unreachable")

    def reset(self) -> None:
        self.rows.clear()
        self.calls.clear()
        self.down = False


class Account:
    """A Locatable with ``locate`` only (no batch method)."""

    store: ClassVar[Store] = Store()

    def __init__(self, id: Any, name: str) -> None:
        self.id = id
        self.name = name

    @classmethod
    def create(cls, id: Any, name: str) -> Account:
        cls.store.rows[str(id)] = {"name": name}
        return cls(id, name)

    @classmethod
    def locate(cls, id: str) -> Account | None:
        cls.store.fetch("locate", id)
        row = cls.store.rows.get(id)
        return None if row is None else cls(id, row["name"])

    def __repr__(self) -> str:
        return f"Account({self.id!r}, {self.name!r})"


class Ticket:
    """A Locatable with a composite id and a batch ``locate_many``."""

    store: ClassVar[Store] = Store()

    def __init__(self, event: str, seat: int) -> None:
        self.event = event
        self.seat = seat

    @property
    def id(self) -> tuple[str, int]:
        return (self.event, self.seat)

    @classmethod
    def create(cls, event: str, seat: int) -> Ticket:
        cls.store.rows[f"{event}/{seat}"] = {}
        return cls(event, seat)

    @classmethod
    def locate(cls, id: tuple[str, str]) -> Ticket | None:
        cls.store.fetch("locate", id)
        event, seat = id
        return cls(event, int(seat)) if f"{event}/{seat}" in cls.store.rows else None

    @classmethod
    def locate_many(cls, ids: list[tuple[str, str]]) -> Iterable[Ticket]:
        cls.store.fetch("locate_many", ids)
        # Out of order on purpose: callers must not rely on the order of results.
        found = [cls(e, int(s)) for e, s in ids if f"{e}/{s}" in cls.store.rows]
        return reversed(found)


class Unregistered:
    """Implements Locatable but is never registered."""

    def __init__(self, id: int) -> None:
        self.id = id

    @classmethod
    def locate(cls, id: str) -> Unregistered:
        return cls(int(id))


# -- real databases -------------------------------------------------------------------


def need(module: str) -> Any:
    """Import ``module`` (an optional dependency of these tests): skip the test if it is
    missing, but fail under CI, which must run every test."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        reason = f"{module} is not installed ({exc}); pip install 'activejob[{module}]'"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI requires it", pytrace=False)
        pytest.skip(reason, allow_module_level=True)


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


@contextmanager
def pg_database(prefix: str) -> Iterator[str]:
    """A new, empty PostgreSQL database of our own (dropped afterwards); yields its URL.

    The server is shared with other test runs: the name carries the pid, and only
    this database is ever touched.
    """
    import psycopg
    from psycopg import sql

    server = service_url("postgresql")
    name = f"{prefix}_{os.getpid()}"
    ident = sql.Identifier(name)
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(ident))
    try:
        yield _with_database(server, name)
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))


class Outage:
    """A real outage of a database: begins on ``__enter__``, ends on ``end()`` (from any
    thread, once) or on ``__exit__``."""

    def __init__(self) -> None:
        self._ended = threading.Event()
        self._lock = threading.Lock()

    def __enter__(self) -> Outage:
        self.begin()
        return self

    def __exit__(self, *exc: object) -> None:
        self.end()

    def end(self) -> None:
        with self._lock:
            if not self._ended.is_set():
                self._ended.set()
                self.recover()

    def begin(self) -> None:
        raise NotImplementedError

    def recover(self) -> None:
        raise NotImplementedError


class PgOutage(Outage):
    """The PostgreSQL database of ``url`` refuses new connections and its open ones are
    terminated (waiting until they are gone)."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.name = urlsplit(url).path.lstrip("/")

    def _admin(self, *statements: Any) -> None:
        import psycopg

        with psycopg.connect(service_url("postgresql"), autocommit=True) as admin:
            for statement, params in statements:
                admin.execute(statement, params)

    def begin(self) -> None:
        from psycopg import sql

        ident = sql.Identifier(self.name)
        self._admin(
            (sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(ident), None),
            (
                "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE datname = %s",
                [self.name],
            ),
        )

    def recover(self) -> None:
        from psycopg import sql

        ident = sql.Identifier(self.name)
        self._admin((sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(ident), None))


class SqliteLock(Outage):
    """An exclusive lock on a SQLite file, as a long write elsewhere would hold: readers
    with a short busy timeout get "database is locked"."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__()
        self.holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)

    def begin(self) -> None:
        self.holder.execute("BEGIN EXCLUSIVE")

    def recover(self) -> None:
        self.holder.execute("ROLLBACK")
        self.holder.close()
