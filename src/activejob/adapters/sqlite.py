"""``sqlite:///path``: durable jobs in a SQLite file, run by ``activejob worker``.

The default backend (``sqlite:///activejob.sqlite3`` in the working directory).
``sqlite:///jobs.db`` is relative to the working directory,
``sqlite:////var/lib/app/jobs.db`` absolute. The query may set ``busy_timeout``,
``synchronous``, ``keep_finished``, ``poll_interval``, ``max_idle`` and
``auto_migrate`` (see ``docs/sqlite.md``). Importing this module imports ``sqlite3``.

Example::

    activejob.configure(adapter="sqlite:///jobs.sqlite3?keep_finished=3d")
    ReportJob.perform_later(42)
    # then: activejob worker --import myapp.jobs
"""

from __future__ import annotations

from typing import ClassVar

from activejob.adapters.durable import StorageAdapter
from activejob.storage.sql.sqlite import SQLiteStorage

__all__ = ["SQLiteAdapter"]


class SQLiteAdapter(StorageAdapter):
    """Enqueues into a :class:`SQLiteStorage`; honours :func:`activejob.in_transaction`."""

    scheme: ClassVar[str] = "sqlite"
    supports_transactions: ClassVar[bool] = True

    def __init__(self, storage: SQLiteStorage) -> None:
        super().__init__(storage)
        self.sqlite_storage = storage

    @classmethod
    def from_url(cls, url: str) -> SQLiteAdapter:
        """``sqlite:///relative.db`` or ``sqlite:////absolute.db``, options in the query."""
        return cls(SQLiteStorage.from_url(url))

    def __str__(self) -> str:
        return f"sqlite adapter ({self.sqlite_storage.path})"
