"""``activejob dashboard`` as an operator runs it: the real command in a subprocess,
serving over HTTP until stopped."""

from __future__ import annotations

import re
from pathlib import Path

import httpx2 as httpx
import pytest

from activejob.storage.sql.sqlite import SQLiteStorage
from activejob.testing.contract import new_job
from tests.acceptance.test_cli_jobs import activejob_cli
from tests.dashboard.served import serve


@pytest.fixture
def jobs_url(tmp_path: Path) -> str:
    storage = SQLiteStorage(tmp_path / "jobs.sqlite3")
    storage.push([new_job("dash-cli-q", job_class="app.Shown")])
    storage.close()
    return f"sqlite:///{tmp_path / 'jobs.sqlite3'}"


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
