"""async def perform: perform_now outside and inside a running loop, and arun."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import activejob
from activejob import Job, around_perform, retry_on
from activejob.job.execution import arun, run


class Fetch(Job):
    async def perform(self, url: str) -> str:
        await asyncio.sleep(0)  # sleep-ok: yields to the event loop once, no waiting
        return f"fetched {url} on {threading.current_thread().name}"


calls: list[str] = []


@retry_on(ConnectionError, wait=0, attempts=2)
class AsyncWithCallbacks(Job):
    @around_perform
    def wrap(self) -> Iterator[None]:
        calls.append("in")
        yield
        calls.append("out")

    async def perform(self, fail: bool) -> str:
        calls.append("perform")
        if fail:
            raise ConnectionError("down")
        return "ok"


def test_perform_now_outside_a_loop() -> None:
    assert Fetch.perform_now("a").startswith("fetched a on MainThread")


def test_perform_now_inside_a_running_loop() -> None:
    async def main() -> str:
        return Fetch.perform_now("b")

    result = asyncio.run(main())
    assert result.startswith("fetched b on activejob-async")


def test_arun_awaits_on_the_callers_loop_and_callbacks_apply() -> None:
    calls.clear()

    async def main() -> activejob.Outcome:
        return await arun(AsyncWithCallbacks(False))

    outcome = asyncio.run(main())
    assert outcome.kind == "succeeded" and outcome.value == "ok"
    assert calls == ["in", "perform", "out"]


def test_async_failures_go_through_rules() -> None:
    calls.clear()
    outcome = run(AsyncWithCallbacks(True))
    assert outcome.kind == "retry"
    assert isinstance(outcome.exception, ConnectionError)
    assert calls == ["in", "perform"]


def test_arun_runs_sync_jobs_off_the_loop() -> None:
    class SyncJob(Job):
        def perform(self) -> str:
            return threading.current_thread().name

    async def main() -> activejob.Outcome:
        return await arun(SyncJob())

    outcome = asyncio.run(main())
    assert outcome.value != "MainThread"


def test_async_job_on_the_async_adapter_round_trip() -> None:
    from activejob.adapters.asyncpool import AsyncAdapter

    results: list[str] = []

    class Collect(Job):
        async def perform(self, n: int) -> None:
            await asyncio.sleep(0)  # sleep-ok: yields to the event loop once, no waiting
            results.append(f"{n}:{threading.current_thread().name}")

    adapter = AsyncAdapter()
    activejob.configure(adapter=adapter)
    for n in range(3):
        Collect.perform_later(n)
    adapter.join(timeout=10)
    assert sorted(results) == [f"{n}:activejob-async-loop" for n in range(3)]
    adapter.shutdown()


class Ticket:
    def __init__(self, code: str) -> None:
        self.code = code


loaded_on: list[str] = []


def test_async_job_loads_rich_arguments_off_the_event_loop() -> None:
    # A GlobalID loads a record through a (maybe sync-only) ORM: never on the loop thread.
    from activejob.serializers import ObjectSerializer, register, unregister

    class TicketSerializer(ObjectSerializer):
        klass = Ticket

        def serialize(self, value: Ticket) -> str:
            return value.code

        def deserialize(self, data: str) -> Ticket:
            loaded_on.append(threading.current_thread().name)
            return Ticket(data)

    class UseTicket(Job):
        async def perform(self, ticket: Ticket, n: int) -> str:
            return f"{ticket.code}:{n}:{threading.current_thread().name}"

    register(TicketSerializer)
    try:
        payload = UseTicket(Ticket("T1"), 2).serialize()

        async def main() -> activejob.Outcome:
            return await arun(payload)

        outcome = asyncio.run(main())
    finally:
        unregister(TicketSerializer)
    assert outcome.value == "T1:2:MainThread"
    assert loaded_on and loaded_on[0] != "MainThread"
