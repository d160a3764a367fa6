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


Cleanup.perform_later(1, depth=2)
Cleanup.set(wait=5).perform_later(1)
send_welcome.perform_later(3)
send_welcome.set(queue="x").perform_later(3)
ok_now: str = Cleanup.perform_now(1)
ok_async_now: str = AsyncCleanup.perform_now(1)
plain: str = send_welcome(1)

Cleanup.perform_later("guest")  # E: arg-type
Cleanup.perform_later(1, dept=2)  # E: call-arg
Cleanup.set(queue="low").perform_later()  # E: call-arg
AsyncCleanup.perform_later("x")  # E: arg-type
send_welcome.perform_later("x")  # E: arg-type
send_welcome.set(wait=1).perform_later(1, 2)  # E: call-arg
bad_now: int = Cleanup.perform_now(1)  # E: assignment
