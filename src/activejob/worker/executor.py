"""Where jobs run: threads for sync jobs, one event loop for ``async def`` jobs.

The fetcher hands over :class:`Task` values; each ends in exactly one call of
``done(task, result)`` — unless the worker took it back unstarted
(:meth:`Executor.take_unstarted`) or cancelled it while draining. Queued tasks
wait in deques rather than in a pool's hidden queue, so a draining worker can
give unstarted jobs back to the storage.

With a :class:`~.board.StartedBoard` (a supervised process), each thread and async
slot writes the job it starts into its slot of the board and clears it when the
job returns, so the supervisor knows what was running if the process dies.

Example::

    executor = Executor(threads=4, async_concurrency=50, done=acker.add)
    executor.start()
    executor.submit(Task(claimed, job))
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from activejob.job.execution import StopCheck, arun, run
from activejob.worker.outcomes import crashed, is_resumption, result_for

if TYPE_CHECKING:
    from activejob.adapters.base import Adapter
    from activejob.job.base import Job
    from activejob.storage.base import ClaimedJob, Result
    from activejob.worker.board import StartedBoard

__all__ = ["Executor", "Task"]


@dataclass
class Task:
    """A claimed job, decoded and ready to run."""

    claimed: ClaimedJob
    job: Job
    resumed: bool = False
    """Set once run: the job is a continuation handed back to resume (counted apart)."""


Done = Callable[[Task, "Result"], None]
Lent = Callable[[], "Task | None"]


class Executor:
    """Sync jobs on ``threads`` threads; async jobs on one loop, at most
    ``async_concurrency`` at a time. ``adapter`` is named in the jobs' events;
    ``board``, if given, has a slot per thread, then one per async slot;
    ``stopping`` is what running jobs ask to learn the worker is draining (a
    continuation then stops at its next checkpoint)."""

    def __init__(
        self,
        threads: int,
        async_concurrency: int,
        done: Done,
        adapter: Adapter | None = None,
        board: StartedBoard | None = None,
        stopping: StopCheck | None = None,
    ) -> None:
        self.threads = threads
        self.stopping = stopping
        self.adapter = adapter
        """The adapter named in the jobs' events (the worker's backend)."""
        self.async_concurrency = async_concurrency
        self._done = done
        # Reentrant, so a wait_changed condition may read the properties below.
        self._lock = threading.RLock()
        self._work = threading.Condition(self._lock)
        """Signalled when a sync task is queued, or on close."""
        self._changed = threading.Condition(self._lock)
        """Signalled when a task finishes, or on :meth:`wake`."""
        self._sync: deque[Task] = deque()
        self._lent: deque[Lent] = deque()
        self._idle_threads = 0
        self._async: deque[Task] = deque()
        self._running = 0
        self._async_running = 0
        self._closing = False
        self._threads: list[threading.Thread] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: threading.Thread | None = None
        self._async_tasks: set[asyncio.Task[None]] = set()
        self.finished_total = 0
        """How many tasks have finished, ever (a fetcher waits for it to change)."""
        self.async_seen = False
        """Whether an async job has come this way (its slots then count as capacity)."""
        self._board = board
        self._free_async_slots = list(range(threads + async_concurrency - 1, threads - 1, -1))
        # flow: timeouts and cancellation. What runs in each slot, for the overseer.
        self._current: dict[int, Task] = {}
        self._lost: set[int] = set()
        """Slots whose job went past its timeout and never returned (abandoned)."""

    def start(self) -> None:
        """Start the sync threads (the loop starts with the first async job)."""
        for number in range(self.threads):
            thread = threading.Thread(
                target=self._sync_worker,
                args=(number,),
                name=f"activejob-thread-{number + 1}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)

    # -- state, for the fetcher and the drain ----------------------------------------

    @property
    def outstanding(self) -> int:
        """Tasks queued or running."""
        with self._lock:
            return self._running + len(self._sync) + len(self._async)

    @property
    def starving(self) -> bool:
        """Whether a slot is free and nothing is queued for it: the fetcher is late."""
        with self._lock:
            return not self._sync and not self._async and self._running < self.capacity

    @property
    def capacity(self) -> int:
        """How many tasks can run at once (async slots once an async job was seen),
        less the slots lost to abandoned jobs."""
        return self.threads + (self.async_concurrency if self.async_seen else 0) - len(self._lost)

    def wait_changed(self, condition: Callable[[], bool], timeout: float | None) -> bool:
        """Block until ``condition()`` holds, rechecked when a task finishes or on
        :meth:`wake`; returns its last value."""
        with self._changed:
            return self._changed.wait_for(condition, timeout)

    def wake(self) -> None:
        """Wake every :meth:`wait_changed` so it rechecks (the worker is stopping)."""
        with self._changed:
            self._changed.notify_all()

    def wait_idle(self, timeout: float | None) -> bool:
        """Block until nothing is queued or running; ``False`` if ``timeout`` passed."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._changed:
            while self._running - len(self._lost) or self._sync or self._async:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._changed.wait(remaining)
        return True

    # -- handing work over -----------------------------------------------------------

    def submit(self, task: Task) -> None:
        """Queue ``task`` on the threads or the loop, by its job's ``perform``."""
        if type(task.job).is_async():
            with self._lock:
                self.async_seen = True
                self._async.append(task)
            self._event_loop().call_soon_threadsafe(self._pump)
        else:
            with self._work:
                self._sync.append(task)
                self._work.notify()

    def lend(self, call: Lent) -> bool:
        """Have an idle sync thread run ``call``, then at once the task it returns (if
        any) as if queued: a fetcher's wait for a job lent this way starts the job on
        the thread that woke, with no hand-over between threads. ``call`` must not
        raise. ``False`` (and nothing done) when no thread is idle."""
        with self._work:
            if self._closing or self._sync or self._idle_threads <= len(self._lent):
                return False
            self._lent.append(call)
            self._work.notify()
            return True

    def take_unstarted(self) -> list[Task]:
        """Remove and return every task not started yet (to release them)."""
        with self._lock:
            tasks = [*self._sync, *self._async]
            self._sync.clear()
            self._async.clear()
            self._changed.notify_all()
        return tasks

    # -- flow: timeouts and cancellation ------------------------------------------------

    def running_tasks(self) -> list[Task]:
        """The tasks running now, abandoned ones left out."""
        with self._lock:
            return [t for slot, t in self._current.items() if slot not in self._lost]

    def held_tasks(self) -> list[Task]:
        """The tasks running or queued here (a cancel reaches a queued one too: it
        stops as it starts)."""
        with self._lock:
            return [*self._current.values(), *self._sync, *self._async]

    def abandon(self, task: Task) -> bool:
        """Give up on a running task that never returns: its slot counts as lost and
        its eventual result is dropped by the caller. ``False`` if it ended already."""
        with self._changed:
            for slot, running in self._current.items():
                if running is task and slot not in self._lost:
                    self._lost.add(slot)
                    self._changed.notify_all()
                    return True
        return False

    @property
    def lost_slots(self) -> int:
        """How many slots abandoned jobs still hold."""
        with self._lock:
            return len(self._lost)

    def _occupy(self, slot: int, task: Task) -> None:
        with self._lock:
            self._current[slot] = task

    def _vacate(self, slot: int) -> None:
        with self._lock:
            self._current.pop(slot, None)
            self._lost.discard(slot)

    def cancel_async(self) -> None:
        """Cancel the async jobs still running (the drain timed out)."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(lambda: [t.cancel() for t in list(self._async_tasks)])

    def close(self, timeout: float = 1.0) -> None:
        """Stop the threads and the loop. Threads still running a job (the drain
        gave up on it) are not waited for: they are daemons."""
        with self._work:
            self._closing = True
            self._work.notify_all()
            idle = self._running == 0
        deadline = time.monotonic() + timeout
        if idle:
            for thread in self._threads:
                thread.join(max(0.0, deadline - time.monotonic()))
        loop, loop_thread = self._loop, self._loop_thread
        if loop is not None and loop_thread is not None:
            loop.call_soon_threadsafe(loop.stop)
            loop_thread.join(max(0.0, deadline - time.monotonic()))
            if not loop_thread.is_alive():
                loop.close()

    # -- running ---------------------------------------------------------------------

    def _sync_worker(self, slot: int) -> None:
        while True:
            lent = None
            with self._work:
                while not self._sync and not self._lent and not self._closing:
                    self._idle_threads += 1
                    self._work.wait()
                    self._idle_threads -= 1
                if self._lent:
                    lent = self._lent.popleft()
                elif not self._sync:
                    return
                else:
                    task = self._sync.popleft()
                    self._running += 1
            if lent is not None:
                found = lent()
                if found is None:
                    continue
                task = found
                with self._lock:
                    self._running += 1
            self._run_sync(slot, task)

    def _run_sync(self, slot: int, task: Task) -> None:
        board = self._board
        try:
            if board is not None:
                board.start(slot, task.claimed.id, task.claimed.job_id)
            self._occupy(slot, task)
            try:
                outcome = run(task.job, adapter=self.adapter, stopping=self.stopping)
                result = result_for(task.claimed, outcome, self.adapter)
                task.resumed = is_resumption(outcome)
            except BaseException as exc:  # SystemExit or KeyboardInterrupt from a job
                result = crashed(task.claimed, task.job, exc)
            finally:
                if board is not None:
                    board.clear(slot)
                self._vacate(slot)
            self._done(task, result)
        finally:
            self._finished()

    def _finished(self) -> None:
        with self._changed:
            self._running -= 1
            self.finished_total += 1
            self._changed.notify_all()

    def _event_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=self._run_loop, args=(loop,), name="activejob-loop", daemon=True
                )
                self._loop, self._loop_thread = loop, thread
                thread.start()
            return self._loop

    @staticmethod
    def _run_loop(loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        loop.run_forever()

    def _pump(self) -> None:
        """On the loop: start queued async jobs while slots are free."""
        loop = asyncio.get_running_loop()
        with self._lock:
            while self._async and self._async_running < self.async_concurrency:
                task = self._async.popleft()
                self._async_running += 1
                self._running += 1
                running = loop.create_task(self._run_async(task, self._free_async_slots.pop()))
                self._async_tasks.add(running)
                running.add_done_callback(self._async_tasks.discard)

    async def _run_async(self, task: Task, slot: int) -> None:
        board = self._board
        try:
            if board is not None:
                board.start(slot, task.claimed.id, task.claimed.job_id)
            self._occupy(slot, task)
            try:
                outcome = await arun(task.job, adapter=self.adapter, stopping=self.stopping)
                result = result_for(task.claimed, outcome, self.adapter)
                task.resumed = is_resumption(outcome)
            except asyncio.CancelledError:
                return  # the drain released this job already
            except BaseException as exc:
                result = crashed(task.claimed, task.job, exc)
            finally:
                if board is not None:
                    board.clear(slot)
                self._vacate(slot)
            self._done(task, result)
        finally:
            with self._lock:
                self._async_running -= 1
                self._free_async_slots.append(slot)
            self._finished()
            self._pump()
