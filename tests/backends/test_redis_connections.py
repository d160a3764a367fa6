"""Script calls on each thread's own connection (see ``Scripts``): one per thread,
replaced when the server closed it, never shared with a forked child, closed with
the storage, and the pool alone when the URL caps ``max_connections``.

Connections are told apart on the server by a client name unique to each test.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Callable, Iterator

import pytest
import redis

from activejob.storage.base import JobFilter, JobState, NewJob
from activejob.storage.redis import RedisStorage
from activejob.storage.redis.scripts import _packer
from tests.backends import redis_support
from tests.backends.redis_support import kill_connections, with_params
from tests.support import wait_for

pytestmark = pytest.mark.redis

prefix = redis_support.prefix
redis_server_url = redis_support.redis_server_url


def job(job_id: str) -> NewJob:
    return NewJob(job_id, "tests.Job", "default", 0, json.dumps({"id": job_id}))


@pytest.fixture
def client_name() -> str:
    return f"ajconn-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def named_connections(redis_server_url: str, client_name: str) -> Iterator[Callable[[], int]]:
    """How many connections the server has open under this test's client name."""
    admin = redis.Redis.from_url(redis_server_url, decode_responses=True)
    yield lambda: sum(1 for c in admin.client_list() if c.get("name") == client_name)
    admin.close()


def open_storage(url: str, prefix: str, client_name: str, **params: object) -> RedisStorage:
    store = RedisStorage(with_params(url, prefix=prefix, client_name=client_name, **params))
    store.migrate()
    return store


def push_from_threads(store: RedisStorage, threads: int, then: Callable[[], None]) -> list[int]:
    """Push one job from each of ``threads`` threads, one after another, keeping
    them all alive while ``then()`` runs; the ids pushed."""
    ids: list[int] = []
    release = threading.Event()
    pushed = threading.Semaphore(0)

    def push(n: int) -> None:
        ids.extend(store.push([job(f"t{n}")]))
        pushed.release()
        release.wait(10)

    started = []
    for n in range(threads):
        thread = threading.Thread(target=push, args=(n,))
        thread.start()
        started.append(thread)
        assert pushed.acquire(timeout=10)
    try:
        then()
    finally:
        release.set()
        for thread in started:
            thread.join(10)
    return ids


def test_each_thread_calls_scripts_on_its_own_connection(
    redis_server_url: str, prefix: str, client_name: str, named_connections: Callable[[], int]
) -> None:
    store = open_storage(redis_server_url, prefix, client_name)
    try:
        seen: list[int] = []
        ids = push_from_threads(store, 3, lambda: seen.append(named_connections()))
        # One per thread, plus the pooled one migrate() used.
        assert seen == [4]
        assert sorted(i.id for i in store.list(JobFilter(limit=None))) == sorted(ids)
    finally:
        store.close()


def test_a_url_that_caps_connections_keeps_every_call_in_the_pool(
    redis_server_url: str, prefix: str, client_name: str, named_connections: Callable[[], int]
) -> None:
    store = open_storage(redis_server_url, prefix, client_name, max_connections=2)
    try:
        seen: list[int] = []
        push_from_threads(store, 3, lambda: seen.append(named_connections()))
        assert seen == [1]  # the threads took turns with the one pooled connection
    finally:
        store.close()


def test_close_closes_the_connections_threads_made(
    redis_server_url: str, prefix: str, client_name: str, named_connections: Callable[[], int]
) -> None:
    store = open_storage(redis_server_url, prefix, client_name)
    push_from_threads(store, 2, store.close)
    wait_for(lambda: named_connections() == 0)


def test_a_connection_the_server_closed_is_replaced_before_a_claim(
    redis_server_url: str, prefix: str, client_name: str
) -> None:
    # A claim is never retried (its reply may have moved jobs), so a stale socket
    # must be noticed before the claim is sent, as a pool checkout would.
    store = open_storage(redis_server_url, prefix, client_name)
    try:
        store.push([job("a"), job("b")])
        # This thread's connection and the pooled one migrate() used.
        assert kill_connections(redis_server_url, client_name) == 2
        assert [c.job_id for c in store.claim("w", ["default"], 1)] == ["a"]
        assert kill_connections(redis_server_url, client_name) == 1
        store.push([job("c")])
        assert [c.job_id for c in store.claim("w", ["default"], 5)] == ["b", "c"]
    finally:
        store.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_does_not_share_its_parents_connection(
    redis_server_url: str, prefix: str, client_name: str
) -> None:
    store = open_storage(redis_server_url, prefix, client_name)
    try:
        store.push([job("parent-1")])  # this thread now has its own connection
        pid = os.fork()
        if pid == 0:  # the child: push many, so that shared replies would be misread
            code = 1
            try:
                for i in range(50):
                    store.push([job(f"child-{i}")])
                code = 0
            finally:
                os._exit(code)
        for i in range(50):
            store.push([job(f"parent-{i + 2}")])
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        stored = store.list(JobFilter(states=[JobState.READY], limit=None))
        assert len(stored) == 101
        assert len({i.id for i in stored}) == 101
        info = store.get("parent-51")
        assert info is not None and info.state is JobState.READY
    finally:
        store.close()


@pytest.mark.parametrize("encoding", ["utf-8", "latin-1"])
def test_scripts_pack_each_command_as_redis_py_would(encoding: str) -> None:
    # The fast packer (hiredis in one call) must send the very bytes redis-py's own
    # send_command would, for every kind of argument the storage passes; a text UTF-8
    # cannot encode, or another encoding, takes redis-py's encoder.
    connection = redis.Connection(encoding=encoding, encoding_errors="replace")
    pack = _packer({"encoding": encoding})
    for command in [
        ("EVALSHA", "0" * 40, 0, "activejob:", "1796425470.123456", "0", "id-1", "é—ü"),
        ("EVALSHA", "0" * 40, 0, 12, -3, 0.1, 1 / 3, 1e20, ""),
        ("BLPOP", "activejob:handoff:w\udc80", 1.5),
    ]:
        assert b"".join(pack(connection, command)) == b"".join(connection.pack_command(*command))


def test_text_that_is_not_ascii_round_trips_through_a_push(
    redis_server_url: str, prefix: str, client_name: str
) -> None:
    store = open_storage(redis_server_url, prefix, client_name)
    try:
        payload = {"name": "Zoë — 東京"}
        store.push(
            [NewJob("jöb-1", "tests.Jöb", "quëue", 0, json.dumps(payload, ensure_ascii=False))]
        )
        info = store.get("jöb-1")
        assert info is not None
        assert (info.job_class, info.queue_name, info.payload) == ("tests.Jöb", "quëue", payload)
        assert [c.job_id for c in store.claim("w", ["quëue"], 1)] == ["jöb-1"]
    finally:
        store.close()
