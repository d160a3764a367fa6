"""Declaring jobs: Job subclasses, @job functions, queues and priorities."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import activejob
from activejob import Job, job
from activejob.job import registry


class CleanupJob(Job):
    queue_as = "cleanup"
    priority = 10

    def perform(self, guest: int, *, depth: int = 1) -> str:
        return f"cleaned {guest} at depth {depth}"


class PlainJob(Job):
    def perform(self) -> None:
        pass


class RoutedJob(Job):
    def queue_as(self) -> str:  # type: ignore[override]
        return "bulk" if self.kwargs.get("large") else "small"

    def perform(self, *, large: bool = False) -> bool:
        return large


@job(queue_as="mailers", priority=3)
def send_welcome(user_id: int) -> str:
    return f"welcome {user_id}"


@job
async def ping(value: int) -> int:
    await asyncio.sleep(0)  # sleep-ok: yields to the event loop once, no waiting
    return value + 1


def test_queue_as_string_and_priority() -> None:
    built = CleanupJob(1)
    assert built.queue_name == "cleanup"
    assert built.priority == 10


def test_default_queue_is_default_and_priority_none() -> None:
    built = PlainJob()
    assert built.queue_name == "default"
    assert built.priority is None


def test_default_queue_name_follows_configuration() -> None:
    activejob.configure(default_queue_name="normal")
    assert PlainJob().queue_name == "normal"


def test_queue_as_method_sees_arguments() -> None:
    assert RoutedJob(large=True).queue_name == "bulk"
    assert RoutedJob().queue_name == "small"


def test_queue_as_method_returning_nonsense_is_an_error() -> None:
    class BadJob(Job):
        def queue_as(self) -> Any:  # type: ignore[override]
            return 42

        def perform(self) -> None: ...

    with pytest.raises(TypeError, match="queue_as"):
        _ = BadJob().queue_name


def test_queue_name_prefix_and_delimiter() -> None:
    activejob.configure(queue_name_prefix="shop", queue_name_delimiter=".")
    assert CleanupJob(1).queue_name == "shop.cleanup"
    assert CleanupJob.set(queue="low").build(1).queue_name == "shop.low"
    activejob.configure(queue_name_delimiter="_")
    assert PlainJob().queue_name == "shop_default"


def test_job_class_registered_by_module_and_qualname() -> None:
    assert CleanupJob.job_class_name == "tests.unit.test_declaring.CleanupJob"
    assert registry.lookup(CleanupJob.job_class_name) is CleanupJob


def test_job_function_is_still_a_function() -> None:
    assert send_welcome(7) == "welcome 7"
    assert send_welcome.__name__ == "send_welcome"
    assert send_welcome.job_class.queue_as == "mailers"
    assert send_welcome.job_class.priority == 3
    assert issubclass(send_welcome.job_class, Job)
    assert registry.lookup("tests.unit.test_declaring.send_welcome") is send_welcome.job_class


def test_job_function_perform_now_and_async_function() -> None:
    assert send_welcome.perform_now(8) == "welcome 8"
    assert ping.job_class.is_async()
    assert ping.perform_now(1) == 2
    assert asyncio.run(ping(4)) == 5


def test_is_async_follows_perform_per_class_and_when_replaced(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Base(Job):
        def perform(self) -> None:
            pass

    class Child(Base):
        async def perform(self) -> None:  # type: ignore[override]
            pass

    class Grandchild(Child):
        pass

    assert (Base.is_async(), Child.is_async(), Grandchild.is_async()) == (False, True, True)

    async def replaced(self: Base) -> None:
        pass

    monkeypatch.setattr(Base, "perform", replaced)
    assert Base.is_async() is True  # the answer is not kept past a change of perform
    assert Base.perform_now() is None


def test_configured_perform_now_keeps_arguments_and_options() -> None:
    class Where(Job):
        def perform(self, n: int) -> tuple[int, str, int | None]:
            return n, self.queue_name, self.priority

    class AsyncWhere(Job):
        async def perform(self, n: int) -> tuple[int, str]:
            return n, self.queue_name

    assert Where.set(queue="low", priority=3).perform_now(4) == (4, "low", 3)
    assert AsyncWhere.set(queue="low").perform_now(5) == (5, "low")
    assert send_welcome.set(queue="x").perform_now(6) == "welcome 6"
    assert ping.set(priority=1).perform_now(7) == 8


def test_job_instance_attributes() -> None:
    built = CleanupJob(5, depth=2)
    assert built.arguments == (5,)
    assert built.kwargs == {"depth": 2}
    assert len(built.job_id) == 36 and built.job_id != CleanupJob(5).job_id
    assert built.provider_job_id is None
    assert built.executions == 0
    assert built.exception_executions == {}
    assert built.enqueued_at is None and built.scheduled_at is None
    assert built.successfully_enqueued is False
    assert built.locale is None and built.timezone is None


def test_perform_now_returns_value() -> None:
    assert CleanupJob.perform_now(3, depth=4) == "cleaned 3 at depth 4"
    built = CleanupJob(3)
    assert built.run_now() == "cleaned 3 at depth 1"
    assert built.executions == 1


def test_perform_now_on_an_instance_runs_that_instance() -> None:
    class PurgeJob(Job):
        def perform(self, account_id: int | None = None) -> tuple[int | None, str]:
            return account_id, self.job_id

    built = PurgeJob(42)
    assert built.perform_now() == (42, built.job_id)
    assert built.executions == 1
    assert built.perform_now() == (42, built.job_id)
    assert built.executions == 2
    with pytest.raises(TypeError, match=r"takes none.*PurgeJob.perform_now\(\.\.\.\) on the class"):
        built.perform_now(7)  # type: ignore[call-arg]
    assert built.executions == 2


def test_perform_now_on_an_instance_of_an_async_job_and_of_a_job_function() -> None:
    class AsyncPurge(Job):
        async def perform(self, account_id: int) -> int:
            return account_id * 2

    built = AsyncPurge(21)
    assert built.perform_now() == 42 and built.executions == 1
    assert ping.job_class(9).perform_now() == 10
    assert send_welcome.job_class(5).perform_now() == "welcome 5"


def test_perform_now_on_a_configured_instance_keeps_its_options() -> None:
    class Where(Job):
        def perform(self, n: int) -> tuple[int, str, int | None]:
            return n, self.queue_name, self.priority

    assert Where(3).set(queue="low", priority=2).perform_now() == (3, "low", 2)


def test_missing_perform_is_a_clear_error() -> None:
    class Empty(Job):
        pass

    with pytest.raises(NotImplementedError, match="must define perform"):
        Empty.perform_now()
