"""Each page and action of the dashboard on each real store (SQLite, PostgreSQL,
MariaDB/MySQL, Redis), through Starlette's test client."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from activejob.dashboard import create_app
from activejob.dashboard.app import PAGE_SIZE
from activejob.storage.base import JobFilter, JobState
from activejob.storage.recurring import RecurringTaskSpec
from activejob.testing.contract import new_job
from tests.dashboard.conftest import (
    PASSWORD,
    USER,
    Backend,
    Seeded,
    client_for,
    csrf_token,
    seed,
)


@pytest.fixture
def seeded(backend: Backend) -> Seeded:
    return seed(backend.storage)


@pytest.fixture
def client(backend: Backend) -> Iterator[TestClient]:
    # The dashboard is given the URL, as an operator would, not the test's storage.
    with client_for(create_app(backend.url, auth=(USER, PASSWORD))) as client:
        yield client


def post(client: TestClient, path: str, page: str, **fields: str) -> str:
    """Send a page's form (with the CSRF token that page carries); the page after the
    redirect."""
    token = csrf_token(client.get(page).text)
    response = client.post(path, data={"csrf_token": token, "next": page, **fields})
    assert response.status_code == 200, response.text
    return response.text


def rows(html: str) -> list[str]:
    return re.findall(r"<tr>.*?</tr>", html, flags=re.S)


def test_overview_counts_each_queue_by_state(
    client: TestClient, seeded: Seeded, backend: Backend
) -> None:
    html = client.get("/").text
    body = {
        name: re.findall(r'<td class="num">(\d+)</td>', row)
        for row in rows(html)
        for name in re.findall(r"<a href=\"/jobs\?queue=[^\"]+\">([^<]+)</a>", row)
    }
    # ready, scheduled, running, failed
    assert body == {
        "default": ["0", "1", "0", "1"],
        "mailers": ["1", "0", "0", "0"],
        "other": ["0", "0", "0", "1"],
    }, backend.name
    assert "<strong>2</strong> failed" in html


def test_jobs_filter_by_state_queue_and_class(client: TestClient, seeded: Seeded) -> None:
    def listed(query: str) -> set[str]:
        html = client.get(f"/jobs?{query}").text
        return set(re.findall(r'href="/jobs/([0-9a-f-]{36})"', html))

    assert listed("") == {seeded.failed, seeded.other_failed, seeded.ready, seeded.scheduled}
    assert listed("state=failed") == {seeded.failed, seeded.other_failed}
    assert listed("state=failed&queue=other") == {seeded.other_failed}
    assert listed("class=app.Mail") == {seeded.ready}
    assert listed("state=scheduled") == {seeded.scheduled}
    assert client.get("/jobs?state=nonsense").status_code == 400


def test_jobs_page_through_older_jobs(client: TestClient, backend: Backend) -> None:
    queue = "paged"
    jobs = [new_job(queue, job_class="app.Paged") for _ in range(PAGE_SIZE + 5)]
    backend.storage.push(jobs)
    first = client.get(f"/jobs?queue={queue}").text
    seen_first = re.findall(r'href="/jobs/([0-9a-f-]{36})"', first)
    assert len(set(seen_first)) == PAGE_SIZE
    found = re.search(r'href="(/jobs\?[^"]+)" rel="next"', first)
    assert found, "a full page links to the next one"
    assert "before=" in found.group(1) and "offset" not in found.group(1)  # keyset, no OFFSET
    second = client.get(found.group(1).replace("&amp;", "&")).text
    seen_second = re.findall(r'href="/jobs/([0-9a-f-]{36})"', second)
    assert len(set(seen_second)) == 5
    assert set(seen_first) | set(seen_second) == {job.job_id for job in jobs}
    assert 'rel="next"' not in second and 'rel="first"' in second


def test_a_job_page_shows_arguments_error_and_traceback(client: TestClient, seeded: Seeded) -> None:
    html = client.get(f"/jobs/{seeded.failed}").text
    assert "app.Sync" in html
    assert "tuple(2, 3)" in html  # a tagged argument, decoded for reading
    assert "builtins.ValueError" in html
    assert "line 7 &lt;script&gt;" in html  # the traceback, escaped
    assert "&#34;job_class&#34;: &#34;app.Sync&#34;" in html  # the payload as stored
    assert client.get("/jobs/no-such-job").status_code == 404


def test_retry_and_discard_one_failed_job(
    client: TestClient, seeded: Seeded, backend: Backend
) -> None:
    html = post(client, f"/jobs/{seeded.failed}/retry", "/failed")
    assert f"retried job {seeded.failed}" in html
    assert backend.storage.get(seeded.failed).state is JobState.READY  # type: ignore[union-attr]
    html = post(client, f"/jobs/{seeded.other_failed}/discard", "/failed")
    assert f"discarded job {seeded.other_failed}" in html
    info = backend.storage.get(seeded.other_failed)
    assert info is not None and info.state is JobState.DISCARDED
    # A job in a state the action does not apply to is left alone, and said so.
    html = post(client, f"/jobs/{seeded.ready}/retry", f"/jobs/{seeded.ready}")
    assert f"job {seeded.ready} was not retried" in html


def test_retry_every_job_matching_a_filter(
    client: TestClient, seeded: Seeded, backend: Backend
) -> None:
    asked = post(client, "/jobs/retry", "/failed", state="failed", queue="", **{"class": ""})
    assert "This retrys" not in asked and "every failed job</strong>" in asked
    assert len(backend.storage.list(JobFilter(states=[JobState.FAILED]))) == 2  # asked only
    html = post(client, "/jobs/retry", "/failed", state="failed", confirm="yes")
    assert "retried 2 job(s)" in html
    failed = backend.storage.list(JobFilter(states=[JobState.FAILED]))
    assert failed == []
    # Acting on every job without a filter is refused.
    token = csrf_token(client.get("/jobs").text)
    assert client.post("/jobs/discard", data={"csrf_token": token}).status_code == 400


def test_pause_and_resume_a_queue(client: TestClient, seeded: Seeded, backend: Backend) -> None:
    def paused() -> dict[str, bool]:
        return {queue.name: queue.paused for queue in backend.storage.queues()}

    html = post(client, "/queues/mailers/pause", "/queues")
    assert "paused queue mailers" in html and ">Resume</button>" in html
    assert paused()["mailers"] is True
    post(client, "/queues/mailers/resume", "/queues")
    assert paused()["mailers"] is False


def test_workers_show_host_pid_queues_and_heartbeat(client: TestClient, backend: Backend) -> None:
    info = {"hostname": "box-7", "pid": 4242, "queues": ["mailers", "default"], "threads": 5}
    backend.storage.heartbeat("box-7:4242:abcd", info)
    html = client.get("/workers").text
    assert "box-7:4242:abcd" in html
    assert "<td>box-7</td>" in html and '<td class="num">4242</td>' in html
    assert "mailers, default" in html
    assert " UTC</td>" in html  # the last heartbeat


def test_recurring_tasks_pause_resume_and_run_now(client: TestClient, backend: Backend) -> None:
    storage = backend.storage
    payload = json.dumps({"job_class": "app.Nightly", "arguments": [1], "metadata": {}})
    spec = RecurringTaskSpec("nightly", "app.Nightly", "0 3 * * *", "UTC", "cron-q", 0, payload)
    storage.declare_recurring([spec])
    html = client.get("/recurring").text
    assert "nightly" in html and "0 3 * * *" in html and ">active<" in html

    post(client, "/recurring/nightly/pause", "/recurring")
    assert storage.recurring_tasks()[0].paused is True
    post(client, "/recurring/nightly/resume", "/recurring")
    assert storage.recurring_tasks()[0].paused is False

    html = post(client, "/recurring/nightly/run", "/recurring")
    assert "enqueued job" in html
    [job] = storage.list(JobFilter(queue_name="cron-q"))
    assert job.job_class == "app.Nightly"
    assert job.payload["metadata"]["recurring"] == {"key": "nightly", "run_at": None}

    token = csrf_token(client.get("/recurring").text)
    assert client.post("/recurring/unknown/run", data={"csrf_token": token}).status_code == 404
