"""``redis://`` (and ``rediss://``): durable jobs in Redis, run by ``activejob worker``.

Each enqueue is one script call, a bulk enqueue one pipelined round trip. The URL's
query may set ``prefix`` (keys start with ``<prefix>:``, default ``activejob``, so
several apps can share one Redis), ``keep_finished``, ``reconnect_timeout`` and
redis-py's own connection options. Redis cannot join a database transaction, so
:func:`activejob.in_transaction` does not apply. See ``docs/redis.md`` for the
persistence Redis needs for jobs to survive a restart. Importing this module
imports ``redis``.

Example::

    activejob.configure(adapter="redis://localhost:6379/0?prefix=myapp")
    ReportJob.perform_later(42)
    # then: activejob worker --import myapp.jobs
"""

from __future__ import annotations

from typing import ClassVar

from activejob.adapters.durable import StorageAdapter
from activejob.storage.redis import RedisStorage

__all__ = ["RedisAdapter"]


class RedisAdapter(StorageAdapter):
    """Enqueues into a :class:`~activejob.storage.redis.RedisStorage`."""

    scheme: ClassVar[str] = "redis"

    def __init__(self, storage: RedisStorage) -> None:
        super().__init__(storage)
        self.redis_storage = storage

    @classmethod
    def from_url(cls, url: str) -> RedisAdapter:
        """``redis://[user:password@]host[:port][/db][?prefix=myapp&keep_finished=7d]``."""
        return cls(RedisStorage(url))

    def __str__(self) -> str:
        return f"redis adapter (prefix {self.redis_storage.settings.prefix!r})"
