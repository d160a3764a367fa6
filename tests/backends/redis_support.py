"""Fixtures and tools for the Redis backend's tests.

Other suites share the Redis server, so every test works under its own key prefix
and deletes only its own keys (never ``FLUSHDB``). Tests that restart Redis start a
private ``redis-server`` on a free port instead of touching the shared one.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import cast
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis

from activejob.storage.redis import RedisStorage
from tests.services import service_url
from tests.support import wait_for


def unique_prefix() -> str:
    """A key prefix no other test uses."""
    return f"ajtest-{os.getpid()}-{uuid.uuid4().hex[:10]}"


def with_params(url: str, **params: object) -> str:
    """``url`` with query parameters added."""
    parts = urlsplit(url)
    extra = "&".join(f"{k}={v}" for k, v in params.items())
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def delete_prefix(url: str, prefix: str) -> None:
    """Delete every key under ``prefix`` (and only those)."""
    client = redis.Redis.from_url(url)
    try:
        batch = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        for i in range(0, len(batch), 500):
            client.delete(*batch[i : i + 500])
    finally:
        client.close()


def kill_connections(url: str, client_name: str) -> int:
    """Kill the server side of every connection named ``client_name`` (ours only)."""
    admin = redis.Redis.from_url(url, decode_responses=True)
    try:
        killed = 0
        for client in admin.client_list():
            if client.get("name") == client_name:
                admin.client_kill_filter(_id=client["id"])
                killed += 1
        return killed
    finally:
        admin.close()


@pytest.fixture
def redis_server_url() -> str:
    """The shared Redis server (skips, or fails under CI, when it is not running)."""
    return service_url("redis")


@pytest.fixture
def prefix(redis_server_url: str) -> Iterator[str]:
    """A fresh key prefix, deleted after the test."""
    name = unique_prefix()
    yield name
    delete_prefix(redis_server_url, name)


@pytest.fixture
def redis_url(redis_server_url: str, prefix: str) -> str:
    """An adapter URL for the shared server under this test's own prefix."""
    return with_params(redis_server_url, prefix=prefix, client_name=prefix)


@pytest.fixture
def storage(redis_url: str) -> Iterator[RedisStorage]:
    """A migrated storage under this test's prefix."""
    store = RedisStorage(redis_url)
    store.migrate()
    yield store
    store.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrivateRedis:
    """A ``redis-server`` of our own, in ``directory``, that tests may kill and restart.

    ``appendonly yes`` with ``appendfsync always``: every acknowledged write is on disk,
    so what survives a ``kill -9`` is exactly what Redis acknowledged.
    """

    def __init__(self, directory: Path, port: int | None = None) -> None:
        self.directory = directory
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.directory),
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
                "--daemonize",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self._answers, timeout=10.0)

    def _answers(self) -> bool:
        with contextlib.suppress(redis.RedisError):
            client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
            try:
                return bool(client.ping())
            finally:
                client.close()
        return False

    def kill(self) -> None:
        """``kill -9`` the server: only what it had written to its AOF survives."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def restart(self) -> None:
        self.kill()
        self.start()


@pytest.fixture
def private_redis(redis_server_url: str, tmp_path: Path) -> Iterator[PrivateRedis]:
    """A private Redis with AOF on; skips (fails under CI) without ``redis-server``."""
    if shutil.which("redis-server") is None:
        reason = "redis-server is not installed; the restart tests need their own server"
        if os.environ.get("CI"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.kill()


class FaultyProxy:
    """A TCP proxy in front of Redis that can fail the way networks and servers do.

    ``cut()`` drops every connection and refuses new ones until ``restore()`` (Redis
    unreachable); ``drop_next_reply()`` lets the next command reach Redis and run, then
    drops the connection instead of delivering the reply (a reply lost in flight).
    """

    def __init__(self, upstream_url: str) -> None:
        parts = urlsplit(upstream_url)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 6379)
        self.db_path = parts.path
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._refusing = False
        self._drop_reply = False
        self.replies_dropped = 0
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}{self.db_path}"

    def cut(self) -> None:
        with self._lock:
            self._refusing = True
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            _close_pair(pair)

    def restore(self) -> None:
        with self._lock:
            self._refusing = False

    def drop_next_reply(self) -> None:
        with self._lock:
            self._drop_reply = True

    def close(self) -> None:
        self.cut()
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                refusing = self._refusing
            if refusing:
                client.close()
                continue
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            pair = (client, server)
            with self._lock:
                # A cut() while this connection was being made must drop it too.
                refusing = self._refusing
                if not refusing:
                    self._pairs.append(pair)
            if refusing:
                _close_pair(pair)
                continue
            threading.Thread(
                target=self._pump, args=(client, server, pair, False), daemon=True
            ).start()
            threading.Thread(
                target=self._pump, args=(server, client, pair, True), daemon=True
            ).start()

    def _pump(
        self,
        src: socket.socket,
        dst: socket.socket,
        pair: tuple[socket.socket, socket.socket],
        is_reply: bool,
    ) -> None:
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            if not data:
                _close_pair(pair)
                return
            if is_reply:
                with self._lock:
                    drop, self._drop_reply = self._drop_reply, False
                if drop:
                    self.replies_dropped += 1
                    _close_pair(pair)
                    return
            try:
                dst.sendall(data)
            except OSError:
                _close_pair(pair)
                return


def _close_pair(pair: tuple[socket.socket, socket.socket]) -> None:
    for sock in pair:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            sock.close()


@pytest.fixture
def proxy(redis_server_url: str) -> Iterator[FaultyProxy]:
    """A :class:`FaultyProxy` in front of the shared Redis."""
    faulty = FaultyProxy(redis_server_url)
    yield faulty
    faulty.close()


def idle_fetchers(storage: RedisStorage) -> dict[str, float]:
    """The live idle registrations (worker id: deadline) a push may hand a job to."""
    found = storage.client.hgetall(storage.key("idle"))
    deadlines = {wid: json.loads(text)[0] for wid, text in cast("dict[str, str]", found).items()}
    return {wid: at for wid, at in deadlines.items() if at > time.time()}
