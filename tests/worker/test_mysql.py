"""The worker survives losing MariaDB/MySQL: its connections killed with ``KILL``,
and an outage during which its account is locked (no connection accepted). It
reconnects with backoff and every job ends succeeded, exactly once."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

import activejob
from activejob.adapters import adapter_from_url
from activejob.adapters.cache import reset_adapters
from activejob.adapters.durable import storage_of
from activejob.storage.base import Storage
from activejob.worker import Worker
from tests.services import service_url
from tests.support import wait_for
from tests.worker.conftest import FAST, Background
from tests.worker.jobs import GATES, Gated, Note, labels
from tests.worker.test_postgresql import Retries, assert_each_ran_once, retries, succeeded

pytestmark = pytest.mark.mysql

__all__ = ["retries"]


class Server:
    """Our own database and account on the shared server, and an operator's hand on them."""

    def __init__(self, server_url: str) -> None:
        from tests.backends.conftest import mysql_admin

        suffix = f"{os.getpid()}_{uuid.uuid4().hex[:8]}"
        self.name, self.user = f"activejob_worker_{suffix}", f"aj_{uuid.uuid4().hex[:12]}"
        self.admin = mysql_admin(server_url)
        self._sql(f"CREATE DATABASE `{self.name}`")
        self._sql(f"CREATE USER '{self.user}'@'%' IDENTIFIED BY 'secret'")
        self._sql(f"GRANT ALL ON `{self.name}`.* TO '{self.user}'@'%'")
        parts = urlsplit(server_url)
        netloc = f"{self.user}:secret@{parts.hostname}:{parts.port or 3306}"
        self.url = urlunsplit((parts.scheme, netloc, f"/{self.name}", "", ""))

    def _sql(self, statement: str, *args: object) -> list[tuple[object, ...]]:
        cursor = self.admin.cursor()
        cursor.execute(statement, args or None)
        return list(cursor.fetchall() or [])

    def kill_connections(self) -> int:
        ids = self._sql("SELECT id FROM information_schema.processlist WHERE user = %s", self.user)
        for (thread_id,) in ids:
            with contextlib.suppress(Exception):  # it may have ended meanwhile
                self._sql(f"KILL {int(str(thread_id))}")
        return len(ids)

    def allow_connections(self, allowed: bool) -> None:
        self._sql(f"ALTER USER '{self.user}'@'%' ACCOUNT {'UNLOCK' if allowed else 'LOCK'}")

    def drop(self) -> None:
        self.kill_connections()
        self._sql(f"DROP DATABASE IF EXISTS `{self.name}`")
        self._sql(f"DROP USER IF EXISTS '{self.user}'@'%'")
        self.admin.close()


@pytest.fixture
def server() -> Iterator[Server]:
    pytest.importorskip("MySQLdb")
    database = Server(service_url("mysql"))
    try:
        yield database
    finally:
        reset_adapters(wait=True)
        database.drop()


def test_worker_survives_killed_connections_and_an_outage(server: Server, retries: Retries) -> None:
    activejob.configure(adapter=server.url)
    storage: Storage = storage_of(server.url)
    storage.migrate()
    gates = {name: threading.Event() for name in ("killed", "outage")}
    for name, gate in gates.items():
        GATES[f"{server.name}-{name}"] = gate
        Gated.perform_later(f"{server.name}-{name}", name)
    first = [Note.perform_later(f"a{n}") for n in range(30)]
    # The worker has an adapter of its own, as a worker process would.
    adapter = adapter_from_url(server.url)
    options = dataclasses.replace(FAST, threads=4, recover_after=60)
    worker = Background(Worker(adapter, options=options), burst=False)
    worker.thread.start()
    try:
        wait_for(lambda: succeeded(storage) == len(first), timeout=10)
        wait_for(lambda: {"killed:started", "outage:started"} <= set(labels()))

        # Mid-job: every connection is killed, then a result must be recorded.
        assert server.kill_connections() > 0
        gates["killed"].set()
        wait_for(lambda: succeeded(storage) == len(first) + 1, timeout=10)

        # An outage: connections killed and refused while a job ends and the
        # worker waits for more; it retries until the server is back.
        server.allow_connections(False)
        server.kill_connections()
        gates["outage"].set()
        wait_for(lambda: len(retries.messages) >= 2, timeout=10)
        server.allow_connections(True)

        activejob.configure(adapter=server.url)  # the test's own enqueues: a fresh pool
        storage = storage_of(server.url)
        second = [Note.perform_later(f"b{n}") for n in range(30)]
        total = len(first) + len(second) + 2
        wait_for(lambda: succeeded(storage) == total, timeout=15)
    finally:
        worker.worker.stop()
        worker.join()
        adapter.shutdown(wait=True)

    assert_each_ran_once(storage, total, gated=2)


def test_a_database_without_the_schema_stops_the_worker_with_advice(server: Server) -> None:
    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(root / "src"), str(root)]))
    done = subprocess.run(
        [sys.executable, "-m", "activejob", "worker", "--adapter", server.url],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert done.returncode == 2, done.stderr
    assert "activejob migrate" in done.stderr
    assert "secret" not in done.stderr + done.stdout
