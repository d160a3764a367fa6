"""The storage contract: recurring tasks, and each run of one stored exactly once."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from activejob.storage.base import JobFilter, JobState, Storage
from activejob.storage.recurring import RecurringTaskSpec
from activejob.testing.contract.base import ContractBase, FakeClock, new_job

RUN_AT = 1_767_236_400  # 2026-01-01 03:00:00 UTC


def spec(key: str = "nightly", **changes: Any) -> RecurringTaskSpec:
    """A recurring task definition as a scheduler declares it."""
    fields: dict[str, Any] = {
        "key": key,
        "job_class": "contract.Job",
        "schedule": "0 3 * * *",
        "timezone": "UTC",
        "queue_name": "default",
        "priority": 0,
        "payload": json.dumps({"job_class": "contract.Job", "arguments": [30]}),
    }
    fields.update(changes)
    return RecurringTaskSpec(**fields)


class RecurringRuns(ContractBase):
    """Declared tasks, their paused flag, and the once-only store of each run."""

    def stored_job_ids(self, storage: Storage) -> list[str]:
        return sorted(info.job_id for info in storage.list(JobFilter(limit=None)))

    # -- once per (task, run time) ----------------------------------------------------

    def test_a_run_of_a_recurring_task_is_stored_once(self, storage: Storage) -> None:
        storage.declare_recurring([spec()])
        first, again = new_job(), new_job()
        stored = storage.enqueue_recurring("nightly", RUN_AT, first)
        assert stored is not None
        assert storage.enqueue_recurring("nightly", RUN_AT, again) is None
        assert self.stored_job_ids(storage) == [first.job_id]
        assert self.info(storage, first.job_id).state is JobState.READY
        assert str(self.info(storage, first.job_id).id) == str(stored)
        # Another run time, and another task at the same time, are other runs.
        next_day, other_task = new_job(), new_job()
        assert storage.enqueue_recurring("nightly", RUN_AT + 86400, next_day) is not None
        assert storage.enqueue_recurring("hourly", RUN_AT, other_task) is not None
        assert len(self.stored_job_ids(storage)) == 3

    def test_racing_schedulers_store_each_run_once(
        self, storage: Storage, request: pytest.FixtureRequest
    ) -> None:
        storages = [storage, *(self.make_storage(request) for _ in range(2))]
        try:
            runs = 10
            barrier = threading.Barrier(len(storages) * 2)
            won: list[Any] = []
            errors: list[BaseException] = []

            def race(racer: Storage) -> None:
                try:
                    barrier.wait(timeout=self.patience)
                    for i in range(runs):
                        found = racer.enqueue_recurring("race", RUN_AT + i, new_job())
                        if found is not None:
                            won.append(found)
                except BaseException as exc:  # reported below, in the test's thread
                    errors.append(exc)

            # Two threads per storage: six schedulers, each with its own connections
            # or sharing them, all asking for the same ten runs at once.
            threads = [
                threading.Thread(target=race, args=(racer,)) for racer in storages for _ in (1, 2)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=self.patience * 4)
            assert not errors, errors
            assert len(won) == runs
            assert len(self.stored_job_ids(storage)) == runs
        finally:
            for extra in storages[1:]:
                extra.close()

    def test_a_run_may_be_stored_to_start_later(self, storage: Storage, clock: FakeClock) -> None:
        later = new_job(run_at=clock.now + 60)
        assert storage.enqueue_recurring("delayed", RUN_AT, later) is not None
        assert self.info(storage, later.job_id).state is JobState.SCHEDULED
        assert storage.claim("w", ["*"], 10) == []
        clock.advance(61)
        assert [c.job_id for c in storage.claim("w", ["*"], 10)] == [later.job_id]

    def test_run_at_must_be_whole_seconds(self, storage: Storage) -> None:
        with pytest.raises(ValueError, match="whole epoch seconds"):
            storage.enqueue_recurring("nightly", RUN_AT + 0.5, new_job())  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="task key"):
            storage.enqueue_recurring(" ", RUN_AT, new_job())
        assert self.stored_job_ids(storage) == []

    # -- stored tasks -------------------------------------------------------------------

    def test_declared_tasks_are_listed_with_their_definition(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        storage.declare_recurring([spec("b", queue_name="low", priority=5), spec("a")])
        tasks = storage.recurring_tasks()
        assert [t.key for t in tasks] == ["a", "b"]
        b = tasks[1]
        assert (b.job_class, b.schedule, b.timezone) == ("contract.Job", "0 3 * * *", "UTC")
        assert (b.queue_name, b.priority, b.paused, b.orphaned) == ("low", 5, False, False)
        assert b.payload == {"job_class": "contract.Job", "arguments": [30]}
        assert b.last_run_at is None and b.resumed_at is None
        assert abs(b.created_at.timestamp() - clock.now) < 0.01
        assert json.dumps([t.to_dict() for t in tasks])

    def test_declaring_again_updates_the_definition_and_keeps_the_state(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        storage.declare_recurring([spec()])
        created = clock.now
        storage.pause_recurring("nightly")
        storage.enqueue_recurring("nightly", RUN_AT, new_job())
        clock.advance(120)
        storage.declare_recurring([spec(schedule="0 4 * * *")])
        [task] = storage.recurring_tasks()
        assert task.schedule == "0 4 * * *" and task.paused
        assert task.last_run_at is not None and task.last_run_at.timestamp() == RUN_AT
        assert abs(task.created_at.timestamp() - created) < 0.01
        assert abs(task.declared_at.timestamp() - clock.now) < 0.01

    def test_the_last_run_only_moves_forward(self, storage: Storage) -> None:
        storage.declare_recurring([spec()])
        storage.enqueue_recurring("nightly", RUN_AT + 60, new_job())
        storage.enqueue_recurring("nightly", RUN_AT, new_job())  # a late scheduler
        [task] = storage.recurring_tasks()
        assert task.last_run_at is not None and task.last_run_at.timestamp() == RUN_AT + 60

    def test_pause_and_resume_a_stored_task(self, storage: Storage, clock: FakeClock) -> None:
        storage.declare_recurring([spec(), spec("other")])
        assert storage.pause_recurring("nightly") is True
        assert storage.pause_recurring("nightly") is True  # idempotent
        paused = {t.key: t.paused for t in storage.recurring_tasks()}
        assert paused == {"nightly": True, "other": False}
        clock.advance(5)
        assert storage.resume_recurring("nightly") is True
        [task, _] = storage.recurring_tasks()
        assert not task.paused
        assert task.resumed_at is not None and abs(task.resumed_at.timestamp() - clock.now) < 0.01
        assert storage.pause_recurring("missing") is False
        assert storage.resume_recurring("missing") is False
        assert [t.key for t in storage.recurring_tasks()] == ["nightly", "other"]

    def test_a_task_no_scheduler_declares_any_more_is_orphaned(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        storage.declare_recurring([spec("kept"), spec("removed")])
        clock.advance(storage.recurring_orphan_after / 2)
        storage.declare_recurring([spec("kept")])
        clock.advance(storage.recurring_orphan_after / 2 + 1)
        orphaned = {t.key: t.orphaned for t in storage.recurring_tasks()}
        assert orphaned == {"kept": False, "removed": True}
        storage.declare_recurring([spec("removed")])  # back in the file
        assert not any(t.orphaned for t in storage.recurring_tasks())

    def test_bad_declarations_are_refused(self, storage: Storage) -> None:
        with pytest.raises(ValueError, match="once"):
            storage.declare_recurring([spec(), spec()])
        with pytest.raises(ValueError, match="payload"):
            storage.declare_recurring([spec(payload="[]")])
        with pytest.raises(TypeError):
            storage.declare_recurring(["nightly"])  # type: ignore[list-item]
        assert storage.recurring_tasks() == []
