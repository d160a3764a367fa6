"""The prefetch is refilled in batches: a full worker claims again once half of
its prefetch has gone to its threads, not at every job that ends."""

from __future__ import annotations

import dataclasses
import threading
import uuid

from activejob import events
from activejob.events import Event
from activejob.storage.base import JobState, Storage
from tests.support import job_state, wait_for
from tests.worker.conftest import FAST, working
from tests.worker.jobs import GATES, Gated, Note, labels

ONE_THREAD_FOUR_PREFETCHED = dataclasses.replace(FAST, threads=1, prefetch=4, max_prefetch=4)


def test_a_full_worker_claims_again_once_half_its_prefetch_is_used(
    url: str, storage: Storage
) -> None:
    gates = [uuid.uuid4().hex for _ in range(5)]
    for gate in gates:
        GATES[gate] = threading.Event()
    held = [Gated.set(priority=0).perform_later(gate, f"g{n}") for n, gate in enumerate(gates)]
    later = [Note.set(priority=5).perform_later(f"n{n}") for n in range(4)]
    claims: list[int] = []
    seen = threading.Lock()

    def on_claim(event: Event) -> None:
        with seen:
            claims.append(len(event.extra["jobs"]))

    events.subscribe("worker_claim", on_claim)
    try:
        with working(url, ONE_THREAD_FOUR_PREFETCHED):
            wait_for(lambda: "g0:started" in labels())
            assert claims == [5]  # the running job and four prefetched

            GATES[gates[0]].set()  # one prefetched job starts: a quarter used
            wait_for(lambda: "g1:started" in labels())
            wait_for(lambda: job_state(storage, held[0].job_id) is JobState.SUCCEEDED)
            assert claims == [5]
            assert all(job_state(storage, j.job_id) is JobState.READY for j in later)

            GATES[gates[1]].set()  # half used: the next claim takes two at once
            wait_for(lambda: len(claims) == 2)
            assert claims == [5, 2]

            for gate in gates[2:]:
                GATES[gate].set()
            wait_for(lambda: all(f"n{n}" in labels() for n in range(4)))
    finally:
        events.unsubscribe("worker_claim", on_claim)
    assert labels()[-4:] == ["n0", "n1", "n2", "n3"]
    assert sum(claims) == 9
