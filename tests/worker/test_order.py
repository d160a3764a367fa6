"""Queue order, wildcards and priority, as the worker claims one job at a time."""

from __future__ import annotations

import dataclasses

from activejob.storage.base import JobState, Storage
from tests.worker.conftest import FAST, run_burst
from tests.worker.jobs import Note, labels

ONE_AT_A_TIME = dataclasses.replace(FAST, threads=1, prefetch=0)


def test_queues_are_served_in_the_order_given(url: str, storage: Storage) -> None:
    low = Note.set(queue="low").perform_later("low")
    Note.set(queue="default").perform_later("default")
    Note.set(queue="mailers").perform_later("mailers")
    Note.set(queue="critical").perform_later("critical")

    run_burst(url, dataclasses.replace(ONE_AT_A_TIME, queues=("critical", "mail*", "default")))

    assert labels() == ["critical", "mailers", "default"]
    info = storage.get(low.job_id)
    assert info is not None and info.state is JobState.READY

    run_burst(url, dataclasses.replace(ONE_AT_A_TIME, queues=("*",)))

    assert labels() == ["critical", "mailers", "default", "low"]


def test_smaller_priority_runs_first_within_a_queue(url: str, storage: Storage) -> None:
    for priority in (5, 1, 3):
        Note.set(priority=priority).perform_later(f"p{priority}")

    run_burst(url, ONE_AT_A_TIME)

    assert labels() == ["p1", "p3", "p5"]
