"""The Redis backend's storage: see :mod:`activejob.storage.redis.storage`."""

from __future__ import annotations

from activejob.storage.redis.storage import RedisStorage

__all__ = ["RedisStorage"]
