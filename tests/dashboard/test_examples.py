"""docs/dashboard.md: its examples are the files in examples/dashboard/, and they
work as written: mounted in FastAPI and in Starlette, behind basic auth and behind
the host's own login, with links and forms that follow the mount point."""

from __future__ import annotations

import re
import runpy
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from activejob.storage.base import JobState
from activejob.storage.sql.sqlite import SQLiteStorage
from tests.dashboard.conftest import basic, csrf_token, seed

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "dashboard.md"
EXAMPLES = ROOT / "examples" / "dashboard"


def load(name: str) -> Any:
    return runpy.run_path(str(EXAMPLES / name))["app"]


def test_the_doc_shows_each_example_as_it_is() -> None:
    blocks = dict(
        re.findall(r"<!-- example: (\S+) -->\n```python\n(.*?)```", DOC.read_text(), re.S)
    )
    assert set(blocks) == {
        "examples/dashboard/fastapi_app.py",
        "examples/dashboard/starlette_app.py",
    }
    for path, code in blocks.items():
        assert code == (ROOT / path).read_text(), path


def test_the_doc_shows_every_screenshot_the_browser_test_takes() -> None:
    shown = set(re.findall(r"\]\((dashboard/[^)]+\.png)\)", DOC.read_text()))
    taken = {f"dashboard/{path.name}" for path in (ROOT / "docs" / "dashboard").glob("*.png")}
    assert shown == taken and len(shown) == 11  # blocked.png, confirm.png too


def test_mounted_in_fastapi_with_basic_auth(
    sqlite_storage: SQLiteStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = seed(sqlite_storage)
    monkeypatch.setenv("ACTIVEJOB_ADAPTER", f"sqlite:///{sqlite_storage.path}")
    monkeypatch.setenv("DASHBOARD_PASSWORD", "example-password")
    app = load("fastapi_app.py")
    anonymous = TestClient(app)
    assert anonymous.get("/").json() == {"jobs": "/jobs/"}  # the host's own routes are open
    assert anonymous.get("/jobs/").status_code == 401
    client = TestClient(app, headers=basic("admin", "example-password"))
    page = client.get("/jobs/failed")
    assert page.status_code == 200
    assert f'href="/jobs/jobs/{ids.failed}"' in page.text
    assert 'href="/jobs/static/dashboard.css"' in page.text
    response = client.post(
        f"/jobs/jobs/{ids.failed}/retry",
        data={"csrf_token": csrf_token(page.text), "next": "/jobs/failed"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith("/jobs/failed?notice=")
    assert sqlite_storage.get(ids.failed).state is JobState.READY  # type: ignore[union-attr]


def test_mounted_in_starlette_behind_the_hosts_login(
    sqlite_storage: SQLiteStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(sqlite_storage)
    monkeypatch.setenv("ACTIVEJOB_ADAPTER", f"sqlite:///{sqlite_storage.path}")
    monkeypatch.setenv("STAFF_TOKEN", "staff-token-1")
    app = load("starlette_app.py")
    assert TestClient(app).get("/admin/jobs/").status_code == 403
    wrong = TestClient(app, headers={"Authorization": "Bearer nope"})
    assert wrong.get("/admin/jobs/queues").status_code == 403
    staff = TestClient(app, headers={"Authorization": "Bearer staff-token-1"})
    page = staff.get("/admin/jobs/queues")
    assert page.status_code == 200
    # The CSRF cookie is scoped to the mount point, and the form posts under it.
    assert "path=/admin/jobs" in page.headers["set-cookie"].lower()
    assert 'action="/admin/jobs/queues/mailers/pause"' in page.text
    assert 'name="next" value="/admin/jobs/queues"' in page.text
    after = staff.post(
        "/admin/jobs/queues/mailers/pause",
        data={"csrf_token": csrf_token(page.text), "next": "/admin/jobs/queues"},
    )
    assert after.status_code == 200 and "paused queue mailers" in after.text
    assert {q.name: q.paused for q in sqlite_storage.queues()}["mailers"] is True
