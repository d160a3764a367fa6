"""PostgreSQL behind a real PgBouncer in transaction mode: every statement of the
storage and the worker goes through it, only the LISTEN connection goes direct.

PgBouncer is not one of the machine's services: these tests start their own.
``make test`` installs it where it can (``scripts/test-tools.sh``); elsewhere the
tests skip with that reason, and under CI they fail.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

import activejob
from activejob.adapters.durable import storage_of
from activejob.storage.base import JobState, Storage
from activejob.transaction import in_transaction
from tests.support import wait_for
from tests.worker import jobs
from tests.worker.conftest import FAST, run_burst, start_worker
from tests.worker.jobs import Flaky, Note, labels

pytestmark = pytest.mark.postgresql

psycopg = pytest.importorskip("psycopg")

PGBOUNCER = shutil.which("pgbouncer") or next(
    (p for p in ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer") if os.path.exists(p)), None
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def bouncer_address(pg_server: str) -> Iterator[tuple[str, int]]:
    """A private PgBouncer in transaction mode in front of the test server."""
    if PGBOUNCER is None:
        reason = "pgbouncer is not installed (apt install pgbouncer)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI requires every service test to run", pytrace=False)
        pytest.skip(reason)
    server = urlsplit(pg_server)
    port = _free_port()
    home = Path(tempfile.mkdtemp(prefix="activejob-pgbouncer-"))
    home.chmod(0o755)  # pgbouncer runs as postgres when we are root
    (home / "users.txt").write_text(f'"{server.username or "postgres"}" ""\n')
    (home / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"* = host={server.hostname or '127.0.0.1'} port={server.port or 5432}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\n"
        f"auth_type = trust\nauth_file = {home / 'users.txt'}\n"
        "pool_mode = transaction\ndefault_pool_size = 4\nmax_client_conn = 200\n"
        f"unix_socket_dir =\nlogfile = {home / 'pgbouncer.log'}\n"
        "ignore_startup_parameters = extra_float_digits,options\n"
    )
    command = [PGBOUNCER, str(home / "pgbouncer.ini")]
    if os.geteuid() == 0:
        shutil.chown(home, "postgres")
        for item in home.iterdir():
            shutil.chown(item, "postgres")
        command[1:1] = ["-u", "postgres"]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: _accepts(port) or proc.poll() is not None, timeout=10)
        if proc.poll() is not None:
            log = (home / "pgbouncer.log").read_text(errors="replace")
            pytest.fail(f"pgbouncer did not start:\n{log}")
        yield "127.0.0.1", port
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(home, ignore_errors=True)


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


@pytest.fixture
def url(pg_url: str, bouncer_address: tuple[str, int]) -> str:
    """The test database through PgBouncer, LISTEN direct; configured as the adapter."""
    direct = urlsplit(pg_url)
    host, port = bouncer_address
    netloc = f"{direct.username or 'postgres'}@{host}:{port}"
    through = urlunsplit((direct.scheme, netloc, direct.path, "", ""))
    address = f"{through}?prepare_threshold=none&listen_url={pg_url}"
    activejob.configure(adapter=address)
    return address


@pytest.fixture
def storage(url: str) -> Storage:
    built: Storage = storage_of(url)
    return built


@pytest.fixture(autouse=True)
def clean_runs() -> Iterator[None]:
    jobs.RUNS.clear()
    yield
    jobs.RUNS.clear()


def test_the_worker_runs_everything_through_pgbouncer(url: str, storage: Storage) -> None:
    notes = [Note(f"n{i}") for i in range(40)]
    assert activejob.perform_all_later(notes) == 40
    flaky = Flaky.perform_later("f", 2)  # retries go through the storage too
    run_burst(url, FAST)
    assert sorted(labels()) == sorted([f"n{i}" for i in range(40)] + ["f#1", "f#2", "f#3"])
    for job in [*notes, flaky]:
        info = storage.get(job.job_id)
        assert info is not None and info.state is JobState.SUCCEEDED


def test_an_idle_worker_behind_pgbouncer_wakes_on_notify(url: str, storage: Storage) -> None:
    idle = start_worker(url, dataclasses.replace(FAST, poll_interval=30.0))
    try:
        wait_for(lambda: len(storage.workers()) == 1)
        Note.perform_later("woken")
        wait_for(lambda: "woken" in labels(), timeout=5)  # not the 30 s poll
    finally:
        idle.worker.stop()
        idle.join()


def test_enqueue_in_the_callers_transaction_through_pgbouncer(
    url: str, storage: Storage, bouncer_address: tuple[str, int], pg_url: str
) -> None:
    host, port = bouncer_address
    dsn = urlunsplit(("postgresql", f"postgres@{host}:{port}", urlsplit(pg_url).path, "", ""))
    with psycopg.connect(dsn, prepare_threshold=None) as conn:
        with conn.transaction(), in_transaction(conn):
            kept = Note.perform_later("committed")
        with pytest.raises(RuntimeError), conn.transaction(), in_transaction(conn):
            dropped = Note.perform_later("rolled back")
            raise RuntimeError("roll back")
    assert storage.get(kept.job_id) is not None
    assert storage.get(dropped.job_id) is None
