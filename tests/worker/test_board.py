"""The board a supervised worker process writes what it starts to, read by its
supervisor: a real shared file mapping between two views, as across processes."""

from __future__ import annotations

import dataclasses
import threading
import uuid
from collections.abc import Iterator

import pytest

from activejob.storage.base import JobFilter, Storage
from activejob.worker.board import SLOT_TEXT, LostWorker, StartedBoard
from activejob.worker.options import WorkerOptions
from activejob.worker.process import WorkerProcess
from activejob.worker.supervisor import ChildSpec, Supervisor
from tests.support import wait_for
from tests.worker.conftest import FAST, Background
from tests.worker.jobs import GATES, AsyncGated, Gated, labels


@pytest.fixture
def boards() -> Iterator[tuple[StartedBoard, StartedBoard]]:
    """The supervisor's view and the child's view of one board with 3 slots."""
    supervisor, fd = StartedBoard.create(3)
    child = StartedBoard.attach(fd, 3)
    yield supervisor, child
    child.close()
    supervisor.close()


def test_the_supervisor_reads_what_the_child_started_and_not_what_ended(
    boards: tuple[StartedBoard, StartedBoard],
) -> None:
    supervisor, child = boards
    assert supervisor.read().worker_id is None
    child.publish("host:42:1a2b3c4d")
    child.start(0, 17, "job-a")
    child.start(2, 19, "job-c")
    child.start(1, 18, "job-b")
    child.clear(1)
    reading = supervisor.read()
    assert reading.lost() == LostWorker("host:42:1a2b3c4d", [17, 19], ["job-a", "job-c"])
    assert reading.recovered is False
    child.mark_recovered()
    child.clear(0)
    child.clear(2)
    assert supervisor.read().recovered is True
    assert supervisor.read().lost() == LostWorker("host:42:1a2b3c4d", [], [])


def test_a_slot_reused_holds_only_the_new_job(
    boards: tuple[StartedBoard, StartedBoard],
) -> None:
    supervisor, child = boards
    child.publish("w")
    child.start(0, 123456789, "a-long-job-id-" * 3)
    child.clear(0)
    child.start(0, 5, "short")
    assert supervisor.read().lost() == LostWorker("w", [5], ["short"])


def test_string_ids_and_long_job_ids_fit(boards: tuple[StartedBoard, StartedBoard]) -> None:
    supervisor, child = boards
    child.publish("w")
    child.start(0, "row-7", "x" * 500)  # the job id is shortened: it is only for logs
    lost = supervisor.read().lost()
    assert lost is not None and lost.started == ["row-7"]
    assert lost.job_ids[0] == "x" * (SLOT_TEXT - len('"row-7"') - 1)


def test_an_id_too_long_for_its_slot_makes_the_board_unknown(
    boards: tuple[StartedBoard, StartedBoard],
) -> None:
    supervisor, child = boards
    child.publish("w")
    child.start(0, 1, "fine")
    child.start(1, "x" * SLOT_TEXT, "too-long")
    reading = supervisor.read()
    assert reading.worker_id == "w" and reading.started is None
    assert reading.lost() is None  # left to recovery by heartbeat, a crash on each


def test_lost_workers_travel_in_a_spec() -> None:
    lost = LostWorker("host:1:ab", [3, 4], ["a", "b"])
    assert LostWorker.from_dict(lost.to_dict()) == lost


# -- a worker writing it, a supervisor reading it ---------------------------------------


def test_a_worker_shows_the_jobs_it_runs_sync_and_async_and_clears_them(
    url: str, storage: Storage, boards: tuple[StartedBoard, StartedBoard]
) -> None:
    supervisor, child = boards
    gate = uuid.uuid4().hex
    GATES[gate] = threading.Event()
    sync_job = Gated.perform_later(gate, "sync")
    async_job = AsyncGated.perform_later(gate, "async")
    options = dataclasses.replace(FAST, threads=1, async_concurrency=2)
    process = WorkerProcess(storage, options, board=child)
    background = Background(process, burst=True)
    background.thread.start()
    try:
        wait_for(lambda: {"sync:started", "async:started"} <= set(labels()))
        lost = supervisor.read().lost()
        assert lost is not None and lost.worker_id == process.worker_id
        ids = {info.job_id: info.id for info in storage.list(JobFilter(limit=None))}
        assert sorted(lost.started) == sorted([ids[sync_job.job_id], ids[async_job.job_id]])
        assert sorted(lost.job_ids) == sorted([sync_job.job_id, async_job.job_id])
    finally:
        GATES[gate].set()
        background.join()
    assert supervisor.read().started == []
    assert supervisor.read().recovered is True  # it had nothing to recover


def test_a_dead_child_is_handed_to_the_next_until_one_recovers_it() -> None:
    supervisor = Supervisor(ChildSpec(None, WorkerOptions(threads=1)), processes=1)
    [slot] = supervisor.children
    handed_on = {"first": ["first"], "second": ["first", "second"], "third": ["third"]}
    for worker_id, recovers in (("first", False), ("second", False), ("third", True)):
        slot.board, fd = StartedBoard.create(1 + WorkerOptions().async_concurrency)
        child = StartedBoard.attach(fd, slot.board.slots)
        child.publish(worker_id)
        if recovers:
            child.mark_recovered()
        child.start(0, len(worker_id), worker_id)
        child.close()
        supervisor._read_board(slot, pid=1)
        assert slot.board is None
        # "second" died before recovering "first": its replacement gets both; "third"
        # recovered those two, so the next child gets only "third".
        assert [lost.worker_id for lost in slot.lost] == handed_on[worker_id]
    assert slot.lost == [LostWorker("third", [5], ["third"])]
