"""``activejob dashboard`` as an operator runs it: the real command in a subprocess,
serving over HTTP until stopped."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from activejob.storage.sql.sqlite import SQLiteStorage
from activejob.testing.contract import new_job
from tests.acceptance.test_cli_jobs import activejob_cli
from tests.support import wait_for

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Served:
    """A running ``activejob dashboard`` and what it printed so far."""

    process: subprocess.Popen[str]
    url: str
    lines: list[str] = field(default_factory=list)

    def output(self) -> str:
        return "".join(self.lines)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def answering(url: str) -> bool:
    try:
        httpx.get(url, timeout=1.0)
    except httpx.TransportError:
        return False
    return True


@pytest.fixture
def jobs_url(tmp_path: Path) -> str:
    storage = SQLiteStorage(tmp_path / "jobs.sqlite3")
    storage.push([new_job("dash-cli-q", job_class="app.Shown")])
    storage.close()
    return f"sqlite:///{tmp_path / 'jobs.sqlite3'}"


@contextmanager
def serve(jobs_url: str, env: dict[str, str]) -> Iterator[Served]:
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ACTIVEJOB_")}
    environ["PYTHONPATH"] = str(ROOT / "src")
    environ.update(env)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "activejob",
            "dashboard",
            "--adapter",
            jobs_url,
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=environ,
        cwd=ROOT,
    )
    served = Served(process, f"http://127.0.0.1:{port}")

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            served.lines.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        wait_for(lambda: answering(served.url) or process.poll() is not None, timeout=30)
        assert process.poll() is None, served.output()
        yield served
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        reader.join(timeout=5)


def test_serves_with_the_password_from_the_environment(jobs_url: str) -> None:
    env = {"ACTIVEJOB_DASHBOARD_USER": "ops", "ACTIVEJOB_DASHBOARD_PASSWORD": "env-secret-1"}
    with serve(jobs_url, env) as served:
        assert httpx.get(served.url + "/").status_code == 401
        assert httpx.get(served.url + "/", auth=("ops", "wrong")).status_code == 401
        page = httpx.get(served.url + "/jobs", auth=("ops", "env-secret-1"))
        assert page.status_code == 200
        assert "dash-cli-q" in page.text and "app.Shown" in page.text
        assert f"activejob dashboard on {served.url}/" in served.output()
        assert "env-secret-1" not in served.output()
    assert served.process.returncode == 0, served.output()  # stopped cleanly by SIGINT


def test_makes_a_random_password_and_prints_it_once(jobs_url: str) -> None:
    with serve(jobs_url, {}) as served:
        found = re.findall(r"log in as 'admin' with password (\S+)", served.output())
        assert len(found) == 1, served.output()
        [password] = found
        assert len(password) >= 20
        assert httpx.get(served.url + "/", auth=("admin", password)).status_code == 200
        assert httpx.get(served.url + "/").status_code == 401
        # A restart makes another one.
        first = password
    with serve(jobs_url, {}) as served:
        [again] = re.findall(r"with password (\S+)", served.output())
        assert again != first


def test_refuses_a_missing_database(tmp_path: Path) -> None:
    result = activejob_cli("dashboard", "--adapter", f"sqlite:///{tmp_path / 'nope.sqlite3'}")
    assert result.returncode == 1
    assert "no such database" in result.stderr
