"""Enqueue inside the application's own database transaction.

Inside ``with activejob.in_transaction(conn):`` the SQL adapters write jobs on
``conn`` (a ``sqlite3.Connection`` or a psycopg ``Connection``) instead of their
own connections, so a job exists if and only if the caller's transaction
commits: no job for a row that was rolled back, no row missing when the job runs.
The database must be the one the adapter stores jobs in. Other adapters ignore it.

Example::

    with psycopg.connect(url) as conn, conn.transaction():
        conn.execute("INSERT INTO orders (id) VALUES (%s)", (42,))
        with activejob.in_transaction(conn):
            ShipOrderJob.perform_later(42)
    # committed here: the order and its job together
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from activejob.adapters.base import Adapter
    from activejob.job.base import Job

__all__ = [
    "AfterCommit",
    "after_commit_for",
    "current_connection",
    "defer_enqueues",
    "in_transaction",
    "waits_for_commit",
]

AfterCommit = Callable[[Callable[[], object]], None]
"""Runs a callback once the surrounding transaction commits (never, if it rolls back)."""

CommitDeferrer = Callable[["Job", "Adapter"], "AfterCommit | None"]
"""Asked before each enqueue: how to wait for the open transaction's commit, or
``None`` to enqueue now (no transaction open, or the job or adapter does not wait)."""

_deferrers: list[CommitDeferrer] = []

_connection: ContextVar[Any] = ContextVar("activejob_transaction_connection", default=None)


@contextmanager
def in_transaction(connection: Any) -> Iterator[Any]:
    """Enqueue on ``connection`` (inside its open transaction) within the block.

    Works per thread and per asyncio task (a context variable); blocks nest.
    """
    if connection is None:
        raise TypeError("in_transaction() needs a database connection, got None")
    token = _connection.set(connection)
    try:
        yield connection
    finally:
        _connection.reset(token)


def current_connection() -> Any:
    """The connection set by the innermost :func:`in_transaction`, or ``None``."""
    return _connection.get()


def defer_enqueues(deferrer: CommitDeferrer) -> None:
    """Let a framework hold enqueues until its transaction commits (Rails'
    ``enqueue_after_transaction_commit``); ``activejob.contrib.django`` registers one
    for ``transaction.atomic()``. Registering the same function twice is a no-op.

    Example::

        defer_enqueues(lambda job, adapter: on_commit if in_transaction() else None)
    """
    if deferrer not in _deferrers:
        _deferrers.append(deferrer)


def after_commit_for(job: Job, adapter: Adapter) -> AfterCommit | None:
    """How ``job`` waits for the open transaction to commit, or ``None`` to enqueue now."""
    for deferrer in _deferrers:
        later = deferrer(job, adapter)
        if later is not None:
            return later
    return None


def waits_for_commit(job: Job) -> bool:
    """Whether ``job`` waits for the open transaction: its class's
    ``enqueue_after_transaction_commit``, else the configured default."""
    from activejob.config import get_config

    own: bool | None = getattr(type(job), "enqueue_after_transaction_commit", None)
    return get_config().enqueue_after_transaction_commit if own is None else own
