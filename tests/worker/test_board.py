"""The board a supervised worker process writes what it starts to, read by its
supervisor: a real shared file mapping between two views, as across processes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from activejob.worker.board import SLOT_TEXT, LostWorker, StartedBoard


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
