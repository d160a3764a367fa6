"""The schema of a SQL storage: numbered migrations applied in order, checked on
the first connection (applied then only with ``auto_migrate``), or applied inside
a caller's own transaction (a framework's migration command).

Example::

    storage.apply_migrations()   # the names of the migrations applied now
    storage.schema_version()     # (applied, latest)
"""

from __future__ import annotations

import builtins
import threading
from abc import abstractmethod
from typing import Any

from activejob import _time
from activejob.storage.base import SchemaError
from activejob.storage.sql.connection import SQLConnection

__all__ = ["SchemaOps"]


class SchemaOps(SQLConnection):
    """The schema part of :class:`~activejob.storage.sql.base.SQLStorage`."""

    auto_migrate: bool
    """Whether the first connection applies pending migrations (else: ``SchemaError``)."""
    _schema_lock: threading.Lock
    """Held while the first connection checks the schema (set by ``SQLStorage.__init__``)."""

    @abstractmethod
    def _apply_script(self, conn: Any, script: str) -> None:
        """Run one migration script inside the current transaction."""

    def _lock_schema(self, conn: Any) -> None:
        """Serialise migrations between processes (the transaction may suffice)."""

    def migrate(self) -> None:
        """Apply pending migrations (idempotent, safe from several processes)."""
        self.apply_migrations()

    def apply_migrations(self) -> builtins.list[str]:
        """Apply pending migrations; returns the names of those applied now."""
        with self._acquire() as conn:
            applied = self._migrate_on(conn)
        self._schema_ready = True
        return applied

    def schema_version(self) -> tuple[int, int]:
        """``(applied, latest)`` schema versions."""
        with self._acquire() as conn:
            return self._schema_version(conn), self.sql.latest_version

    def _schema_version(self, conn: Any) -> int:
        """The applied schema version (0 when no activejob table exists). Raises
        nothing, so it is safe inside a caller's transaction."""
        if not self._run(conn, "migrations_table_exists").fetchone()[0]:
            return 0
        return int(self._run(conn, "schema_version").fetchone()[0])

    def _migrate_on(self, conn: Any) -> builtins.list[str]:
        with self._begin(conn):
            self._lock_schema(conn)
            return self._migrate_inside(conn)

    def migrate_in_transaction(self, conn: Any) -> builtins.list[str]:
        """Apply pending migrations on ``conn``, inside the transaction its caller has
        open (a framework's own migration, such as Django's ``manage.py migrate``), so
        they commit or roll back with it; returns the names applied. Not for MySQL,
        where DDL commits by itself: use :meth:`apply_migrations` there."""
        self._lock_schema(conn)
        return self._migrate_inside(conn)

    def _migrate_inside(self, conn: Any) -> builtins.list[str]:
        """Apply pending migrations in the transaction open on ``conn``."""
        applied: builtins.list[str] = []
        self._run(conn, "create_migrations_table")
        current = self._schema_version(conn)
        for migration in self.sql.migrations:
            if migration.version > current:
                self._apply_script(conn, migration.script)
                self._run(
                    conn,
                    "record_migration",
                    {"version": migration.version, "name": migration.name, "now": _time.now()},
                )
                applied.append(migration.name)
        return applied

    def _schema_behind(self, conn: Any) -> bool:
        """Whether migrations are pending on ``conn``'s database; raises
        :class:`SchemaError` when they may not be applied automatically."""
        current, latest = self._schema_version(conn), self.sql.latest_version
        if current > latest:
            raise SchemaError(
                f"the database's activejob schema (version {current}) is newer than this "
                f"activejob knows (version {latest}): upgrade activejob"
            )
        if current < latest and not self.auto_migrate:
            raise SchemaError(
                f"the activejob schema is at version {current}, this activejob needs "
                f"{latest}: run `activejob migrate --adapter <url>` (or storage.migrate())"
            )
        return current < latest

    def _check_schema(self, conn: Any) -> None:
        with self._schema_lock:
            if self._schema_ready:
                return
            if self._schema_behind(conn):
                self._migrate_on(conn)
            self._schema_ready = True

    def _check_foreign_schema(self, conn: Any) -> None:
        """Check (and, on first use, create) the schema through the caller's own
        connection: opening ours could wait on the lock the caller's transaction
        holds. A schema created here commits or rolls back with the caller's
        transaction, so it is not remembered as ready."""
        if self._schema_ready:
            return
        if not self._schema_behind(conn):
            self._schema_ready = True
            return
        with self._savepoint(conn):
            self._lock_schema(conn)
            self._migrate_inside(conn)

    def _ensure_schema(self) -> None:
        if not self._schema_ready:
            with self._connection():
                pass
