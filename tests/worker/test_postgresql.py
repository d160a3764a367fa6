"""The worker survives losing PostgreSQL: connections killed with
``pg_terminate_backend``, and an outage during which no connection is accepted.
It reconnects with backoff and every job ends succeeded, exactly once."""

from __future__ import annotations

import dataclasses
import logging
import os
import subprocess
import sys
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

import activejob
from activejob.adapters import adapter_from_url
from activejob.adapters.durable import storage_of
from activejob.storage.base import JobFilter, JobState, Storage, StorageUnavailable
from activejob.worker import Worker
from tests.services import service_url
from tests.support import wait_for
from tests.worker.conftest import FAST, Background
from tests.worker.jobs import GATES, Gated, Note, labels

pytestmark = pytest.mark.postgresql


class Server:
    """Our own database on the shared server, and an operator's hand on it."""

    def __init__(self, server_url: str) -> None:
        import psycopg

        self.name = f"activejob_worker_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        self.admin = psycopg.connect(server_url, autocommit=True)
        self.admin.execute(f'CREATE DATABASE "{self.name}"')
        self.url = urlunsplit(urlsplit(server_url)._replace(path=f"/{self.name}"))

    def terminate_backends(self) -> int:
        rows = self.admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
            (self.name,),
        ).fetchall()
        return len(rows)

    def allow_connections(self, allowed: bool) -> None:
        self.admin.execute(
            f'ALTER DATABASE "{self.name}" WITH ALLOW_CONNECTIONS {str(allowed).lower()}'
        )

    def drop(self) -> None:
        self.allow_connections(True)
        self.admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self.admin.close()


@pytest.fixture
def server() -> Iterator[Server]:
    pytest.importorskip("psycopg")
    database = Server(service_url("postgresql"))
    try:
        yield database
    finally:
        activejob.adapters.cache.reset_adapters(wait=True)
        database.drop()


class Retries(logging.Handler):
    """Counts the worker's "failed ...; retrying" warnings."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if "retrying" in record.getMessage():
            self.messages.append(record.getMessage())


@pytest.fixture
def retries() -> Iterator[Retries]:
    handler = Retries()
    logger = logging.getLogger("activejob.worker")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


def assert_each_ran_once(storage: Storage, total: int, *, gated: int) -> None:
    """Every one of ``total`` jobs ran exactly once (each of the ``gated`` ones also
    logged ``:started``) and none is left unfinished."""
    runs = Counter(labels())
    assert set(runs.values()) == {1}, runs
    assert len(runs) == total + gated
    unfinished = [JobState.READY, JobState.RUNNING, JobState.SCHEDULED, JobState.FAILED]
    assert storage.list(JobFilter(states=unfinished, limit=None)) == []


def succeeded(storage: Storage) -> int:
    """How many jobs succeeded; -1 while the test's own connections are reconnecting."""
    try:
        return len(storage.list(JobFilter(states=[JobState.SUCCEEDED], limit=None)))
    except StorageUnavailable:
        return -1


def test_worker_survives_terminated_connections_and_an_outage(
    server: Server, retries: Retries
) -> None:
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
        assert server.terminate_backends() > 0
        gates["killed"].set()
        wait_for(lambda: succeeded(storage) == len(first) + 1, timeout=10)

        # An outage: connections killed and refused while a job ends and the
        # worker waits for more; it retries until the server is back.
        server.allow_connections(False)
        server.terminate_backends()
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
