"""The dashboard is closed by default: auth on every route, CSRF on every form, no
GET that changes anything, every value escaped."""

from __future__ import annotations

import re

import pytest
from starlette.requests import Request
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from activejob.dashboard import create_app
from activejob.errors import ConfigurationError
from activejob.storage.base import JobFilter, JobState
from activejob.storage.recurring import RecurringTaskSpec
from activejob.storage.sql.sqlite import SQLiteStorage
from tests.dashboard.conftest import HOSTILE, PASSWORD, USER, client_for, csrf_token, seed


def every_path(app: object) -> list[tuple[str, str]]:
    """(method, path) for every route in the app's table, parameters filled in."""
    found: list[tuple[str, str]] = []

    def walk(routes: list[object], prefix: str) -> None:
        for route in routes:
            if isinstance(route, Mount):
                inner = getattr(route, "routes", None) or []
                walk(list(inner), prefix + route.path)
                if not inner:
                    found.append(("GET", prefix + route.path + "/dashboard.css"))
            elif isinstance(route, Route):
                path = re.sub(r"\{[^}]+\}", "x", route.path)
                for method in sorted(route.methods or {"GET"}):
                    if method != "HEAD":
                        found.append((method, prefix + path))

    walk(list(app.routes), "")  # type: ignore[attr-defined]
    return found


def test_create_app_without_auth_is_refused(sqlite_storage: SQLiteStorage) -> None:
    with pytest.raises(ConfigurationError, match="needs auth"):
        create_app(sqlite_storage)
    with pytest.raises(ConfigurationError, match="needs auth"):
        create_app(sqlite_storage, auth=None)
    with pytest.raises(ConfigurationError, match="tuple of two strings"):
        create_app(sqlite_storage, auth=("only-user",))  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="non-empty"):
        create_app(sqlite_storage, auth=("admin", ""))


@pytest.mark.parametrize("base_path", ["", "/ops/jobs"])
def test_every_route_refuses_a_request_without_credentials(
    sqlite_storage: SQLiteStorage, base_path: str
) -> None:
    seed(sqlite_storage)
    app = create_app(sqlite_storage, auth=(USER, PASSWORD), base_path=base_path)
    paths = every_path(app)
    assert len(paths) >= 18, paths
    assert ("GET", f"{base_path}/blocked") in paths  # flow: concurrency's page
    anonymous = TestClient(app)
    wrong = client_for(app, USER, "wrong")
    for method, path in paths:
        for client in (anonymous, wrong):
            response = client.request(method, path)
            assert response.status_code == 401, (method, path, response.status_code)
            assert response.headers["www-authenticate"].startswith("Basic ")
    # The credentials let the same pages in.
    assert client_for(app).get(f"{base_path}/").status_code == 200
    assert client_for(app).get(f"{base_path}/static/dashboard.css").status_code == 200


def test_a_callable_check_decides_and_refuses_with_403(sqlite_storage: SQLiteStorage) -> None:
    def staff_only(request: Request) -> bool:
        return request.headers.get("x-staff") == "yes"

    app = create_app(sqlite_storage, auth=staff_only)
    for method, path in every_path(app):
        assert TestClient(app).request(method, path).status_code == 403, (method, path)
    assert TestClient(app, headers={"x-staff": "yes"}).get("/queues").status_code == 200


def test_auth_false_is_an_explicit_opt_out(sqlite_storage: SQLiteStorage) -> None:
    assert TestClient(create_app(sqlite_storage, auth=False)).get("/").status_code == 200


def test_a_post_without_the_csrf_token_changes_nothing(sqlite_storage: SQLiteStorage) -> None:
    ids = seed(sqlite_storage)
    client = client_for(create_app(sqlite_storage, auth=(USER, PASSWORD)))
    token = csrf_token(client.get("/failed").text)
    attempts = [
        {},  # no token at all
        {"csrf_token": "forged.0000"},  # a token this app did not sign
        {"csrf_token": token + "x"},  # not the cookie's token
    ]
    for form in attempts:
        response = client.post(f"/jobs/{ids.failed}/retry", data=form, follow_redirects=False)
        assert response.status_code == 403
        assert client.post("/queues/default/pause", data=form).status_code == 403
    # Without the cookie, even the right form token is refused (double submit).
    cookieless = client_for(client.app)
    response = cookieless.post(f"/jobs/{ids.failed}/retry", data={"csrf_token": token})
    assert response.status_code == 403
    assert sqlite_storage.get(ids.failed).state is JobState.FAILED  # type: ignore[union-attr]
    assert not any(queue.paused for queue in sqlite_storage.queues())
    # With both, the same request works.
    response = client.post(
        f"/jobs/{ids.failed}/retry", data={"csrf_token": token}, follow_redirects=False
    )
    assert response.status_code == 303
    assert sqlite_storage.get(ids.failed).state is JobState.READY  # type: ignore[union-attr]


def test_no_get_changes_anything(sqlite_storage: SQLiteStorage) -> None:
    ids = seed(sqlite_storage)
    sqlite_storage.declare_recurring(
        [RecurringTaskSpec("nightly", "app.Nightly", "0 3 * * *", "UTC", "default", 0, "{}")]
    )
    app = create_app(sqlite_storage, auth=(USER, PASSWORD))
    client = client_for(app)

    def snapshot() -> object:
        jobs = sqlite_storage.list(JobFilter(limit=None))
        return (
            sorted((job.job_id, job.state.value) for job in jobs),
            [(q.name, q.paused) for q in sqlite_storage.queues()],
            [(t.key, t.paused) for t in sqlite_storage.recurring_tasks()],
        )

    before = snapshot()
    for _, path in every_path(app):
        for real in (ids.failed, "default", "nightly"):
            client.get(path.replace("/x", f"/{real}"))
    assert snapshot() == before
    # The action routes do not answer GET at all.
    assert client.get(f"/jobs/{ids.failed}/retry").status_code in (404, 405)
    assert client.get("/queues/default/pause").status_code == 405
    assert client.get("/recurring/nightly/run").status_code == 405


def test_job_arguments_and_errors_are_escaped(sqlite_storage: SQLiteStorage) -> None:
    ids = seed(sqlite_storage)
    client = client_for(create_app(sqlite_storage, auth=(USER, PASSWORD)))
    for path in (f"/jobs/{ids.failed}", "/failed", "/jobs"):
        html = client.get(path).text
        assert HOSTILE not in html, path
        assert "&lt;script&gt;" in html, path


def test_a_next_url_outside_the_dashboard_is_not_followed(sqlite_storage: SQLiteStorage) -> None:
    ids = seed(sqlite_storage)
    client = client_for(create_app(sqlite_storage, auth=(USER, PASSWORD)))
    token = csrf_token(client.get("/failed").text)
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        response = client.post(
            f"/jobs/{ids.failed}/discard",
            data={"csrf_token": token, "next": target},
            follow_redirects=False,
        )
        assert response.status_code == 303
        assert response.headers["location"].startswith(f"/jobs/{ids.failed}?"), target


def test_a_store_that_cannot_be_reached_answers_503_with_the_reason() -> None:
    app = create_app("postgresql://postgres@127.0.0.1:9/activejob_nowhere", auth=False)
    response = TestClient(app).get("/queues")
    assert response.status_code == 503
    assert response.text.startswith("the job store failed: ")
