"""``ActiveJobBackend`` beyond Django's own cases: the signals the worker sends, and the
backend on MariaDB and on the Redis adapter (a subset of the adapted cases there)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.djtask_backend.support import Project, mysql_project, sqlite_project

pytest.importorskip("django")
pytest.importorskip("django_tasks")

ENQUEUE = """
import json
from taskapp import tasks
ids = [
    tasks.calculate_meaning_of_life.enqueue().id,
    tasks.failing_task_value_error.enqueue().id,
    tasks.noop_task_async.enqueue().id,
]
print(json.dumps(ids))
"""

RESULTS = """
import json, sys
from taskapp import tasks
backend = tasks.noop_task.get_backend()
rows = []
for result_id in {ids!r}:
    r = backend.get_result(result_id)
    errors = [e.exception_class_path for e in r.errors]
    rows.append([r.status, r.attempts, len(r.worker_ids[-1]), errors])
print(json.dumps(rows))
"""

SUBSET = [
    "ActiveJobBackendTestCase.test_enqueue_task",
    "ActiveJobBackendTestCase.test_get_result",
    "ActiveJobBackendTestCase.test_get_missing_result",
    "ActiveJobBackendTestCase.test_priority_is_mapped_to_ours",
    "ActiveJobWorkerTestCase.test_run_enqueued_task",
    "ActiveJobWorkerTestCase.test_result",
    "ActiveJobWorkerTestCase.test_failing_task",
    "ActiveJobWorkerTestCase.test_return_value_over_the_limit_fails_saying_so",
    "ActiveJobWorkerTestCase.test_run_after_priority",
    "ActiveJobWorkerTestCase.test_invalid_task_path",
    "ActiveJobWorkerTestCase.test_takes_context",
]
"""The cases run on the other stores: enqueue, results, return values, order, the rule."""


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    with sqlite_project(AJ_SIGNAL_LOG=str(tmp_path / "signals.jsonl")) as built:
        built.manage("migrate", "--no-input")
        yield built


def signals(project: Project) -> list[dict[str, object]]:
    text = Path(project.env["AJ_SIGNAL_LOG"]).read_text()
    return [json.loads(line) for line in text.splitlines()]


def test_the_worker_sends_task_started_and_task_finished(project: Project) -> None:
    ok, failing, coroutine = project.python(ENQUEUE)
    enqueued = signals(project)
    assert [(s["signal"], s["id"], s["status"]) for s in enqueued] == [
        ("task_enqueued", ok, "READY"),
        ("task_enqueued", failing, "READY"),
        ("task_enqueued", coroutine, "READY"),
    ]
    enqueuer = enqueued[0]["pid"]
    assert {s["sender"] for s in enqueued} == {
        "activejob.contrib.django.tasks.backend.ActiveJobBackend"
    }

    project.manage("activejob", "worker", "--burst", check=False)
    ran = [s for s in signals(project) if s["signal"] != "task_enqueued"]
    by_id = {(s["id"], s["signal"]): s for s in ran}
    assert len(ran) == 6, ran
    for result_id in (ok, failing, coroutine):
        started = by_id[(result_id, "task_started")]
        finished = by_id[(result_id, "task_finished")]
        assert started["status"] == "RUNNING" and started["attempts"] == 1
        assert started["pid"] == finished["pid"] != enqueuer  # sent by the worker
        assert started["sender"] == "activejob.contrib.django.tasks.backend.ActiveJobBackend"
    assert by_id[(ok, "task_finished")]["status"] == "SUCCESSFUL"
    assert by_id[(ok, "task_finished")]["return_value"] == 42
    assert by_id[(failing, "task_finished")]["status"] == "FAILED"
    assert by_id[(failing, "task_finished")]["errors"] == ["builtins.ValueError"]
    assert by_id[(coroutine, "task_finished")]["status"] == "SUCCESSFUL"

    rows = project.python(RESULTS.format(ids=[ok, failing, coroutine]))
    assert [row[0] for row in rows] == ["SUCCESSFUL", "FAILED", "SUCCESSFUL"]
    assert all(row[1] == 1 and row[2] > 0 for row in rows)  # one attempt, its worker named
    assert rows[1][3] == ["builtins.ValueError"]


def test_cases_on_mariadb() -> None:
    with mysql_project() as project:
        project.manage("migrate", "--no-input")
        outcomes = project.run_cases(*SUBSET)
    failed = {name: o["detail"] for name, o in outcomes.items() if o["outcome"] != "passed"}
    assert sorted(outcomes) == sorted(SUBSET) and not failed, failed


def test_cases_on_the_redis_adapter() -> None:
    import redis

    from tests.backends.redis_support import unique_prefix
    from tests.services import service_url

    server = service_url("redis")
    prefix = unique_prefix()
    adapter = f"{server}?prefix={prefix}"
    try:
        with sqlite_project(AJ_TASKS_ADAPTER=adapter) as project:
            project.manage("migrate", "--no-input")
            outcomes = project.run_cases(*SUBSET)
    finally:
        client = redis.Redis.from_url(server)
        keys = list(client.scan_iter(match=f"{prefix}:*"))
        if keys:
            client.delete(*keys)
        client.close()
    failed = {name: o["detail"] for name, o in outcomes.items() if o["outcome"] != "passed"}
    assert sorted(outcomes) == sorted(SUBSET) and not failed, failed
