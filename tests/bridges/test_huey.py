"""The Huey bridge against Huey's real consumer (``huey_consumer``) on Redis db 12.

One consumer for the module; every test uses its own tag in the shared ledger, so a
count of ledger lines is a count of executions.
"""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("huey")

from huey import PriorityRedisHuey, RedisHuey
from huey.exceptions import TaskException
from huey.utils import Error
from redis import Redis

import activejob
from activejob.adapters.huey import HueyAdapter, JSONSerializer, bridge_task
from activejob.config import get_config
from activejob.errors import EnqueueError
from activejob.job.core import compact_payload
from tests.bridges.rq_huey_jobs import FlakyJob, GoneJob, LedgerJob, lines
from tests.bridges.subprocess_worker import BIN, WorkerProcess, redis_db_url
from tests.support import wait_for

DB = 12


@dataclass
class HueySetup:
    url: str
    redis: Redis
    huey: Any
    ledger: Path
    records: str
    worker: WorkerProcess

    def rows(self, tag: str) -> list[list[str]]:
        return lines(self.ledger, tag)

    def has_result(self, task_id: str) -> bool:
        return bool(self.huey.storage.has_data_for_key(task_id))

    def errors(self) -> list[dict[str, Any]]:
        """The error results Huey stored for failed tasks."""
        found = []
        for raw in self.huey.storage.result_items().values():
            value = self.huey.serializer.deserialize(raw)
            if isinstance(value, Error):
                found.append(value.metadata)
        return found


@pytest.fixture(scope="module")
def huey_setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HueySetup]:
    url = redis_db_url(DB)
    redis = Redis.from_url(url)
    redis.flushdb()
    tmp = tmp_path_factory.mktemp("huey")
    ledger = tmp / "ledger.txt"
    records = f"sqlite:///{tmp / 'records.sqlite3'}"
    env = {
        "AJ_HUEY_URL": url,
        "ACTIVEJOB_IMPORTS": "tests.globalid.e2e_app",
        "AJ_BRIDGE_LEDGER": str(ledger),
        "AJ_GID_RECORDS_URL": records,
        "AJ_GID_OUT": str(ledger),
    }
    os.environ["AJ_HUEY_URL"] = url  # read when huey_app is first imported, here too
    # huey_app configures activejob, as the consumer's module must; this module-scoped
    # fixture runs before the per-test config snapshot, so undo it here.
    before = get_config().adapter
    from tests.bridges import huey_app

    activejob.configure(adapter=before)

    command = [str(BIN / "huey_consumer"), "tests.bridges.huey_app.huey", "-w", "2"]
    worker = WorkerProcess(command, env, tmp / "consumer.log")
    try:
        yield HueySetup(url, redis, huey_app.huey, ledger, records, worker)
    finally:
        worker.stop()
        redis.flushdb()
        redis.close()


@pytest.fixture
def hq(huey_setup: HueySetup) -> HueySetup:
    activejob.configure(adapter=HueyAdapter(huey_setup.huey))
    return huey_setup


def tag() -> str:
    return f"t{uuid.uuid4().hex[:12]}"


def test_a_job_runs_once_in_the_huey_consumer(hq: HueySetup) -> None:
    name = tag()
    job = LedgerJob.perform_later(name)
    assert job.successfully_enqueued and job.provider_job_id
    assert str(uuid.UUID(job.provider_job_id, version=4)) == job.provider_job_id  # Huey's kind
    wait_for(lambda: hq.rows(name), 20)
    last = LedgerJob.perform_later(tag())
    wait_for(lambda: hq.rows(last.arguments[0]), 20)
    assert [row[1] for row in hq.rows(name)] == ["ran"]


def test_one_task_is_registered_with_retries_off(hq: HueySetup) -> None:
    task = bridge_task(hq.huey)
    assert bridge_task(hq.huey) is task
    assert HueyAdapter(hq.huey).task is task
    assert task.retries == 0
    assert hq.huey._registry.string_to_task("activejob.adapters.huey.perform") is task.task_class


def test_the_message_is_json_not_pickle(hq: HueySetup) -> None:
    job = LedgerJob.set(wait=3600).perform_later(tag())
    # Scheduled: Huey keeps it in its schedule (the consumer moved it there) or queue.
    wait_for(lambda: hq.huey.scheduled_count() or hq.huey.pending_count(), 20)
    raw = [*hq.redis.zrange("huey.schedule.aj_bridge_test", 0, -1)]
    ours = [json.loads(r) for r in raw if job.job_id.encode() in r]
    assert ours, raw
    message = ours[0]["__huey_json__"]
    assert message[0] == "message"
    assert message[1][1] == "activejob.adapters.huey.perform"
    # The compact form: keys at their defaults (executions 0, no priority) left out.
    sent = compact_payload({**job.serialize(), "provider_job_id": None})
    assert message[1][6] == {"__huey_json__": ["tuple", [sent]]}
    assert "executions" not in sent and "scheduled_at" in sent


def test_a_scheduled_job_runs_after_its_time(hq: HueySetup) -> None:
    name = tag()
    asked = time.time() + 1.5
    LedgerJob.set(wait_until=datetime.fromtimestamp(asked, timezone.utc)).perform_later(name)
    wait_for(lambda: hq.rows(name), 20)
    (row,) = hq.rows(name)
    assert float(row[2]) >= asked


def test_retry_on_goes_back_through_huey_and_counts_exactly(hq: HueySetup) -> None:
    name = tag()
    FlakyJob.perform_later(name, 2)
    wait_for(lambda: len(hq.rows(name)) >= 3, 20)
    last = LedgerJob.perform_later(tag())
    wait_for(lambda: hq.rows(last.arguments[0]), 20)
    assert [row[1] for row in hq.rows(name)] == ["try1", "try2", "try3"]
    assert not [e for e in hq.errors() if name in e["error"]]


def test_retries_exhausted_fail_once_in_huey(hq: HueySetup) -> None:
    name = tag()
    FlakyJob.perform_later(name, 10)
    wait_for(lambda: [e for e in hq.errors() if name in e["error"]], 20)
    (error,) = [e for e in hq.errors() if name in e["error"]]
    assert "Flaky" in error["error"] and error["retries"] == 0
    assert [row[1] for row in hq.rows(name)] == ["try1", "try2", "try3"]


def test_discard_on_ends_the_task_as_a_success(hq: HueySetup) -> None:
    name = tag()
    GoneJob.perform_later(name)
    wait_for(lambda: hq.rows(name), 20)
    last = LedgerJob.perform_later(tag())
    wait_for(lambda: hq.rows(last.arguments[0]), 20)
    assert [row[1] for row in hq.rows(name)] == ["gone"]
    assert not [e for e in hq.errors() if name in e["error"]]


def test_a_globalid_argument_is_loaded_in_the_consumer(hq: HueySetup) -> None:
    pytest.importorskip("sqlalchemy")
    from sqlalchemy import delete
    from sqlalchemy.orm import Session

    from tests.globalid import e2e_app

    engine = e2e_app.connect(hq.records)
    try:
        here, gone = tag(), tag()
        with Session(engine, expire_on_commit=False) as session:
            members = [e2e_app.Member(name=here), e2e_app.Member(name=gone)]
            session.add_all(members)
            session.commit()
        e2e_app.WelcomeJob.perform_later(members[0])
        with engine.begin() as connection:
            connection.execute(delete(e2e_app.Member).where(e2e_app.Member.id == members[1].id))
        e2e_app.WelcomeJob.perform_later(members[1])
        marker = LedgerJob.perform_later(tag())
        words = lambda: [line.split()[:2] for line in hq.ledger.read_text().splitlines()]  # noqa: E731
        wait_for(lambda: ["welcome", here] in words() and hq.rows(marker.arguments[0]), 20)
        assert ["welcome", gone] not in words()  # discarded: RecordNotFound
        assert not [e for e in hq.errors() if "RecordNotFound" in e["error"]]
    finally:
        engine.dispose()


def test_a_message_with_the_full_payload_runs_too(hq: HueySetup) -> None:
    # What an earlier version sent (every key of the payload): still read.
    payload = LedgerJob(tag()).serialize()
    hq.huey.enqueue(bridge_task(hq.huey).s(payload))
    wait_for(lambda: hq.rows(payload["arguments"][0]), 20)
    assert [row[1] for row in hq.rows(payload["arguments"][0])] == ["ran"]


def test_an_unknown_class_fails_in_huey_and_the_consumer_goes_on(hq: HueySetup) -> None:
    payload = LedgerJob(tag()).serialize()
    payload["job_class"] = "tests.bridges.nowhere.MissingJob"
    task = bridge_task(hq.huey).s(payload)
    hq.huey.enqueue(task)
    wait_for(lambda: hq.has_result(task.id), 20)
    with pytest.raises(
        TaskException, match=re.escape("unknown job class 'tests.bridges.nowhere.MissingJob'")
    ) as failure:
        hq.huey.result(task.id)
    assert "name it in ACTIVEJOB_IMPORTS" in failure.value.metadata["error"]
    name = tag()
    LedgerJob.perform_later(name)
    wait_for(lambda: hq.rows(name), 20)
    assert hq.worker.alive()


def test_perform_all_later_enqueues_each(hq: HueySetup) -> None:
    names = [tag() for _ in range(3)]
    jobs = [LedgerJob(n) for n in names]
    jobs[2].set(wait=0.5)
    assert activejob.perform_all_later(jobs) == 3
    assert all(j.provider_job_id for j in jobs)
    wait_for(lambda: all(hq.rows(n) for n in names), 20)
    assert [len(hq.rows(n)) for n in names] == [1, 1, 1]


def test_priorities_map_to_huey_larger_first(huey_setup: HueySetup) -> None:
    # A Huey no consumer reads, so the queue's order can be looked at.
    idle = PriorityRedisHuey("aj_bridge_idle", url=huey_setup.url, serializer=JSONSerializer())
    try:
        activejob.configure(adapter=HueyAdapter(idle))
        low = LedgerJob.set(priority=10).perform_later("low")
        high = LedgerJob.set(priority=-5).perform_later("high")
        plain = LedgerJob.perform_later("plain")
        pending = idle.pending()
        assert [t.id for t in pending] == [
            high.provider_job_id,
            plain.provider_job_id,
            low.provider_job_id,
        ]
        assert [t.priority for t in pending] == [5, None, -10]
    finally:
        idle.flush()


def test_a_queue_is_refused_and_so_is_a_priority_without_priority_storage(
    huey_setup: HueySetup,
) -> None:
    plain = RedisHuey("aj_bridge_plain", url=huey_setup.url, serializer=JSONSerializer())
    activejob.configure(adapter=HueyAdapter(plain))
    with pytest.raises(EnqueueError, match="has one queue"):
        LedgerJob.set(queue="other").perform_later("never")
    with pytest.raises(EnqueueError, match="cannot honour priorities"):
        LedgerJob.set(priority=1).perform_later("never")
    assert plain.pending_count() == 0


def test_the_url_names_the_huey_instance(huey_setup: HueySetup) -> None:
    adapter = HueyAdapter.from_url("huey:?huey=tests.bridges.huey_app:huey")
    assert adapter.huey is huey_setup.huey
    assert str(adapter) == "huey adapter ('aj_bridge_test', PriorityRedisStorage)"
    with pytest.raises(activejob.ConfigurationError, match=re.escape("huey:?huey=proj.tasks:huey")):
        HueyAdapter.from_url("huey:")
    with pytest.raises(activejob.ConfigurationError, match=re.escape("not a huey.Huey")):
        HueyAdapter.from_url("huey:?huey=tests.bridges.huey_app:os")


def test_the_json_serializer_round_trips_what_huey_stores() -> None:
    from huey.registry import Message

    serializer = JSONSerializer(compression=True)
    at = datetime(2026, 1, 2, 3, 4, 5)
    inner = Message("id-2", "proj.tasks.after", None, 0, 0, None, (1,), {}, None)
    message = Message(
        "id-1", "proj.tasks.work", at, 0, 0, 5, ({"when": at, "n": [1, 2.5, None, True]},),
        {"k": "v"}, inner, None, 60, at, None, ("chord", 2, 0, inner), None,
    )  # fmt: skip
    for value in (message, Error({"error": "x", "retries": 0}), (at, True)):
        assert serializer.deserialize(serializer.serialize(value)) == value
    # As with any JSON: a tuple inside an argument comes back as a list.
    assert serializer.deserialize(serializer.serialize(({"t": (1, 2)},))) == ({"t": [1, 2]},)
    with pytest.raises(TypeError, match="cannot store set"):
        serializer.serialize({1, 2})
    with pytest.raises(TypeError, match="reserved name"):
        serializer.serialize({"__huey_json__": ["tuple", []]})
