"""A real MariaDB restart under a working worker: a private server of our own
(``mariadb-install-db``, ``mariadbd`` on a free port), restarted while a job runs and
while the worker waits. Every job ends succeeded, exactly once, and the worker
carries on by itself. Never the shared server."""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
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

pytestmark = pytest.mark.mysql

MySQLdb = pytest.importorskip("MySQLdb")


class PrivateMariaDB:
    """A MariaDB server in a temporary folder, on a port of its own."""

    def __init__(self) -> None:
        self.install = shutil.which("mariadb-install-db")
        self.server = shutil.which("mariadbd") or shutil.which("mariadbd", path="/usr/sbin")
        if self.install is None or self.server is None:
            pytest.skip("mariadb-install-db/mariadbd not found (MariaDB server binaries)")
        self.home = Path(tempfile.mkdtemp(prefix="activejob-mariadb-"))
        self.user = ["--user=mysql"] if os.geteuid() == 0 else []
        if os.geteuid() == 0:  # mariadbd refuses to run as root
            shutil.chown(self.home, "mysql")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        subprocess.run(
            [self.install, "--no-defaults", *self.user, f"--datadir={self.home / 'data'}",
             "--auth-root-authentication-method=normal", "--skip-test-db"],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = f"mysql://root@127.0.0.1:{self.port}/jobs"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.server or "mariadbd", "--no-defaults", *self.user,
             f"--datadir={self.home / 'data'}", f"--socket={self.home / 'sock'}",
             f"--port={self.port}", "--bind-address=127.0.0.1", "--skip-name-resolve",
             f"--log-error={self.home / 'error.log'}", f"--pid-file={self.home / 'pid'}",
             "--innodb-flush-log-at-trx-commit=0"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for(self._answers, timeout=60)

    def _answers(self) -> bool:
        try:
            MySQLdb.connect(host="127.0.0.1", port=self.port, user="root").close()
        except MySQLdb.Error:
            return False
        return True

    def restart(self) -> None:
        """Stop (SIGTERM: open connections are cut) and start again."""
        self.stop_server()
        self.start()

    def stop_server(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(60)
            self.proc = None

    def remove(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(30)
        shutil.rmtree(self.home, ignore_errors=True)


@pytest.fixture
def private_mariadb() -> Iterator[PrivateMariaDB]:
    server = PrivateMariaDB()
    try:
        server.start()
        admin = MySQLdb.connect(host="127.0.0.1", port=server.port, user="root")
        admin.cursor().execute("CREATE DATABASE jobs")
        admin.close()
        yield server
    finally:
        reset_adapters(wait=True)
        server.remove()


def test_the_worker_carries_on_through_a_mariadb_restart(private_mariadb: PrivateMariaDB) -> None:
    url = private_mariadb.url
    activejob.configure(adapter=url)
    storage: Storage = storage_of(url)
    storage.migrate()
    gate = threading.Event()
    GATES["mariadb-restart"] = gate
    Gated.perform_later("mariadb-restart", "mid-job")
    first = [Note.perform_later(f"a{n}") for n in range(20)]
    adapter = adapter_from_url(url)  # the worker's own, as a worker process has
    options = dataclasses.replace(FAST, threads=3, recover_after=60)
    worker = Background(Worker(adapter, options=options), burst=False)
    worker.thread.start()
    try:
        wait_for(lambda: succeeded(storage) == len(first), timeout=15)
        wait_for(lambda: "mid-job:started" in labels())

        private_mariadb.restart()  # a job is running; every connection is cut
        gate.set()  # ...and now it ends: its result must still be recorded
        wait_for(lambda: succeeded(storage) == len(first) + 1, timeout=30)

        private_mariadb.restart()  # the worker is idle, waiting for jobs
        second = [Note.perform_later(f"b{n}") for n in range(20)]
        total = len(first) + len(second) + 1
        wait_for(lambda: succeeded(storage) == total, timeout=30)
    finally:
        worker.worker.stop()
        worker.join()
        adapter.shutdown(wait=True)

    assert_each_ran_once(storage, total, gated=1)
