"""``async:``: run jobs on a thread pool in this process. Lost when the process exits.

Sync jobs run on ``threads`` worker threads (``async:?threads=8``, default 4);
``async def`` jobs run on one event loop thread. Scheduled jobs are held in memory
until due. Retries are re-enqueued here with their wait (by the job's
``retry_job``). Good for development and for work you can afford to lose; use a
durable backend for the rest.

``join(timeout)`` waits until every job enqueued so far (scheduled ones
included) has finished: for tests and scripts.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qs, urlsplit

from activejob import _time, log
from activejob.adapters.base import Adapter, payload_copy
from activejob.errors import ActiveJobError, ConfigurationError, EnqueueError
from activejob.flow.concurrency import InMemoryLimits, concurrency_slots
from activejob.flow.rate import RateWindow, RateWindows, StoredLimit, rate_limits_of, report_held
from activejob.flow.unique import InMemoryKeys
from activejob.job import registry
from activejob.job.execution import Outcome, arun, run, settle
from activejob.storage.concurrency import ConcurrencySlot

if TYPE_CHECKING:
    from activejob.job.base import Job

logger = logging.getLogger("activejob")


class AsyncAdapter(Adapter):
    """An in-process thread pool with an in-memory schedule."""

    scheme: ClassVar[str] = "async"
    nonblocking: ClassVar[bool] = True

    def __init__(self, threads: int = 4) -> None:
        if threads < 1:
            raise ConfigurationError("async adapter needs at least one thread")
        self.threads = threads
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="activejob-async")
        self._cond = threading.Condition()
        self._scheduled: list[tuple[float, int, dict[str, Any]]] = []
        self._seq = itertools.count()
        self._pending = 0
        self._closed = False
        self._scheduler: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: threading.Thread | None = None
        self._held = threading.local()
        self._keys = InMemoryKeys()  # flow: unique
        # flow: rate limits -- the limits of jobs not yet started, and the logs.
        self._rate_limits: dict[str, list[StoredLimit]] = {}
        self._rate_windows: dict[tuple[str, float], RateWindow] = {}
        # flow: concurrency — limits_concurrency honoured in memory
        self._limits = InMemoryLimits()
        self._limited: dict[str, tuple[int, tuple[ConcurrencySlot, ...]]] = {}

    @classmethod
    def from_url(cls, url: str) -> AsyncAdapter:
        query = parse_qs(urlsplit(url).query)
        try:
            threads = int(query.get("threads", ["4"])[0])
        except ValueError as exc:
            raise ConfigurationError(f"bad threads in {url!r}") from exc
        return cls(threads=threads)

    # -- enqueue side ---------------------------------------------------------------

    def enqueue(self, job: Job) -> None:
        if not self._keys.claim(job, self):  # flow: unique (no replace: it starts at once)
            return
        payload = payload_copy(job)
        self._remember_limits(job)
        self._note_limits(job)
        # Submitting under the lock: shutdown() cannot close the pool between the
        # open check and the submit (the condition's lock is reentrant).
        with self._cond:
            self._check_open()
            self._pending += 1
            self._submit(payload)

    def enqueue_at(self, job: Job, timestamp: float) -> None:
        if not self._keys.claim(job, self):  # flow: unique
            return
        payload = payload_copy(job)
        self._remember_limits(job)
        self._note_limits(job)
        with self._cond:
            self._check_open()
            self._pending += 1
            self._later(lambda: self._schedule(timestamp, payload))

    def _schedule(self, timestamp: float, payload: dict[str, Any]) -> None:
        if self._closed:  # shut down while its enqueue was being reported
            self._dropped_at_shutdown()
            return
        heapq.heappush(self._scheduled, (timestamp, next(self._seq), payload))
        self._ensure_scheduler()
        self._cond.notify_all()

    def _check_open(self) -> None:
        if self._closed:
            raise EnqueueError("the async adapter was shut down")

    # -- the enqueue scope ----------------------------------------------------------

    @contextmanager
    def enqueue_scope(self) -> Iterator[None]:
        """Jobs enqueued on this thread inside the scope (an enqueue and its event)
        are taken at once, so a refusal still raises ``EnqueueError`` there, but
        start only when it ends: the "Enqueued" line comes before "Performing"."""
        if getattr(self._held, "scope", None) is not None:  # nested: the outer one releases
            yield
            return
        scope = _Scope()
        self._held.scope = scope
        try:
            yield
        finally:
            self._held.scope = None
            scope.release(self._cond)

    def _gate(self) -> threading.Event | None:
        scope: _Scope | None = getattr(self._held, "scope", None)
        return None if scope is None else scope.gate

    def _later(self, action: Callable[[], None]) -> None:
        """Do ``action`` (under the lock) now, or when the current scope ends."""
        scope: _Scope | None = getattr(self._held, "scope", None)
        if scope is None:
            action()
        else:
            scope.actions.append(action)

    # -- running --------------------------------------------------------------------

    # flow: rate limits -- honoured in memory: a start is counted when a job is handed
    # to the pool; a job over its limit goes back to the schedule until its window frees.
    def _remember_limits(self, job: Job) -> None:
        limits = rate_limits_of(job)
        if limits:
            with self._cond:
                self._rate_limits[job.job_id] = limits

    def _rate_held(self, payload: dict[str, Any]) -> bool:
        """Whether the job must wait for its rate limit (then it is scheduled again)."""
        limits = self._rate_limits.get(str(payload.get("job_id")))
        if not limits:
            return False
        windows = RateWindows(self._rate_windows, _time.now())
        if windows.admit(limits):
            self._rate_limits.pop(str(payload.get("job_id")), None)
            return False
        until = windows.held_until(limits) or _time.now()
        report_held(str(payload.get("job_id")), limits, until, "async")
        heapq.heappush(self._scheduled, (until, next(self._seq), payload))
        self._ensure_scheduler()
        self._cond.notify_all()
        return True

    def _note_limits(self, job: Job) -> None:
        slots = concurrency_slots(job)
        if slots:
            with self._cond:
                self._limited[job.job_id] = (job.priority or 0, slots)

    def _submit(self, payload: dict[str, Any]) -> None:
        """Start a job counted in ``_pending`` once it holds its concurrency slots
        (a blocked one starts when a slot frees; a discarded one is uncounted)."""
        limited = self._limited.pop(str(payload.get("job_id")), None)
        if limited is None:
            self._start(payload)
            return
        job_id = str(payload.get("job_id"))
        outcome = self._limits.admit(job_id, limited[0], limited[1], lambda: self._start(payload))
        if outcome == "discarded":
            self._uncount()

    def _start(self, payload: dict[str, Any]) -> None:
        """Start a job counted in ``_pending`` (inside an enqueue scope: once it
        ends); if it cannot start, uncount it and raise :class:`EnqueueError`."""
        if self._rate_held(payload):  # flow: rate limits
            return
        try:
            if self._is_async(payload):
                loop = self._event_loop()
                self._later(lambda: self._start_coroutine(loop, payload))
            else:
                gate = self._gate()
                job_id = str(payload.get("job_id"))
                self._pool.submit(self._settle, lambda: self._run_after(gate, payload), job_id)
        except Exception as exc:
            self._uncount()
            raise EnqueueError(f"the async adapter could not start a job: {exc}") from exc

    def _start_coroutine(self, loop: asyncio.AbstractEventLoop, payload: dict[str, Any]) -> None:
        if self._closed:  # shut down while its enqueue was being reported
            self._dropped_at_shutdown()
            return
        try:
            self._keys.started(str(payload.get("job_id")))  # flow: unique
            future = asyncio.run_coroutine_threadsafe(arun(payload, adapter=self), loop)
        except Exception:
            self._uncount()
            raise
        job_id = str(payload.get("job_id"))
        future.add_done_callback(lambda f: self._settle(f.result, job_id))

    def _dropped_at_shutdown(self) -> None:
        self._uncount()
        logger.warning("async adapter shut down before a job it had just taken could start")

    def _run_after(self, gate: threading.Event | None, payload: dict[str, Any]) -> Outcome:
        if gate is not None:
            gate.wait()  # set when the enqueue that submitted this job has been reported
        self._keys.started(str(payload.get("job_id")))  # flow: unique
        return run(payload, adapter=self)

    @staticmethod
    def _is_async(payload: dict[str, Any]) -> bool:
        try:
            return registry.lookup(payload.get("job_class")).is_async()  # type: ignore[attr-defined, no-any-return]
        except ActiveJobError:
            return False

    def _settle(self, outcome_of: Callable[[], Outcome], job_id: str = "") -> None:
        """Apply how a job ended; whatever happens, it is no longer pending (and
        its concurrency slots go to the next blocked jobs)."""
        try:
            try:
                outcome = outcome_of()
            except BaseException as exc:  # cancelled, or SystemExit: no outcome to apply
                logger.error("async job ended without an outcome: %r", exc)
                return
            self._apply(outcome)
        finally:
            starts = self._limits.release(job_id)  # flow: concurrency
            with self._cond:
                for start in starts:
                    start()
            self._uncount()

    def _apply(self, outcome: Outcome) -> None:
        if outcome.job is not None:  # flow: unique
            self._keys.finished(outcome.job.job_id, again=outcome.retry is not None)
        try:
            settle(outcome)
        except Exception as exc:
            if exc is not outcome.exception or outcome.retry is not None:
                logger.exception("could not apply the outcome of a job")
            elif outcome.job is None or not log.installed():
                # A job that ran has its "Error performing" line, traceback included,
                # from activejob.log; only say it here when nothing else will.
                job = outcome.job
                what = f"job {job.job_id}" if job else "a job that could not be loaded"
                logger.error("async %s failed: %r", what, exc, exc_info=exc)

    def _uncount(self) -> None:
        with self._cond:
            self._pending -= 1
            self._cond.notify_all()

    def _event_loop(self) -> asyncio.AbstractEventLoop:
        with self._cond:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="activejob-async-loop", daemon=True
                )
                thread.start()
                self._loop, self._loop_thread = loop, thread
            return self._loop

    def _ensure_scheduler(self) -> None:
        if self._scheduler is None:
            self._scheduler = threading.Thread(
                target=self._schedule_loop, name="activejob-async-scheduler", daemon=True
            )
            self._scheduler.start()

    def _schedule_loop(self) -> None:
        while True:
            with self._cond:
                while not self._closed:
                    if self._scheduled and self._scheduled[0][0] <= _time.now():
                        break
                    delay = self._scheduled[0][0] - _time.now() if self._scheduled else None
                    self._cond.wait(delay)
                if self._closed:
                    return
                _, _, payload = heapq.heappop(self._scheduled)
                try:
                    self._submit(payload)  # under the lock, as in enqueue()
                except EnqueueError:
                    logger.exception("a scheduled async job could not start")

    # -- waiting and stopping -------------------------------------------------------

    def join(self, timeout: float = 10.0) -> None:
        """Wait until every job enqueued so far has finished; ``TimeoutError`` if not
        done within ``timeout`` seconds."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._pending == 0, timeout):
                raise TimeoutError(f"{self._pending} async job(s) still pending after {timeout}s")

    def shutdown(self, *, wait: bool = True) -> None:
        """Stop taking jobs; with ``wait``, let running and ready jobs finish.
        Scheduled jobs that are not yet due are dropped."""
        with self._cond:
            self._closed = True
            dropped = len(self._scheduled)
            self._scheduled.clear()
            self._pending -= dropped
            self._cond.notify_all()
        if dropped:
            logger.warning("async adapter shut down with %d scheduled job(s) dropped", dropped)
        self._pool.shutdown(wait=wait)
        if wait:
            with self._cond:
                self._cond.wait_for(lambda: self._pending <= 0, 30)
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)


class _Scope:
    """One enqueue scope of one thread: the gate its sync jobs wait on, and the
    starts (scheduled jobs, async def jobs) it holds until it ends."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.actions: list[Callable[[], None]] = []

    def release(self, lock: threading.Condition) -> None:
        self.gate.set()
        if not self.actions:
            return
        with lock:
            for action in self.actions:
                try:
                    action()
                except Exception:  # the enqueue has returned: nobody to raise to
                    logger.exception("an async job could not start")
