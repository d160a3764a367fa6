"""``@unique`` at the job level: the declaration, the key, skip / raise / replace as
``perform_later`` reports them, bulk enqueue, the ``duplicate`` event, the ``test:``
and ``async:`` adapters, ``inline:``, and ``activejob jobs show``."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import activejob
from activejob import (
    DuplicateJobError,
    EnqueueError,
    Job,
    events,
    job,
    rate_limit,
    retry_on,
    unique,
)
from activejob.adapters.asyncpool import AsyncAdapter
from activejob.adapters.cache import reset_adapters
from activejob.adapters.durable import storage_of
from activejob.adapters.test import TestAdapter
from activejob.flow.unique import key_of, spec_of
from tests.acceptance.test_cli_jobs import activejob_cli

ROOT = Path(__file__).resolve().parents[2]


@unique()
class Refresh(Job):
    def perform(self, feed_id: int, *, full: bool = False) -> None:
        pass


@unique(key=lambda account_id, **_: account_id, until="started", on_conflict="replace")
class Sync(Job):
    def perform(self, account_id: int, reason: str) -> None:
        pass


@unique(key="nightly", on_conflict="raise")
class Nightly(Job):
    def perform(self) -> None:
        pass


@unique(key="daily", within=timedelta(days=1))
class Daily(Job):
    def perform(self) -> None:
        pass


@unique(until="finished")
@job
def send_digest(user_id: int) -> None:
    pass


class Boom(Exception):
    pass


RAN: list[str] = []


@retry_on(Boom, wait=0, attempts=2, jitter=0)
@unique(key="flaky", until="finished")
class Flaky(Job):
    def perform(self) -> None:
        RAN.append(self.job_id)
        if len(RAN) == 1:
            raise Boom


@pytest.fixture
def sqlite(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}?auto_migrate=1"
    activejob.configure(adapter=url)
    try:
        yield url
    finally:
        reset_adapters(wait=True)


@pytest.fixture
def duplicates() -> Iterator[list[events.Event]]:
    seen: list[events.Event] = []
    events.subscribe("duplicate", seen.append)
    try:
        yield seen
    finally:
        events.unsubscribe("duplicate", seen.append)


def test_the_declaration_is_checked() -> None:
    with pytest.raises(ValueError, match="until"):
        unique(until="done")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="on_conflict"):
        unique(on_conflict="ignore")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="positive"):
        unique(within=timedelta(0))
    with pytest.raises(TypeError, match="key"):
        unique(key=42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Job subclass"):
        unique()(object())


def test_the_default_key_is_the_class_and_a_stable_hash_of_the_arguments() -> None:
    spec = spec_of(Refresh(7))
    assert spec is not None
    key = key_of(Refresh(7, full=True), spec)
    assert key.startswith("tests.flow.test_unique.Refresh:")
    assert key == key_of(Refresh(7, full=True), spec)
    assert key != key_of(Refresh(7), spec) != key_of(Refresh(8), spec)
    # The same in another interpreter (no per-process hash seed).
    code = (
        "from tests.flow.test_unique import Refresh; from activejob.flow.unique import *;"
        "print(key_of(Refresh(7, full=True), spec_of(Refresh(7))))"
    )
    other = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert other.stdout.strip() == key


def test_keys_are_the_ones_stored_before() -> None:
    # Computed by activejob before the key's encoder and perform's signature were
    # cached: a store written then must keep matching the keys computed now.
    spec, sync = spec_of(Refresh(7)), spec_of(Sync(1, "a"))
    assert spec is not None and sync is not None
    pinned = "tests.flow.test_unique.Refresh:ab0c0e5e0c26856ec2cce3e8333b4932"
    assert key_of(Refresh(7, full=True), spec) == pinned
    nested = Refresh({"b": [1, {"z": "\u00e9", "a": None}], "a": 2.5})
    assert key_of(nested, spec) == "tests.flow.test_unique.Refresh:7757774e0b43152fa29d49ceebf2014c"
    assert key_of(Sync(42, reason="edit"), sync) == "tests.flow.test_unique.Sync:42"
    assert key_of(Sync(42, "edit"), sync) == "tests.flow.test_unique.Sync:42"  # again: cached


def test_a_callable_or_string_key_is_scoped_by_the_class() -> None:
    spec = spec_of(Sync(1, "a"))
    assert spec is not None
    assert key_of(Sync(42, "edit"), spec) == "tests.flow.test_unique.Sync:42"
    nightly = spec_of(Nightly())
    assert (
        nightly is not None
        and key_of(Nightly(), nightly) == "tests.flow.test_unique.Nightly:nightly"
    )


def test_skip_returns_the_new_job_unenqueued_naming_the_holder(
    sqlite: str, duplicates: list[events.Event]
) -> None:
    first = Refresh.perform_later(7)
    second = Refresh.perform_later(7)
    other = Refresh.perform_later(8)
    assert first.successfully_enqueued and first.duplicate_of is None
    assert not second.successfully_enqueued and second.duplicate_of == first.job_id
    assert second.provider_job_id is None
    assert other.successfully_enqueued
    [event] = duplicates
    assert event.job is second and event.extra["duplicate_of"] == first.job_id
    assert event.extra["on_conflict"] == "skip" and event.extra["replaced"] is False
    assert event.extra["key"] == key_of(second, spec_of(second))  # type: ignore[arg-type]
    assert storage_of(sqlite).get(second.job_id) is None


def test_raise_raises_duplicate_job_error(sqlite: str) -> None:
    first = Nightly.perform_later()
    with pytest.raises(DuplicateJobError) as caught:
        Nightly.perform_later()
    assert isinstance(caught.value, EnqueueError)
    assert caught.value.duplicate_of == first.job_id
    assert caught.value.key == "tests.flow.test_unique.Nightly:nightly"


def test_replace_with_wait_is_a_debounce(sqlite: str) -> None:
    first = Sync.set(wait=60).perform_later(42, "edit")
    second = Sync.set(wait=60).perform_later(42, "rename")
    assert second.successfully_enqueued and second.duplicate_of == first.job_id
    info = storage_of(sqlite).get(first.job_id)
    assert info is not None and info.payload["arguments"] == [42, "rename"]
    assert info.run_at >= second.scheduled_at - timedelta(seconds=1)  # type: ignore[operator]
    assert storage_of(sqlite).get(second.job_id) is None


def test_within_holds_whatever_the_state(sqlite: str) -> None:
    first = Daily.perform_later()
    storage = storage_of(sqlite)
    [claimed] = storage.claim("w", ["*"], 1)
    from activejob.storage.base import JobState, Result

    storage.complete([Result(claimed.id, JobState.SUCCEEDED, attempts=1)])
    again = Daily.perform_later()
    assert again.duplicate_of == first.job_id and not again.successfully_enqueued


def test_a_job_function_can_be_unique(sqlite: str) -> None:
    first = send_digest.perform_later(1)
    assert send_digest.perform_later(1).duplicate_of == first.job_id
    assert send_digest.perform_later(2).successfully_enqueued


def test_bulk_enqueue_honours_keys_also_within_one_batch(sqlite: str) -> None:
    held = Refresh.perform_later(1)
    batch = [Refresh(1), Refresh(2), Refresh(2), Refresh(3)]
    assert activejob.perform_all_later(batch) == 2
    assert [j.successfully_enqueued for j in batch] == [False, True, False, True]
    assert batch[0].duplicate_of == held.job_id and batch[2].duplicate_of == batch[1].job_id


def test_the_test_adapter_honours_keys(duplicates: list[events.Event]) -> None:
    adapter = TestAdapter()
    Refresh.queue_adapter = adapter
    Sync.queue_adapter = adapter
    try:
        first = Refresh.perform_later(1)
        assert Refresh.perform_later(1).duplicate_of == first.job_id
        assert len(adapter.enqueued_jobs) == 1 and len(duplicates) == 1
        adapter.perform_enqueued_jobs()
        assert Refresh.perform_later(1).successfully_enqueued  # finished: free
        s1 = Sync.set(wait=30).perform_later(5, "a")
        s2 = Sync.set(wait=30).perform_later(5, "b")
        assert s2.duplicate_of == s1.job_id and s2.successfully_enqueued
        [recorded] = [r for r in adapter.enqueued_jobs if r.job_id == s1.job_id]
        assert recorded.args == (5, "b")
        assert activejob.perform_all_later([Refresh(9), Refresh(9)]) == 1
    finally:
        Refresh.queue_adapter = None
        Sync.queue_adapter = None


def test_the_test_adapter_keeps_an_until_finished_key_through_a_retry() -> None:
    adapter = TestAdapter()
    Flaky.queue_adapter = adapter
    RAN.clear()
    try:
        first = Flaky.perform_later()
        adapter.perform_enqueued_jobs()  # raises Boom: retried, enqueued again
        assert [r.job_id for r in adapter.enqueued_jobs] == [first.job_id]
        assert Flaky.perform_later().duplicate_of == first.job_id
        adapter.perform_enqueued_jobs()
        assert [first.job_id, first.job_id] == RAN
        assert Flaky.perform_later().successfully_enqueued
    finally:
        Flaky.queue_adapter = None


GATE = threading.Event()
STARTED = threading.Event()


@unique(key="slow", until="finished")
class Slow(Job):
    def perform(self) -> None:
        STARTED.set()
        assert GATE.wait(10)


def test_the_async_adapter_honours_keys_while_a_job_runs() -> None:
    adapter = AsyncAdapter(threads=2)
    Slow.queue_adapter = adapter
    GATE.clear()
    STARTED.clear()
    try:
        first = Slow.perform_later()
        assert STARTED.wait(10)
        assert Slow.perform_later().duplicate_of == first.job_id
        GATE.set()
        adapter.join(timeout=10)
        assert Slow.perform_later().successfully_enqueued
        adapter.join(timeout=10)
    finally:
        GATE.set()
        Slow.queue_adapter = None
        adapter.shutdown()


def test_inline_runs_every_job_at_once(duplicates: list[Any]) -> None:
    Refresh.queue_adapter = "inline:"
    try:
        assert Refresh.perform_later(1).successfully_enqueued
        assert Refresh.perform_later(1).successfully_enqueued
        assert duplicates == []
    finally:
        Refresh.queue_adapter = None


def test_jobs_show_names_the_key(sqlite: str, tmp_path: Path) -> None:
    first = Refresh.perform_later(7)
    url = sqlite.split("?")[0]
    shown = activejob_cli("jobs", "show", first.job_id, "--adapter", url)
    assert shown.returncode == 0, shown.stderr
    lines = dict(line.split(":", 1) for line in shown.stdout.splitlines() if ":" in line)
    assert lines["unique_key"].strip() == key_of(first, spec_of(first))  # type: ignore[arg-type]
    assert lines["unique_until"].strip() == "finished"
    assert lines["unique_held"].strip() == "True"


def test_a_duplicate_is_a_log_line_naming_the_holder(caplog: pytest.LogCaptureFixture) -> None:
    adapter = TestAdapter()
    Refresh.queue_adapter = adapter
    Sync.queue_adapter = adapter
    try:
        with caplog.at_level("INFO", logger="activejob"):
            first = Refresh.perform_later(3)
            Refresh.perform_later(3)
            waiting = Sync.set(wait=30).perform_later(1, "a")
            Sync.set(wait=30).perform_later(1, "b")
        text = caplog.text
        assert f"its unique key is held by {first.job_id}" in text
        assert f"Replaced the arguments and run time of waiting job {waiting.job_id}" in text
    finally:
        Refresh.queue_adapter = None
        Sync.queue_adapter = None


@rate_limit(1, per=timedelta(minutes=1), key="unique-and-rate")
@unique(within=timedelta(minutes=5))
class Windowed(Job):
    def perform(self, n: int) -> None:
        pass


def test_a_unique_job_keeps_its_window_and_rate_limit_on_every_backend(backend_url: str) -> None:
    # The store writes the key, its window and the rate limit with the job (on Redis in
    # the one write of the job's hash): each is read back or acted on here.
    activejob.configure(adapter=backend_url)
    storage = storage_of(backend_url)
    storage.migrate()
    first, second = Windowed.perform_later(1), Windowed.perform_later(2)
    assert first.successfully_enqueued and second.successfully_enqueued
    info = storage.get(first.job_id)
    assert info is not None and info.unique_key == key_of(first, spec_of(first))  # type: ignore[arg-type]
    assert info.unique_until == "finished" and info.unique_held
    assert info.unique_expires_at is not None and info.unique_expires_at > info.created_at
    assert len(storage.claim("w", ["*"], 10)) == 1  # the rate limit admits one a minute
    again = Windowed.perform_later(1)  # its holder runs; the window still holds the key
    assert not again.successfully_enqueued and again.duplicate_of == first.job_id
