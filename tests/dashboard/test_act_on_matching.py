"""Retry and discard "all matching" for every filter the listings offer (state, queue,
class, error class, text in the arguments, creation time), in the dashboard (asked,
then confirmed) on each real store: only the matching jobs change."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from activejob.dashboard import create_app
from activejob.storage.base import ErrorInfo, JobState, Result, Storage
from activejob.storage.browse import JobQuery
from activejob.storage.bulk import act_on_matching, describe
from activejob.testing.contract import new_job
from tests.dashboard.conftest import PASSWORD, USER, Backend, client_for, csrf_token


@pytest.fixture
def client(backend: Backend) -> Iterator[TestClient]:
    with client_for(create_app(backend.url, auth=(USER, PASSWORD))) as client:
        yield client


def fail(storage: Storage, specs: list[tuple[str, str, str]]) -> list[str]:
    """Failed jobs of (queue, error class, argument), in order; their job ids."""
    jobs = [new_job(q, job_class="app.Sync", payload={"arguments": [a]}) for q, _, a in specs]
    storage.push(jobs)
    claimed = {c.job_id: c for c in storage.claim("w", sorted({q for q, _, _ in specs}), 50)}
    storage.complete(
        [
            Result(claimed[job.job_id].id, JobState.FAILED, error=ErrorInfo(error, "x", ""))
            for job, (_, error, _) in zip(jobs, specs, strict=True)
        ]
    )
    return [job.job_id for job in jobs]


def states(storage: Storage, ids: list[str]) -> list[str]:
    return [storage.get(job_id).state.value for job_id in ids]  # type: ignore[union-attr]


def ask(client: TestClient, action: str, page: str, **filters: str) -> tuple[str, dict[str, str]]:
    """Press "... all matching" on ``page``: the confirmation page, and its form's fields."""
    token = csrf_token(client.get(page).text)
    asked = client.post(f"/jobs/{action}", data={"csrf_token": token, "next": page, **filters})
    assert asked.status_code == 200, asked.text
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', asked.text))
    assert fields["confirm"] == "yes"
    return asked.text, fields


def confirm(client: TestClient, action: str, page: str, **filters: str) -> tuple[str, str]:
    """Ask, then confirm; both pages' text."""
    asked, fields = ask(client, action, page, **filters)
    done = client.post(f"/jobs/{action}", data=fields)
    assert done.status_code == 200, done.text
    return asked, done.text


def test_retry_all_with_one_error_class_changes_only_those(
    client: TestClient, backend: Backend
) -> None:
    ids = fail(
        backend.storage,
        [("a", "app.Timeout", "x"), ("a", "app.Bug", "x"), ("b", "app.Timeout", "x")],
    )
    filters = {"queue": "a", "error": "app.Timeout"}
    asked, fields = ask(client, "retry", "/failed", state="failed", **filters)
    quoted = "every failed job in queue &#39;a&#39; whose last error is &#39;app.Timeout&#39;"
    assert quoted in asked, asked
    assert states(backend.storage, ids) == ["failed", "failed", "failed"]  # asking changes nothing
    done = client.post("/jobs/retry", data=fields).text
    assert "retried 1 job(s)" in done
    assert states(backend.storage, ids) == ["ready", "failed", "failed"]


def test_the_listing_offers_all_matching_for_every_filter(
    client: TestClient, backend: Backend
) -> None:
    fail(backend.storage, [("a", "app.Timeout", "x")])
    html = client.get("/failed?error=app.Timeout&since=2h").text
    assert "Retry all matching…" in html and "Discard all matching…" in html
    since = re.search(r'name="since" value="([^"]+)"', html.split('class="bulk"')[1])
    assert since and since.group(1).endswith("+00:00")  # made absolute: what is asked is done
    assert "Retry all matching" not in client.get("/jobs").text  # no filter: no bulk action


def test_discard_all_with_text_in_the_arguments(client: TestClient, backend: Backend) -> None:
    ids = fail(backend.storage, [("a", "E", "order-17"), ("a", "E", "order-18")])
    ready = new_job("a", payload={"arguments": ["order-17"]})
    backend.storage.push([ready])
    asked, done = confirm(client, "discard", "/jobs", text="order-17")
    assert "whose arguments contain &#39;order-17&#39;" in asked
    assert "discarded 2 job(s)" in done
    assert states(backend.storage, [*ids, ready.job_id]) == ["discarded", "failed", "discarded"]


def test_retry_all_in_a_time_range(client: TestClient, backend: Backend) -> None:
    [old] = fail(backend.storage, [("a", "E", "old")])
    cut = time.time()
    query = JobQuery(state=JobState.FAILED, created_before=cut)
    assert act_on_matching(backend.storage, query, "retry") == 1
    assert states(backend.storage, [old]) == ["ready"]
    [new] = fail(backend.storage, [("b", "E", "new")])
    assert act_on_matching(backend.storage, JobQuery(created_after=cut + 3600), "retry") == 0
    assert states(backend.storage, [new]) == ["failed"]
    assert describe(JobQuery(created_after=0.0), "retry") == (
        "every failed or discarded job created since 1970-01-01 00:00:00 UTC"
    )


def test_all_matching_walks_every_window_past_the_first(backend: Backend) -> None:
    ids = fail(backend.storage, [("a", "E", f"n{i}") for i in range(7)])
    query = JobQuery(state=JobState.FAILED, text='"n', scan=2)  # 4 windows of 2 jobs
    assert backend.storage.browse(query).window_full  # one window alone would miss some
    assert act_on_matching(backend.storage, query, "discard") == 7
    assert set(states(backend.storage, ids)) == {"discarded"}
