"""The blocked jobs page (flow: concurrency) on each real store: the keys blocked jobs
wait for, with their slots and holders, the jobs themselves, and discarding one."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from activejob.dashboard import create_app
from activejob.storage.base import JobState, NewJob
from activejob.storage.concurrency import ConcurrencySlot
from activejob.testing.contract import new_job
from tests.dashboard.conftest import HOSTILE, PASSWORD, USER, Backend, client_for, csrf_token

KEY = f"Charge/{HOSTILE}"


def limited(key: str, limit: int, **fields: object) -> NewJob:
    job = new_job("billing", job_class="app.Charge", **fields)  # type: ignore[arg-type]
    return dataclasses.replace(job, concurrency=(ConcurrencySlot(key, limit, 600.0),))


@pytest.fixture
def client(backend: Backend) -> Iterator[TestClient]:
    with client_for(create_app(backend.url, auth=(USER, PASSWORD))) as client:
        yield client


def jobs_on(html: str) -> list[str]:
    """The job ids a page links to, in order (each once)."""
    return list(dict.fromkeys(re.findall(r'href="/jobs/([0-9a-f-]{36})"', html)))


def test_the_blocked_page_lists_keys_slots_holders_and_jobs(
    client: TestClient, backend: Backend
) -> None:
    holder = limited(KEY, 1)
    waiting = [limited(KEY, 1) for _ in range(2)]
    other_holder, other_waiting = limited("Sync/7", 1), limited("Sync/7", 1)
    backend.storage.push([holder, *waiting, other_holder, other_waiting, new_job("billing")])
    html = client.get("/blocked").text
    keys = re.findall(
        r"<tr>\s*<td><code>(.*?)</code></td>\s*<td class=\"num\">(\d+)</td>"
        r"\s*<td class=\"num\">(.*?)</td>",
        html,
    )
    escaped = KEY.replace("<", "&lt;").replace(">", "&gt;").replace("'", "&#39;")
    assert keys == [(escaped, "2", "1 of 1"), ("Sync/7", "1", "1 of 1")], backend.name
    assert HOSTILE not in html  # the key is escaped like every other value
    # The holders link to their job pages, then the blocked jobs, newest first.
    listed = jobs_on(html)
    assert listed[:2] == [holder.job_id, other_holder.job_id]
    assert listed[2:] == [other_waiting.job_id, waiting[1].job_id, waiting[0].job_id]
    assert html.count(f"<td><code>{escaped}</code></td>") == 3  # its key row and two jobs
    assert '<a href="/blocked">Blocked</a>' in html  # in the nav

    page = client.get(f"/jobs/{waiting[0].job_id}").text
    assert f"blocked by <code>{escaped}</code>" in page


def test_discard_a_blocked_job_by_post_with_the_token(client: TestClient, backend: Backend) -> None:
    holder, waiting = limited("k", 1), limited("k", 1)
    backend.storage.push([holder, waiting])
    client.get(f"/jobs/{waiting.job_id}/discard")  # a GET changes nothing
    assert backend.storage.get(waiting.job_id).state is JobState.BLOCKED  # type: ignore[union-attr]
    token = csrf_token(client.get("/blocked").text)
    response = client.post(
        f"/jobs/{waiting.job_id}/discard", data={"csrf_token": token, "next": "/blocked"}
    )
    assert f"discarded job {waiting.job_id}" in response.text
    assert backend.storage.get(waiting.job_id).state is JobState.DISCARDED  # type: ignore[union-attr]
    assert "No jobs match." in response.text and "<h2>Keys" not in response.text


def test_the_blocked_page_pages_by_cursor(client: TestClient, backend: Backend) -> None:
    backend.storage.push([limited("k", 1)])
    waiting = [limited("k", 1) for _ in range(55)]
    backend.storage.push(waiting)
    first = client.get("/blocked").text
    found = re.search(r'href="(/blocked\?[^"]+)" rel="next"', first)
    assert found and "before=" in found.group(1)
    second = client.get(found.group(1).replace("&amp;", "&")).text
    seen = set(jobs_on(first)[1:]) | set(jobs_on(second)[1:])  # [0]: the key's holder
    assert seen == {job.job_id for job in waiting}
