"""``postgresql://...`` (also ``postgres://``): durable jobs in PostgreSQL on psycopg 3.

Run ``activejob migrate --adapter <url>`` once per release (or add
``?auto_migrate=true``). Settings in the URL's query: ``pool_size``,
``pool_timeout``, ``keep_finished``, ``poll_interval``, ``listen``, ``listen_url``,
``prepare_threshold``, ``auto_migrate``; anything else goes to libpq
(``sslmode``, ``application_name``, ...). See ``docs/postgresql.md``. Importing
this module imports psycopg.

Example::

    activejob.configure(adapter="postgresql://app@db/app?pool_size=20")
    ReportJob.perform_later(42)
    # then: activejob worker --import myapp.jobs
"""

from __future__ import annotations

from typing import ClassVar

from activejob.adapters.durable import StorageAdapter
from activejob.storage.sql.postgresql import PostgreSQLStorage

__all__ = ["PostgreSQLAdapter"]


class PostgreSQLAdapter(StorageAdapter):
    """Enqueues into a :class:`PostgreSQLStorage`; honours :func:`activejob.in_transaction`."""

    scheme: ClassVar[str] = "postgresql"
    supports_transactions: ClassVar[bool] = True

    def __init__(self, storage: PostgreSQLStorage) -> None:
        super().__init__(storage)
        self.postgresql_storage = storage

    @classmethod
    def from_url(cls, url: str) -> PostgreSQLAdapter:
        """``postgresql://user:password@host:port/database?pool_size=10``."""
        return cls(PostgreSQLStorage.from_url(url))

    def __str__(self) -> str:
        return f"postgresql adapter ({self.postgresql_storage!r})"
