"""The filters, the scheduled page with "run now", the overview's latency and
throughput chart, the job timeline, capped counts and logging out, on each real
store, through Starlette's test client."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from activejob.dashboard import create_app, listing
from activejob.storage.base import JobState
from activejob.storage.sql.base import SQLStorage
from activejob.storage.sql.browse import capped_queues
from activejob.testing.contract import new_job
from tests.dashboard.conftest import PASSWORD, USER, Backend, Seeded, client_for, csrf_token, seed


@pytest.fixture
def seeded(backend: Backend) -> Seeded:
    return seed(backend.storage)


@pytest.fixture
def client(backend: Backend) -> Iterator[TestClient]:
    with client_for(create_app(backend.url, auth=(USER, PASSWORD))) as client:
        yield client


def listed(client: TestClient, path: str) -> set[str]:
    response = client.get(path)
    assert response.status_code == 200, response.text
    return set(re.findall(r'href="/jobs/([0-9a-f-]{36})"', response.text))


def test_filters_by_error_class_text_and_time(client: TestClient, seeded: Seeded) -> None:
    both = {seeded.failed, seeded.other_failed}
    assert listed(client, "/failed?error=builtins.ValueError") == both
    assert listed(client, "/failed?error=app.Other") == set()
    assert listed(client, "/jobs?text=alert(") == {seeded.failed}  # in its arguments
    assert listed(client, "/jobs?state=failed&since=1h") == both
    assert listed(client, "/jobs?state=failed&until=1h") == set()
    assert listed(client, "/jobs?since=2000-01-01&queue=mailers") == {seeded.ready}
    response = client.get("/jobs?since=yesterday-ish")
    assert response.status_code == 400 and "bad time" in response.text
    assert client.get("/jobs?before=12abc").status_code == 400


def test_a_search_without_match_in_its_window_offers_to_search_older(
    client: TestClient, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend.storage.push([new_job("deep", job_class="app.Needle")])
    backend.storage.push([new_job("deep") for _ in range(30)])
    monkeypatch.setattr(listing, "SCAN_WINDOW", 20)  # a window smaller than the queue
    html = client.get("/jobs?queue=deep&class=app.Needle").text
    assert "Searched 20 jobs without a match" in html
    found = re.search(r'href="(/jobs\?[^"]+)" rel="next">Search older', html)
    assert found, "the page links to the search past its window"
    assert len(listed(client, found.group(1).replace("&amp;", "&"))) == 1


def test_scheduled_page_and_run_now(client: TestClient, seeded: Seeded, backend: Backend) -> None:
    assert listed(client, "/scheduled") == {seeded.scheduled}
    page = client.get("/scheduled").text
    assert f"/jobs/{seeded.scheduled}/run-now" in page
    token = csrf_token(page)
    response = client.post(
        f"/jobs/{seeded.scheduled}/run-now", data={"csrf_token": token, "next": "/scheduled"}
    )
    assert response.status_code == 200 and f"job {seeded.scheduled} runs now" in response.text
    info = backend.storage.get(seeded.scheduled)
    assert info is not None and info.state is JobState.READY
    assert listed(client, "/scheduled") == set()
    # Without the token nothing runs; a job that is not scheduled is said so.
    assert client.post(f"/jobs/{seeded.ready}/run-now").status_code == 403
    again = client.post(f"/jobs/{seeded.ready}/run-now", data={"csrf_token": token})
    assert f"job {seeded.ready} was not scheduled" in again.text


def test_overview_shows_latency_and_the_last_hour(client: TestClient, seeded: Seeded) -> None:
    html = client.get("/").text
    [mailers] = [row for row in re.findall(r"<tr>.*?</tr>", html, re.S) if ">mailers<" in row]
    assert re.search(r'class="num latency">\d+s<', mailers)  # its ready job waits
    assert '<svg class="chart"' in html
    assert "2 jobs" in html  # the two failed jobs finished in the last hour
    assert "2 jobs, 2 failed" in html  # every backend, Redis too, splits the failures
    assert html.count('<rect class="failed"') == 1  # both failed in this minute: one red bar


def test_a_job_page_shows_its_timeline(client: TestClient, seeded: Seeded) -> None:
    html = client.get(f"/jobs/{seeded.failed}").text
    timeline = html[html.index('<ol class="timeline">') : html.index("</ol>")]
    events = re.findall(r'<span class="event">([^<]+)</span>', timeline)
    assert events == ["enqueued", "started", "failed"]
    assert "attempt 1 on w1" in timeline
    scheduled = client.get(f"/jobs/{seeded.scheduled}").text
    assert '<span class="event">scheduled for</span>' in scheduled and ">Run now<" in scheduled


def test_counts_stop_at_the_cap_and_say_so(backend: Backend) -> None:
    """A SQL store counts up to the cap and says so; Redis counts exactly (``ZCARD``
    costs nothing), so the same jobs are counted in full and nothing is capped."""
    storage = backend.storage
    storage.push([new_job("many") for _ in range(5)] + [new_job("few")])
    if isinstance(storage, SQLStorage):
        queues = {q.name: q for q in capped_queues(storage, cap=3)}
        assert queues["many"].counts[JobState.READY] == 3
        assert queues["many"].capped == {JobState.READY}
    else:
        queues = {q.name: q for q in storage.queues()}
        assert queues["many"].counts[JobState.READY] == 5
        assert not queues["many"].capped, backend.name
    assert queues["few"].counts == {JobState.READY: 1} and not queues["few"].capped


def test_logout_answers_401_so_the_browser_forgets_the_password(
    client: TestClient, backend: Backend
) -> None:
    assert 'href="/logout"' in client.get("/").text
    response = client.get("/logout")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Basic realm="activejob"'
    assert "Logged out" in response.text
    # With the host application's own login, logging out is the host's business.
    hosted = create_app(backend.url, auth=lambda request: True)
    with TestClient(hosted) as other:
        assert 'href="/logout"' not in other.get("/").text
        assert other.get("/logout").status_code == 404
