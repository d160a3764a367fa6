"""Fixtures for the dashboard tests: a store on each real server (the CLI tests'
``backend``), jobs in the states the pages show, and a logged-in test client."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from activejob.dashboard import create_app
from activejob.storage.base import ErrorInfo, JobState, Result, Storage
from activejob.storage.sql.sqlite import SQLiteStorage
from activejob.testing.contract import new_job
from tests.acceptance.cli_backends import (
    Backend,
    backend,
    mysql_cli_database,
    pg_cli_database,
)

__all__ = ["Backend", "backend", "mysql_cli_database", "pg_cli_database"]

USER, PASSWORD = "admin", "correct horse battery staple"
HOSTILE = "<script>alert('x')</script>"


@dataclass
class Seeded:
    """The job ids of :func:`seed`, by what they are."""

    failed: str
    other_failed: str
    ready: str
    scheduled: str


def seed(storage: Storage) -> Seeded:
    """Two failed jobs (one with ``<script>`` in its arguments and error), a ready and
    a scheduled one, on queues ``default``, ``other`` and ``mailers``."""
    arguments = [HOSTILE, {"_aj": "tuple", "v": [2, 3]}]
    failed = new_job("default", job_class="app.Sync", payload={"arguments": arguments})
    other_failed = new_job("other", job_class="app.Sync")
    storage.push([failed, other_failed])
    error = ErrorInfo("builtins.ValueError", f"bad {HOSTILE}", f"Traceback\n  line 7 {HOSTILE}")
    claimed = storage.claim("w1", ["default", "other"], 10)
    assert len(claimed) == 2
    storage.complete([Result(c.id, JobState.FAILED, error=error) for c in claimed])
    ready = new_job("mailers", job_class="app.Mail")
    scheduled = new_job("default", job_class="app.Later", run_at=4102444800.0)
    storage.push([ready, scheduled])
    return Seeded(failed.job_id, other_failed.job_id, ready.job_id, scheduled.job_id)


def basic(user: str, password: str) -> dict[str, str]:
    """The ``Authorization`` header of HTTP basic auth."""
    encoded = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


def client_for(app: object, user: str = USER, password: str = PASSWORD) -> TestClient:
    """A test client sending the basic-auth credentials."""
    return TestClient(app, headers=basic(user, password))  # type: ignore[arg-type]


def csrf_token(html: str) -> str:
    """The CSRF token a page's forms carry."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


@pytest.fixture
def sqlite_storage(tmp_path: Path) -> Iterator[SQLiteStorage]:
    """A migrated SQLite file of this test."""
    storage = SQLiteStorage(tmp_path / "jobs.sqlite3")
    storage.migrate()
    yield storage
    storage.close()


@pytest.fixture
def sqlite_client(sqlite_storage: SQLiteStorage) -> Iterator[TestClient]:
    """A logged-in client of a dashboard on :func:`sqlite_storage`."""
    app = create_app(sqlite_storage, auth=(USER, PASSWORD))
    with client_for(app) as client:
        yield client
