# Checked by tests/unit/test_typing.py with mypy: each line marked "E:" must be an error.
from __future__ import annotations

from activejob import Job, job


class Cleanup(Job):
    def perform(self, guest: int, *, depth: int = 1) -> str:
        return ""


class AsyncCleanup(Job):
    async def perform(self, guest: int) -> str:
        return ""


@job(queue_as="mailers")
def send_welcome(user_id: int) -> str:
    return ""


@job
async def ping(value: int) -> int:
    return value


Cleanup.perform_later(1, depth=2)
Cleanup.set(wait=5).perform_later(1)
send_welcome.perform_later(3)
send_welcome.set(queue="x").perform_later(3)
ok_now: str = Cleanup.perform_now(1)
ok_async_now: str = AsyncCleanup.perform_now(1)
plain: str = send_welcome(1)
ok_fn_now: str = send_welcome.perform_now(1)
ok_async_fn_now: int = ping.perform_now(1)
ok_configured_now: str = Cleanup.set(queue="x").perform_now(1)
ok_configured_async_now: str = AsyncCleanup.set(queue="x").perform_now(1)
ok_instance_set: Cleanup = Cleanup(1).set(wait_until=None, queue="x")

Cleanup.perform_later("guest")  # E: arg-type
Cleanup.perform_later(1, dept=2)  # E: call-arg
Cleanup.set(queue="low").perform_later()  # E: call-arg
AsyncCleanup.perform_later("x")  # E: arg-type
send_welcome.perform_later("x")  # E: arg-type
send_welcome.set(wait=1).perform_later(1, 2)  # E: call-arg
bad_now: int = Cleanup.perform_now(1)  # E: assignment
Cleanup.set(wiat=5)  # E: call-arg
Cleanup.set(priority="high")  # E: arg-type
Cleanup(1).set(priority="high")  # E: arg-type
send_welcome.set(wiat=5)  # E: call-arg
bad_fn_now: int = send_welcome.perform_now(1)  # E: assignment
bad_async_fn_now: str = ping.perform_now(1)  # E: assignment
bad_configured_now: int = Cleanup.set(queue="x").perform_now(1)  # E: assignment
bad_configured_async_now: int = AsyncCleanup.set(queue="x").perform_now(1)  # E: assignment
send_welcome.perform_now("x")  # E: arg-type
ok_instance_now: str = Cleanup(1).perform_now()
ok_async_instance_now: str = AsyncCleanup(1).perform_now()
Cleanup(1).perform_now(2)  # E: call-arg
bad_instance_now: int = Cleanup(1).perform_now()  # E: assignment
bad_async_instance_now: int = AsyncCleanup(1).perform_now()  # E: assignment
Cleanup.perform_now("guest")  # E: arg-type
AsyncCleanup.perform_now()  # E: call-arg


def helper_criteria() -> None:
    # The test-helper keywords, declared once in activejob.testing.filters.
    from activejob.testing import (
        assert_enqueued_jobs,
        assert_enqueued_with,
        expect_performed_with,
        perform_enqueued_jobs,
    )

    assert_enqueued_jobs(1, only=Cleanup, queue="x")
    assert_enqueued_with(job=Cleanup, args=(1,), priority=lambda p: p is None)
    perform_enqueued_jobs(at=5)
    assert_enqueued_jobs(1, at=5)  # E: call-arg
    assert_enqueued_with(jbo=Cleanup)  # E: call-arg
    expect_performed_with(priority="high")  # E: arg-type
