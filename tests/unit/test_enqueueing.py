"""Enqueueing: perform_later, set(), enqueue(), bulk, errors."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime, timedelta, timezone

import pytest

import activejob
from activejob import Abort, EnqueueError, Job, SerializationError, before_enqueue, job
from activejob.adapters.test import TestAdapter
from activejob.job.options import ConfiguredJob
from tests.support import RecordingAdapter


class ReportJob(Job):
    queue_as = "reports"
    priority = 5

    def perform(self, report_id: int, *, fmt: str = "pdf") -> None:
        pass


class VetoJob(Job):
    @before_enqueue
    def refuse(self) -> None:
        if self.arguments[0] < 0:
            raise Abort

    def perform(self, n: int) -> None:
        pass


@job(queue_as="fn")
def fn_job(x: int) -> int:
    return x


@pytest.fixture
def adapter() -> RecordingAdapter:
    recording = RecordingAdapter()
    activejob.configure(adapter=recording)
    return recording


def test_perform_later_hands_payload_to_adapter(adapter: RecordingAdapter) -> None:
    enqueued = ReportJob.perform_later(7, fmt="csv")
    assert enqueued.successfully_enqueued is True
    assert enqueued.provider_job_id == "rec-1"
    assert enqueued.enqueued_at is not None and enqueued.enqueued_at.tzinfo is not None
    assert enqueued.scheduled_at is None
    [(method, payload)] = adapter.calls
    assert method == "enqueue"
    assert payload["job_id"] == enqueued.job_id
    assert payload["arguments"] == [7] and payload["kwargs"] == {"fmt": "csv"}
    assert payload["queue_name"] == "reports" and payload["priority"] == 5


def test_set_wait_schedules(adapter: RecordingAdapter) -> None:
    before = datetime.now(timezone.utc)
    enqueued = ReportJob.set(wait=timedelta(minutes=5)).perform_later(1)
    [(method, (payload, timestamp))] = adapter.calls
    assert method == "enqueue_at"
    assert before + timedelta(minutes=5) <= enqueued.scheduled_at  # type: ignore[operator]
    assert abs(timestamp - enqueued.scheduled_at.timestamp()) < 1e-6  # type: ignore[union-attr]
    assert payload["scheduled_at"] == enqueued.scheduled_at.isoformat()  # type: ignore[union-attr]


def test_set_wait_seconds_and_wait_until(adapter: RecordingAdapter) -> None:
    noon = datetime(2030, 1, 1, 12, tzinfo=timezone(timedelta(hours=2)))
    until = ReportJob.set(wait_until=noon, queue="low", priority=50).perform_later(1)
    assert until.scheduled_at == noon and until.scheduled_at.tzinfo == timezone.utc  # type: ignore[union-attr]
    assert until.queue_name == "low" and until.priority == 50
    seconds = ReportJob.set(wait=30).perform_later(2)
    delta = seconds.scheduled_at - seconds.enqueued_at  # type: ignore[operator]
    assert timedelta(seconds=29) < delta <= timedelta(seconds=30)


def test_configured_job_is_immutable_and_chains() -> None:
    configured = ReportJob.set(queue="low")
    assert isinstance(configured, ConfiguredJob)
    with pytest.raises(dataclasses.FrozenInstanceError):
        configured.options = configured.options  # type: ignore[misc]
    more = configured.set(priority=1)
    assert more is not configured
    assert (more.options.queue, more.options.priority) == ("low", 1)
    assert configured.options.priority is None
    assert configured.set(wait=5).set(wait_until=datetime(2030, 1, 1)).options.wait is None


def test_set_rejects_contradictions() -> None:
    with pytest.raises(ValueError, match="wait or wait_until"):
        ReportJob.set(wait=1, wait_until=datetime(2030, 1, 1))
    with pytest.raises(TypeError, match="priority"):
        ReportJob.set(priority="high")  # type: ignore[arg-type]


def test_instance_enqueue_and_set(adapter: RecordingAdapter) -> None:
    built = ReportJob(3)
    assert built.set(queue="q2") is built
    built.enqueue(priority=9)
    assert built.successfully_enqueued
    assert adapter.payloads[0]["queue_name"] == "q2"
    assert adapter.payloads[0]["priority"] == 9


def test_job_function_perform_later_and_set(adapter: RecordingAdapter) -> None:
    fn_job.perform_later(4)
    fn_job.set(queue="other").perform_later(5)
    assert [p["queue_name"] for p in adapter.payloads] == ["fn", "other"]
    assert adapter.payloads[0]["job_class"] == "tests.unit.test_enqueueing.fn_job"


def test_abort_in_before_enqueue_leaves_job_unenqueued(adapter: RecordingAdapter) -> None:
    vetoed = VetoJob.perform_later(-1)
    assert vetoed.successfully_enqueued is False
    assert adapter.calls == []
    assert VetoJob.perform_later(1).successfully_enqueued is True


def test_backend_failure_raises_enqueue_error_with_cause() -> None:
    refusing = RecordingAdapter(error=ConnectionRefusedError("db down"))
    activejob.configure(adapter=refusing)
    with pytest.raises(EnqueueError, match="db down") as info:
        ReportJob.perform_later(1)
    assert isinstance(info.value.__cause__, ConnectionRefusedError)


def test_unserialisable_argument_enqueues_nothing(adapter: RecordingAdapter) -> None:
    with pytest.raises(SerializationError, match="'fmt'"):
        ReportJob.perform_later(1, fmt=object())  # type: ignore[arg-type]
    assert adapter.calls == []


def test_perform_all_later_one_call_per_adapter(adapter: RecordingAdapter) -> None:
    other = RecordingAdapter()

    class OtherJob(Job):
        queue_adapter = other

        def perform(self, n: int) -> None: ...

    jobs = [ReportJob(i) for i in range(3)] + [OtherJob(9), ReportJob(3).set(wait=60)]
    assert activejob.perform_all_later(jobs) == 5
    assert [name for name, _ in adapter.calls] == ["enqueue_all"]
    assert [p["arguments"] for p in adapter.payloads] == [[0], [1], [2], [3]]
    assert adapter.payloads[3]["scheduled_at"] is not None
    assert [name for name, _ in other.calls] == ["enqueue_all"]
    assert all(j.successfully_enqueued and j.enqueued_at for j in jobs)


def test_perform_all_later_serialises_each_job_once_and_only_for_that_call(
    adapter: RecordingAdapter, monkeypatch: pytest.MonkeyPatch
) -> None:
    from activejob import arguments

    calls: list[object] = []
    real = arguments.serialize_arguments

    def counting(args: tuple[object, ...], kwargs: dict[str, object]) -> object:
        calls.append(args)
        return real(args, kwargs)

    monkeypatch.setattr(arguments, "serialize_arguments", counting)
    options = {"pages": 1}
    jobs = [ReportJob(i, fmt="csv") for i in range(3)] + [VetoJob(options)]  # type: ignore[arg-type]
    assert activejob.perform_all_later(jobs) == 4
    assert len(calls) == 4  # checked and put in the payload with one serialisation each
    assert adapter.payloads[3]["arguments"] == [{"pages": 1}]
    # The form is kept only for that call: a later payload sees the arguments as they are.
    options["pages"] = 2
    assert jobs[3].serialize()["arguments"] == [{"pages": 2}]


def test_perform_all_later_falls_back_to_a_loop() -> None:
    adapter = TestAdapter()
    activejob.configure(adapter=adapter)
    jobs = [ReportJob(i) for i in range(2)] + [ReportJob(5).set(wait=10)]
    assert activejob.perform_all_later(jobs) == 3
    assert [r.at is not None for r in adapter.enqueued_jobs] == [False, False, True]


def test_perform_all_later_wraps_backend_errors() -> None:
    activejob.configure(adapter=RecordingAdapter(error=OSError("gone")))
    with pytest.raises(EnqueueError) as info:
        activejob.perform_all_later([ReportJob(1)])
    assert isinstance(info.value.__cause__, OSError)


def test_perform_all_later_enqueues_nothing_when_an_argument_cannot_be_serialised() -> None:
    adapter = TestAdapter()
    activejob.configure(adapter=adapter)
    with pytest.raises(SerializationError):
        activejob.perform_all_later([ReportJob(1), ReportJob(object())])
    assert adapter.enqueued_jobs == []


def test_perform_all_later_serialises_every_group_before_any_adapter(
    adapter: RecordingAdapter,
) -> None:
    other = RecordingAdapter()

    class OtherJob(Job):
        queue_adapter = other

        def perform(self, value: object) -> None: ...

    with pytest.raises(SerializationError):
        activejob.perform_all_later([ReportJob(1), OtherJob(object())])
    assert adapter.calls == [] and other.calls == []


def test_perform_all_later_inline_raises_the_jobs_own_exception() -> None:
    class Broken(Job):
        def perform(self) -> None:
            raise LookupError("inside")

    activejob.configure(adapter="inline:")
    with pytest.raises(LookupError, match="inside"):
        Broken.perform_later()
    with pytest.raises(LookupError, match="inside"):
        activejob.perform_all_later([Broken()])


def test_aperform_later(adapter: RecordingAdapter) -> None:
    async def main() -> tuple[Job, Job, Job]:
        return (
            await ReportJob.aperform_later(11),
            await ReportJob.set(queue="a").aperform_later(12),
            await fn_job.aperform_later(13),
        )

    enqueued, configured, fn = asyncio.run(main())
    assert enqueued.successfully_enqueued
    assert [p["arguments"] for p in adapter.payloads] == [[11], [12], [13]]
    assert configured.queue_name == "a" and fn.successfully_enqueued
