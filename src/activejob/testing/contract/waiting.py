"""The storage contract: wait() and notify_stop(), and migrations."""

from __future__ import annotations

import threading
import time

from activejob import _time
from activejob.storage.base import (
    ClaimedJob,
    Storage,
)
from activejob.testing.contract.base import ContractBase, FakeClock, new_job


class WaitingAndSchema(ContractBase):
    """wait() and notify_stop(), and migrations."""

    # -- waiting --------------------------------------------------------------------

    def test_wait_returns_at_once_when_a_job_is_claimable(self, storage: Storage) -> None:
        self.push(storage, new_job("default"))
        started = time.monotonic()
        assert storage.wait(["default"], timeout=30) is True
        assert time.monotonic() - started < self.patience

    def test_wait_times_out_when_nothing_is_claimable(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        self.push(storage, new_job("other"), new_job("mine", run_at=clock.now + 3600))
        storage.pause("paused")
        self.push(storage, new_job("paused"))
        started = time.monotonic()
        assert storage.wait(["mine", "paused"], timeout=0.2) is False
        assert time.monotonic() - started >= 0.19

    def test_wait_wakes_when_a_job_is_pushed(self, storage: Storage) -> None:
        claimed: list[ClaimedJob] = []
        failures: list[BaseException] = []
        looking = threading.Event()

        def idle_worker() -> None:
            try:
                deadline = time.monotonic() + 60
                while not claimed and time.monotonic() < deadline:
                    claimed.extend(storage.claim("idle", ["wake"], 1))
                    looking.set()
                    if not claimed:
                        storage.wait(["wake"], timeout=30)
            except BaseException as exc:
                failures.append(exc)

        thread = threading.Thread(target=idle_worker)
        thread.start()
        assert looking.wait(self.patience)
        [job_id] = self.push(storage, new_job("wake"))
        thread.join(self.patience)
        alive = thread.is_alive()
        if alive:
            storage.notify_stop()
            self.push(storage, new_job("wake"))
            thread.join(self.patience)
        assert not failures, failures
        assert not alive, "wait() did not wake up for a pushed job"
        assert [c.job_id for c in claimed] == [job_id]

    def test_wait_wakes_when_a_scheduled_job_comes_due(self, storage: Storage) -> None:
        [job_id] = self.push(storage, new_job("later", run_at=_time.now() + 0.3))
        started = time.monotonic()
        claimed: list[ClaimedJob] = []
        while not claimed and time.monotonic() - started < self.patience:
            if not storage.wait(["later"], timeout=30):
                break
            claimed = storage.claim("w", ["later"], 1)
        assert [c.job_id for c in claimed] == [job_id]
        assert time.monotonic() - started < self.patience

    def test_notify_stop_wakes_a_waiting_thread(self, storage: Storage) -> None:
        returned = threading.Event()
        entered = threading.Event()

        def waiter() -> None:
            entered.set()
            storage.wait(["nothing"], timeout=30)
            returned.set()

        thread = threading.Thread(target=waiter, daemon=True)
        thread.start()
        assert entered.wait(self.patience)
        deadline = time.monotonic() + self.patience
        while not returned.is_set() and time.monotonic() < deadline:
            storage.notify_stop()  # repeated: the waiter may not be blocked yet
            returned.wait(0.05)
        assert returned.is_set()

    def test_waiting_blocks_again_after_notify_stop(self, storage: Storage) -> None:
        # A stopped worker must not leave the storage unable to wait: adapters are
        # shared per URL, so the next worker in this process uses the same storage.
        storage.notify_stop()
        started = time.monotonic()
        assert storage.wait(["nothing"], timeout=0.2) is False
        assert time.monotonic() - started >= 0.19

    def test_every_thread_waiting_on_a_queue_wakes_for_a_push(self, storage: Storage) -> None:
        pushed = threading.Event()
        woken: list[str] = []
        entered = [threading.Event(), threading.Event()]

        def waiter(entered: threading.Event) -> None:
            entered.set()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                # A True may be spurious: only one that follows the push counts.
                if storage.wait(["shared"], timeout=30) and pushed.is_set():
                    woken.append(threading.current_thread().name)
                    return

        storage.wait(["shared"], timeout=0.01)  # a backend may start listening lazily
        threads = [threading.Thread(target=waiter, args=(e,), daemon=True) for e in entered]
        for thread in threads:
            thread.start()
        assert all(e.wait(self.patience) for e in entered)
        time.sleep(0.2)  # sleep-ok: both waiters must be blocked when the push comes
        pushed.set()
        self.push(storage, new_job("shared"))
        for thread in threads:
            thread.join(self.patience)
        assert len(woken) == 2, "a waiter slept through a push to its queue"

    # -- schema ---------------------------------------------------------------------

    def test_migrate_is_idempotent(self, storage: Storage) -> None:
        [job_id] = self.push(storage, new_job())
        storage.migrate()
        storage.migrate()
        assert storage.get(job_id) is not None
