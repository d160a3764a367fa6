"""A real PostgreSQL restart under a working worker: a private cluster of our own
(``initdb``, ``pg_ctl``), restarted while a job runs and while the worker waits.
Every job ends succeeded, exactly once, and the worker carries on by itself."""

from __future__ import annotations

import dataclasses
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import activejob
from activejob.adapters import adapter_from_url
from activejob.adapters.cache import reset_adapters
from activejob.adapters.durable import storage_of
from activejob.storage.base import Storage
from activejob.worker import Worker
from tests.support import wait_for
from tests.worker.conftest import FAST, Background
from tests.worker.jobs import GATES, Gated, Note, labels
from tests.worker.test_postgresql import assert_each_ran_once, succeeded

pytestmark = pytest.mark.postgresql

psycopg = pytest.importorskip("psycopg")


def _bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or [shutil.which(name)]
    return found[-1]


class PrivatePostgres:
    """A PostgreSQL cluster in a temporary folder, on a port of its own."""

    def __init__(self) -> None:
        initdb, self.pg_ctl = _bin("initdb"), _bin("pg_ctl")
        if initdb is None or self.pg_ctl is None:
            pytest.skip("initdb/pg_ctl not found (PostgreSQL server binaries)")
        self.home = Path(tempfile.mkdtemp(prefix="activejob-pg-"))
        self.data = self.home / "data"
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self.as_user: list[str] = []
        if os.geteuid() == 0:  # the server refuses to run as root
            shutil.chown(self.home, "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self._run(initdb, "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str) -> None:
        subprocess.run([*self.as_user, *command], check=True, capture_output=True, timeout=120)

    def _ctl(self, action: str, *extra: str) -> None:
        options = f"-p {self.port} -k {self.home} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            self.pg_ctl or "pg_ctl", action, "-D", str(self.data), "-w", "-t", "60",
            "-l", str(self.home / "log"), "-o", options, *extra,
        )  # fmt: skip

    def start(self) -> None:
        self._ctl("start")

    def restart(self) -> None:
        """Stop (fast: open connections are cut) and start again."""
        self._ctl("restart", "-m", "fast")

    def stop(self) -> None:
        self._ctl("stop", "-m", "immediate")
        shutil.rmtree(self.home, ignore_errors=True)


@pytest.fixture
def private_pg() -> Iterator[PrivatePostgres]:
    server = PrivatePostgres()
    server.start()
    try:
        yield server
    finally:
        reset_adapters(wait=True)
        server.stop()


def test_the_worker_carries_on_through_a_postgresql_restart(private_pg: PrivatePostgres) -> None:
    url = private_pg.url
    activejob.configure(adapter=url)
    storage: Storage = storage_of(url)
    storage.migrate()
    gate = threading.Event()
    GATES["restart"] = gate
    Gated.perform_later("restart", "mid-job")
    first = [Note.perform_later(f"a{n}") for n in range(20)]
    adapter = adapter_from_url(url)  # the worker's own, as a worker process has
    options = dataclasses.replace(FAST, threads=3, recover_after=60)
    worker = Background(Worker(adapter, options=options), burst=False)
    worker.thread.start()
    try:
        wait_for(lambda: succeeded(storage) == len(first), timeout=15)
        wait_for(lambda: "mid-job:started" in labels())

        private_pg.restart()  # a job is running; every connection is cut
        gate.set()  # ...and now it ends: its result must still be recorded
        wait_for(lambda: succeeded(storage) == len(first) + 1, timeout=30)

        private_pg.restart()  # the worker is idle, blocked waiting for jobs
        second = [Note.perform_later(f"b{n}") for n in range(20)]
        total = len(first) + len(second) + 1
        wait_for(lambda: succeeded(storage) == total, timeout=30)
    finally:
        worker.worker.stop()
        worker.join()
        adapter.shutdown(wait=True)

    assert_each_ran_once(storage, total, gated=1)
