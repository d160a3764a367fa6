"""``mysql://...`` (also ``mariadb://``): durable jobs in MariaDB >= 10.6 or MySQL >= 8.0.

Run ``activejob migrate --adapter <url>`` once per release (or add
``?auto_migrate=true``). Settings in the URL's query: ``pool_size``,
``pool_timeout``, ``max_idle``, ``keep_finished``, ``poll_interval``,
``connect_timeout``, ``unix_socket``, ``auto_migrate``. See ``docs/mysql.md``.
Importing this module imports mysqlclient (``MySQLdb``).

Example::

    activejob.configure(adapter="mysql://app:secret@db/app?pool_size=20")
    ReportJob.perform_later(42)
    # then: activejob worker --import myapp.jobs
"""

from __future__ import annotations

from typing import ClassVar

from activejob.adapters.durable import StorageAdapter
from activejob.storage.sql.mysql import MySQLStorage

__all__ = ["MySQLAdapter"]


class MySQLAdapter(StorageAdapter):
    """Enqueues into a :class:`MySQLStorage`; honours :func:`activejob.in_transaction`."""

    scheme: ClassVar[str] = "mysql"
    supports_transactions: ClassVar[bool] = True

    def __init__(self, storage: MySQLStorage) -> None:
        super().__init__(storage)
        self.mysql_storage = storage

    @classmethod
    def from_url(cls, url: str) -> MySQLAdapter:
        """``mysql://user:password@host:port/database?pool_size=10``."""
        return cls(MySQLStorage.from_url(url))

    def __str__(self) -> str:
        return f"mysql adapter ({self.mysql_storage!r})"
