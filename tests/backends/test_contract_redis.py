"""The storage contract (``activejob.testing.contract``) against the Redis storage.

Each test gets its own key prefix on the shared server, deleted afterwards.
"""

from __future__ import annotations

import pytest

from activejob.storage.base import Storage
from activejob.testing.contract import StorageContract
from tests.backends import redis_support

# Fixtures shared by the Redis tests.
prefix = redis_support.prefix
redis_server_url = redis_support.redis_server_url


@pytest.mark.redis
class TestRedisContract(StorageContract):
    def make_storage(self, request: pytest.FixtureRequest) -> Storage:
        from activejob.storage.redis import RedisStorage

        url = redis_support.with_params(
            request.getfixturevalue("redis_server_url"), prefix=request.getfixturevalue("prefix")
        )
        storage = RedisStorage(url)
        storage.migrate()
        return storage

    def corrupt(self, storage: Storage, job_id: str, column: str, value: object) -> bool:
        from activejob.storage.redis import RedisStorage, records

        assert isinstance(storage, RedisStorage)
        info = storage.get(job_id)
        assert info is not None
        key = storage.key("job", records.sid(info.id))
        field = {"queue_name": "queue"}.get(column, column)
        # Redis keeps every field as text and checks nothing.
        if value is None:
            storage.client.hdel(key, field)
        else:
            storage.client.hset(key, field, value if isinstance(value, bytes) else str(value))
        return True
