"""The wire format: serialize() and its mirror, and refusing bad payloads."""

from __future__ import annotations

import json
import os
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest

import activejob
from activejob import DeserializationError, Job, UnknownJobClassError
from activejob.job.core import (
    PAYLOAD_DEFAULTS,
    compact_payload,
    compact_payload_of,
    new_job_id,
)
from tests.support import RecordingAdapter

PAYLOAD_KEYS = {
    "version",
    "job_class",
    "job_id",
    "provider_job_id",
    "queue_name",
    "priority",
    "arguments",
    "kwargs",
    "executions",
    "exception_executions",
    "locale",
    "timezone",
    "enqueued_at",
    "scheduled_at",
    "metadata",
}


class InvoiceJob(Job):
    queue_as = "billing"
    priority = 2

    def perform(self, invoice: int, *, lines: tuple[int, ...] = ()) -> tuple[int, tuple[int, ...]]:
        return invoice, lines


def enqueued_payload(*args: Any, **kwargs: Any) -> dict[str, Any]:
    adapter = RecordingAdapter()
    activejob.configure(adapter=adapter)
    InvoiceJob.set(wait=timedelta(hours=1)).perform_later(*args, **kwargs)
    return adapter.payloads[0]


def test_payload_has_every_key_and_is_json() -> None:
    payload = enqueued_payload(1, lines=(2, 3))
    assert set(payload) == PAYLOAD_KEYS
    assert payload["version"] == 1
    assert payload["job_class"] == "tests.unit.test_payload.InvoiceJob"
    assert json.loads(json.dumps(payload)) == payload


def test_round_trip_keeps_every_attribute() -> None:
    original = InvoiceJob(1, lines=(2, 3))
    original.set(wait=60)
    original.executions = 2
    original.exception_executions = {"[builtins.OSError]": 2}
    original.locale, original.timezone = "fr", "Europe/Paris"
    original.provider_job_id = "p-1"
    original.metadata = {"traceparent": "00-abc"}
    payload = json.loads(json.dumps(original.serialize()))
    back = Job.deserialize(payload)
    assert type(back) is InvoiceJob
    for name in (
        "job_id",
        "provider_job_id",
        "queue_name",
        "priority",
        "executions",
        "exception_executions",
        "locale",
        "timezone",
        "scheduled_at",
        "metadata",
    ):
        assert getattr(back, name) == getattr(original, name), name
    assert back.arguments == (1,)
    assert back.kwargs == {"lines": (2, 3)}
    assert type(back.kwargs["lines"]) is tuple
    assert back.serialize() == payload


ATTRIBUTES = (
    "job_id", "provider_job_id", "queue_name", "priority", "executions",
    "exception_executions", "locale", "timezone", "enqueued_at", "scheduled_at", "metadata",
)  # fmt: skip


def test_compact_payload_leaves_out_defaults_and_reads_back_as_the_full_one() -> None:
    """The bridges send the compact form; both forms give the same job."""
    full = enqueued_payload(4)
    compact = json.loads(json.dumps(compact_payload(full)))
    assert set(compact) == {
        "version", "job_class", "job_id", "queue_name", "priority", "arguments",
        "enqueued_at", "scheduled_at",
    }  # fmt: skip
    assert len(json.dumps(compact)) < len(json.dumps(full)) * 0.7
    one, other = Job.deserialize(full), Job.deserialize(compact)
    for name in ATTRIBUTES:
        assert getattr(other, name) == getattr(one, name), name
    assert other.arguments == (4,) and other.kwargs == {}
    assert other.serialize() == full  # serialize() still writes every key
    assert activejob.execute(compact) == (4, ())


def test_compact_payload_keeps_every_value_that_is_not_the_default() -> None:
    job = InvoiceJob(1, lines=(2,))
    job.priority = 0  # not None: kept
    job.executions = 3
    job.exception_executions = {"[builtins.OSError]": 3}
    job.locale, job.timezone, job.provider_job_id = "fr", "Europe/Paris", "p-1"
    job.metadata = {"traceparent": "00-abc"}
    full = job.serialize()
    unset = {"scheduled_at", "enqueued_at"}  # not enqueued: both None
    assert compact_payload(full) == {k: v for k, v in full.items() if k not in unset}
    back = Job.deserialize(json.loads(json.dumps(compact_payload(full))))
    for name in ATTRIBUTES:
        assert getattr(back, name) == getattr(job, name), name
    assert back.kwargs == {"lines": (2,)}
    assert set(PAYLOAD_DEFAULTS) < PAYLOAD_KEYS


def _each_key_off_its_default() -> list[InvoiceJob]:
    """A job per PAYLOAD_DEFAULTS key, that key (only) set to something else; and a
    fresh one, every key at its default."""
    jobs = [InvoiceJob(1)]
    for key in PAYLOAD_DEFAULTS:
        job = InvoiceJob(1)
        job.priority = None
        if key == "kwargs":
            job = InvoiceJob(1, lines=(2,))
            job.priority = None
        elif key in ("enqueued_at", "scheduled_at"):
            job.set(wait=60)
            if key == "enqueued_at":
                job.enqueued_at, job.scheduled_at = job.scheduled_at, None
        else:
            value = {
                "provider_job_id": "p-1",
                "priority": 0,
                "executions": 3,
                "exception_executions": {"[builtins.OSError]": 3},
                "locale": "fr",
                "timezone": "Europe/Paris",
                "metadata": {"traceparent": "00-abc"},
            }[key]
            setattr(job, key, value)
        jobs.append(job)
    timed = InvoiceJob(1)
    timed.timeout = timedelta(seconds=90)
    return [*jobs, timed]


@pytest.mark.parametrize("job", _each_key_off_its_default())
def test_compact_payload_of_a_job_is_the_compact_form_of_its_payload(job: InvoiceJob) -> None:
    """The bridges build the compact form in one pass: the same dict, key by key."""
    assert compact_payload_of(job) == compact_payload(job.serialize())


def test_compact_payload_of_keeps_a_serialize_override() -> None:
    class TracedJob(InvoiceJob):
        def serialize(self) -> dict[str, Any]:
            return {**super().serialize(), "metadata": {"traced": True}}

    assert compact_payload_of(TracedJob(1))["metadata"] == {"traced": True}


@pytest.mark.parametrize("key", ["version", "job_class", "job_id", "queue_name", "arguments"])
def test_a_compact_payload_still_needs_the_keys_without_a_default(key: str) -> None:
    payload = compact_payload(enqueued_payload(1))
    del payload[key]
    with pytest.raises(DeserializationError):
        Job.deserialize(payload)


def test_execute_runs_a_payload() -> None:
    payload = enqueued_payload(5, lines=(1,))
    assert activejob.execute(payload) == (5, (1,))


def test_unknown_job_class_imports_nothing() -> None:
    payload = enqueued_payload(1)
    payload["job_class"] = "json.tool.main"
    sys.modules.pop("json.tool", None)
    with pytest.raises(UnknownJobClassError, match=r"json\.tool\.main"):
        Job.deserialize(payload)
    assert "json.tool" not in sys.modules
    assert isinstance(UnknownJobClassError("x"), DeserializationError)


def test_payload_may_only_name_a_job_subclass() -> None:
    payload = enqueued_payload(1)
    for name in ("builtins.dict", "activejob.job.base.Job", "os.system", 42, None):
        payload["job_class"] = name
        with pytest.raises(DeserializationError):
            Job.deserialize(payload)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"version": 99}, "version"),
        ({"job_id": None}, "job_id"),
        ({"executions": "1"}, "executions"),
        ({"executions": True}, "executions"),
        ({"arguments": {"a": 1}}, "arguments"),
        ({"exception_executions": {"x": "1"}}, "exception_executions"),
        ({"scheduled_at": "yesterday"}, "malformed"),
        ({"priority": 1.5}, "priority"),
    ],
)
def test_malformed_payloads_raise_deserialization_error(
    change: dict[str, Any], message: str
) -> None:
    payload = enqueued_payload(1)
    payload.update(change)
    with pytest.raises(DeserializationError, match=message):
        Job.deserialize(payload)


def test_missing_key_and_non_object_payload() -> None:
    payload = enqueued_payload(1)
    del payload["queue_name"]
    with pytest.raises(DeserializationError, match="queue_name"):
        Job.deserialize(payload)
    with pytest.raises(DeserializationError, match="JSON object"):
        Job.deserialize([1, 2])  # type: ignore[arg-type]


def test_bad_arguments_surface_when_performed_not_when_loaded() -> None:
    payload = enqueued_payload(1)
    payload["arguments"] = [{"_aj": "no-such-type", "v": 1}]
    loaded = Job.deserialize(payload)
    with pytest.raises(DeserializationError):
        loaded.run_now()


def test_job_ids_are_random_uuid4_text() -> None:
    ids = [InvoiceJob(1).job_id for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for job_id in ids:
        parsed = uuid.UUID(job_id)
        assert str(parsed) == job_id  # the usual lower-case, hyphenated text
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
    # Every free digit varies, the variant digit over its four values.
    assert {job_id[19] for job_id in ids} == set("89ab")
    assert {job_id[14] for job_id in ids} == {"4"}
    assert all(len({job_id[i] for job_id in ids}) == 16 for i in (0, 9, 15, 20, 35))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX only")
def test_a_forked_child_makes_none_of_its_parents_next_ids() -> None:
    """Ids are made in batches: a child must not hand out what its parent will."""
    new_job_id()  # the parent now holds made ids it has not handed out
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its ids to the parent, then out without cleanup
        try:
            os.write(write, json.dumps([new_job_id() for _ in range(100)]).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        child_ids = set(json.loads(pipe.read()))
    os.waitpid(pid, 0)
    parent_ids = {new_job_id() for _ in range(100)}
    assert len(child_ids) == 100
    assert not child_ids & parent_ids


def test_ids_made_on_many_threads_at_once_are_all_different() -> None:
    with ThreadPoolExecutor(8) as pool:
        batches = list(pool.map(lambda _: [new_job_id() for _ in range(500)], range(8)))
    ids = [job_id for batch in batches for job_id in batch]
    assert len(set(ids)) == len(ids) == 4000
