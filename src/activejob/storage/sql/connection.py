"""How every part of a SQL storage reaches its database: a connection, a short
transaction, a named query of the dialect's ``queries.sql``.

:class:`SQLConnection` is the base of :class:`~activejob.storage.sql.base.SQLStorage`
and of the mixins it is assembled from (schema, cancellation, recurring tasks,
concurrency), so each of them runs its statements the same way. A dialect
(``sqlite``, ``postgresql``, ``mysql``) supplies the four hooks.

Example::

    with storage._transaction() as conn:
        storage._run(conn, "pause_queue", {"queue_name": "mailers", "now": _time.now()})
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any, ClassVar

from activejob.storage.sql.queries import Dialect, load_dialect

if TYPE_CHECKING:
    from activejob.storage.signal import WakeSignal

__all__ = ["SQLConnection"]


class SQLConnection(ABC):
    """Connections, transactions and named queries, for every part of a SQL storage."""

    sql_package: ClassVar[str]
    """The package holding this dialect's ``queries.sql`` and migrations."""
    _signal: WakeSignal
    """Wakes this process's waiting workers (set by ``SQLStorage.__init__``)."""
    _schema_ready: bool
    """Whether the schema was found (or made) current; checked on each connection."""

    @property
    def sql(self) -> Dialect:
        """This dialect's queries and migrations."""
        return load_dialect(self.sql_package)

    # -- what a dialect supplies ------------------------------------------------------

    @abstractmethod
    def _acquire(self) -> AbstractContextManager[Any]:
        """A connection of this storage in autocommit mode, returned when the block
        ends; driver errors raised in the block become ``StorageUnavailable`` or
        ``StorageError``."""

    @abstractmethod
    def _begin(self, conn: Any) -> AbstractContextManager[None]:
        """One short write transaction on ``conn``: commit on success, else roll back."""

    @abstractmethod
    def _foreign(self, connection: Any) -> AbstractContextManager[Any]:
        """The caller's own connection, checked, to run inside the caller's
        transaction (never committed here)."""

    @abstractmethod
    def _savepoint(self, conn: Any) -> AbstractContextManager[None]:
        """A savepoint inside the transaction the caller has open on ``conn``."""

    # -- connections ----------------------------------------------------------------

    def _run(self, conn: Any, name: str, params: dict[str, Any] | None = None) -> Any:
        """Execute the named query; returns the driver's cursor."""
        return conn.execute(self.sql.queries[name], params or {})

    def _run_unprepared(self, conn: Any, name: str, params: dict[str, Any]) -> Any:
        """:meth:`_run` for a query whose plan depends on which filters are given
        (a dialect that prepares statements plans this one afresh each time)."""
        return self._run(conn, name, params)

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        with self._acquire() as conn:
            if not self._schema_ready:
                self._check_schema(conn)
            yield conn

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        with self._connection() as conn, self._begin(conn):
            yield conn

    @abstractmethod
    def _check_schema(self, conn: Any) -> None:
        """Check the schema once, on the first connection (``sql/schema.py``)."""
