"""One worker process: a fetcher, an executor, an acker and a heartbeat.

The fetcher claims batches of at most the free execution slots plus a small
prefetch, hands them to the :class:`~.executor.Executor`, and blocks in
``storage.wait`` when there is nothing to claim. Results flow to the
:class:`~.acker.Acker`, which records them a batch per round trip. The
:class:`~.heartbeat.Heartbeat` keeps this worker's jobs its own and recovers
those of dead workers.

Stopping (:meth:`WorkerProcess.stop`, SIGTERM, a first SIGINT) drains: no more
claims; prefetched jobs that have not started are released to ``ready`` at once;
running jobs get ``shutdown_timeout`` seconds to finish; those still running then
are released to ``ready`` too (async ones are cancelled) and the process exits,
so they run again elsewhere without waiting for recovery. A second SIGINT exits
at once; whatever this worker held is then recovered after ``recover_after``.

Emits ``worker_start`` and ``worker_stop`` (``worker_id``) and ``worker_claim``
(``worker_id``, ``jobs``).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import socket
import sys
import threading
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from activejob import _time, events
from activejob.job.execution import abandoned
from activejob.storage.base import ClaimedJob, JobFilter, JobState, Result, Storage
from activejob.storage.handoff import HandsOff
from activejob.worker.acker import Acker
from activejob.worker.board import LostWorker, StartedBoard
from activejob.worker.burst import next_due
from activejob.worker.executor import Executor, Task
from activejob.worker.heartbeat import Heartbeat
from activejob.worker.lending import lend_wait
from activejob.worker.options import WorkerOptions
from activejob.worker.outcomes import Tally, load_job, plural, released, result_for
from activejob.worker.overseer import Overseer
from activejob.worker.retrying import GaveUp, persist
from activejob.worker.signals import SignalRouter

if TYPE_CHECKING:
    from activejob.adapters.base import Adapter

__all__ = ["WorkerProcess", "new_worker_id"]

logger = logging.getLogger("activejob.worker")


def new_worker_id() -> str:
    """A worker id unique across hosts and restarts: ``host:pid:random``."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


RECHECKS = 2
"""Burst mode: claims in a row that may find nothing while ready jobs are listed
(a rate window freeing between a claim and the listing) before the burst ends."""


class WorkerProcess:
    """Claims, runs and records jobs in this process until stopped (or drained, in
    burst mode).

    Example::

        worker = WorkerProcess(storage_of(adapter), WorkerOptions(queues=("default",)))
        worker.run(burst=True)     # returns when nothing is left to do
    """

    def __init__(
        self,
        storage: Storage,
        options: WorkerOptions,
        *,
        adapter: Adapter | None = None,
        worker_id: str | None = None,
        board: StartedBoard | None = None,
        lost: Sequence[LostWorker] = (),
        process_label: str | None = None,
    ) -> None:
        self.storage = storage
        self.adapter = adapter
        """The adapter the storage belongs to, named in the jobs' events."""
        self.options = options
        self.worker_id = worker_id or new_worker_id()
        self.process_label = process_label
        """``process 1 of 2`` under a supervisor, which then sums up a burst; ``None``
        for a worker on its own."""
        self.tally = Tally()
        """How the jobs this worker ran ended (for the line that ends a burst)."""
        self.stopping = threading.Event()
        self._inflight: dict[Any, ClaimedJob] = {}
        self._inflight_lock = threading.Lock()
        self._fatal: BaseException | None = None
        self.acker = Acker(storage, self.worker_id, on_fatal=self._stop_on)
        # Running jobs see the drain through stopping.is_set: a continuation then
        # hands itself back at its next checkpoint instead of running on.
        self.executor = Executor(
            options.threads,
            options.async_concurrency,
            self._finished,
            adapter,
            board,
            stopping=self.stopping.is_set,
        )
        # A supervised process: the board shows its supervisor what it starts, and the
        # processes that died before it are recovered at boot (see board.py).
        self._board, self._lost = board, tuple(lost)
        if board is not None:
            board.publish(self.worker_id)
        self.heartbeat = Heartbeat(storage, self.worker_id, options, self._heartbeat_info)
        self._prefetch = options.prefetch_count
        # A storage that hands new jobs to idle fetchers (Redis): the wait after an
        # empty claim may return jobs, claimed already.
        self._handoff = storage if isinstance(storage, HandsOff) else None
        # flow: timeouts and cancellation. Cancel requests reach running jobs, and a
        # job that outran its timeout is recorded while its thread runs on.
        self.overseer = Overseer(storage, self.worker_id, self.executor, options, self._runaway)
        self.replace_needed = False
        """Set when a job outran its timeout and kept its thread: this process stops
        claiming and exits (with :data:`~.overseer.REPLACE` under a supervisor)."""

    # -- public ----------------------------------------------------------------------

    def run(self, *, burst: bool = False) -> None:
        """Work until stopped; with ``burst``, until nothing is ready, running or due
        within ``burst_horizon``. In the main thread SIGTERM/SIGINT are handled.

        Raises, after draining, an error that no retry can fix (a missing schema;
        results the storage refuses): the jobs this worker still holds are then
        released by recovery once its heartbeats stop."""
        if threading.current_thread() is not threading.main_thread():
            self._work(burst)
            return
        with SignalRouter(on_drain=self.stop, on_kill=self._exit_now) as router:
            # The main thread only waits, so a signal is handled at once even while
            # the fetcher is blocked inside the storage.
            self._run_in_thread(burst, router)

    def stop(self) -> None:
        """Drain and return from :meth:`run` (safe from any thread)."""
        if self.stopping.is_set():
            return
        logger.info("worker %s stopping: draining", self.worker_id)
        self.stopping.set()
        self.executor.wake()
        try:
            self.storage.notify_stop()
        except Exception:
            logger.exception("waking the fetcher failed")

    # -- the run ---------------------------------------------------------------------

    def _run_in_thread(self, burst: bool, router: SignalRouter) -> None:
        failure: list[BaseException] = []
        done = threading.Event()

        def target() -> None:
            try:
                self._work(burst)
            except BaseException as exc:
                failure.append(exc)
            finally:
                done.set()
                router.wake()

        thread = threading.Thread(target=target, name="activejob-fetcher")
        thread.start()
        while not done.is_set():
            router.pause(None)
        thread.join()
        if failure:
            raise failure[0]

    def _work(self, burst: bool) -> None:
        if not self._boot():
            return
        try:
            self._fetch_loop(burst)
        finally:
            self._drain()
        if self._fatal is not None:
            raise self._fatal
        if burst:
            stopped = self.stopping.is_set()
            if self.process_label is None:
                logger.info("burst %s: %s", "stopped" if stopped else "done", self.tally.summary())
            else:
                # Not "burst done": the supervisor says that once, summed over processes.
                logger.info(
                    "worker %s: %s in this process (burst %s)",
                    self.worker_id,
                    self.tally.summary(),
                    "stopped" if stopped else "finished",
                )

    def _stop_on(self, exc: BaseException) -> None:
        """Stop because of an error no retry can fix; :meth:`run` raises it after
        the drain (a supervised process then exits and is restarted)."""
        self._fatal = self._fatal or exc
        self.stop()

    def _boot(self) -> bool:
        options = self.options
        try:
            persist(self.heartbeat.beat, "registering the worker", self.stopping)
            self._recover_lost()
            persist(self.heartbeat.recover, "recovering jobs of dead workers", self.stopping)
        except GaveUp:
            return False
        self.executor.start()
        self.acker.start()
        self.heartbeat.start()
        self.overseer.start()
        logger.info(
            "worker %s started: backend %s, queues %s, imports %s, %s, %s, %d async slots",
            self.worker_id,
            self.storage.describe(),
            ",".join(options.queues),
            ",".join(options.imports) or "(none)",
            self.process_label or "1 process",
            plural(options.threads, "thread"),
            options.async_concurrency,
        )
        events.emit("worker_start", worker_id=self.worker_id, queues=options.queues)
        return True

    def _recover_lost(self) -> None:
        """Release the jobs of the processes that died before this one (raises GaveUp)."""
        for lost in self._lost:
            persist(
                functools.partial(self.heartbeat.recover_worker, lost),
                "recovering the jobs of a dead worker process",
                self.stopping,
            )
        if self._board is not None:
            self._board.mark_recovered()

    def _fetch_loop(self, burst: bool) -> None:
        options = self.options
        confirmed_empty, rechecks = False, 0
        while not self.stopping.is_set():
            room = self.executor.capacity + self._prefetch - self.executor.outstanding
            if room <= 0:
                self._wait_for_room()
                continue
            finished_before = self.executor.finished_total
            claimed_since = _time.now()
            claimed = self._claim(room)
            if claimed is None:
                return
            self._adapt_prefetch(full=len(claimed) == room)
            if claimed:
                confirmed_empty, rechecks = False, 0
                self._dispatch(claimed)
            elif not burst:
                self._wait_for_jobs(options.poll_interval)
            elif self.executor.outstanding or not self.acker.idle():
                self._wait_for_local_work(finished_before)
            elif not confirmed_empty:
                # Everything this worker ran is recorded: claim once more, since a
                # finished job may have enqueued another.
                confirmed_empty = True
            else:
                due_in = self._next_due(claimed_since, recheck=rechecks < RECHECKS)
                if due_in is None:
                    logger.info("worker %s: queues drained (burst)", self.worker_id)
                    return
                rechecks = rechecks + 1 if due_in == 0.0 else 0
                self._wait_for_jobs(min(due_in, options.poll_interval))

    def _adapt_prefetch(self, *, full: bool) -> None:
        """Grow the prefetch while a backlog of short jobs leaves slots idle during each
        claim's round trip; shrink it back once slots stay busy, so slow jobs are not
        hoarded by one process."""
        base, most = self.options.prefetch_count, self.options.max_prefetch_count
        if full and self.executor.starving:
            self._prefetch = min(most, max(1, self._prefetch * 2))
        elif not self.executor.starving:
            self._prefetch = max(base, self._prefetch // 2)

    def _claim(self, room: int) -> list[ClaimedJob] | None:
        """Claim up to ``room`` jobs, retrying a lost connection; ``None`` if stopping."""
        failed = False

        def claim() -> list[ClaimedJob]:
            nonlocal failed
            try:
                return self.storage.claim(self.worker_id, self.options.queues, room)
            except Exception:
                failed = True
                raise

        try:
            claimed = persist(claim, "claiming jobs", self.stopping)
        except GaveUp:
            return None
        if failed:
            self._release_orphans(claimed)
        return claimed

    def _release_orphans(self, claimed: list[ClaimedJob]) -> None:
        """A claim whose reply was lost may have committed: jobs running under this
        worker's id that it does not hold would never be recovered while it lives
        and heartbeats. Give them back."""
        held = {job.id for job in claimed}
        with self._inflight_lock:
            held.update(self._inflight)
        try:
            running = persist(
                lambda: self.storage.list(JobFilter(states=[JobState.RUNNING], limit=None)),
                "listing running jobs",
                self.stopping,
            )
        except GaveUp:
            return
        orphans = [
            Result(info.id, JobState.READY, attempts=info.attempts)
            for info in running
            if info.worker_id == self.worker_id and info.id not in held
        ]
        if orphans:
            logger.warning("releasing %d job(s) claimed by a lost reply", len(orphans))
            self.acker.add_many(orphans)

    def _dispatch(self, claimed: Sequence[ClaimedJob], *, keep: bool = False) -> Task | None:
        """Queue the claimed jobs to run; with ``keep``, the first sync one is
        returned instead, for the calling thread to run."""
        with self._inflight_lock:
            for job in claimed:
                self._inflight[job.id] = job
        events.emit("worker_claim", worker_id=self.worker_id, jobs=claimed)
        kept = None
        for job in claimed:
            loaded = load_job(job)
            if isinstance(loaded, Result):
                self._record(job, loaded)
            elif keep and kept is None and not type(loaded).is_async():
                kept = Task(job, loaded)
            else:
                self.executor.submit(Task(job, loaded))
        return kept

    def _runaway(self, task: Task) -> None:
        """A job went ``timeout_grace`` past its timeout and has not returned: record
        it as timed out now (its rules decide: failed, or a retry); its late return
        is dropped by :meth:`_record`. The thread cannot be stopped, so this process
        stops claiming, finishes its other jobs and exits, to be replaced."""
        outcome = abandoned(task.job, self.adapter)
        result = result_for(task.claimed, outcome, self.adapter)
        control = task.job._activejob_control
        timeout = None if control is None else control.timeout
        logger.error(
            "job %s (%s) ran %gs past its timeout of %gs without reaching a checkpoint: "
            "recorded as %s; its thread cannot be stopped, so worker %s stops claiming, "
            "finishes its other jobs and exits to be replaced",
            task.claimed.job_id,
            task.job.job_class_name,
            self.options.timeout_grace,
            timeout or 0.0,
            result.state.value,
            self.worker_id,
        )
        self.replace_needed = True
        self._record(task.claimed, result)
        self.stop()

    def _finished(self, task: Task, result: Result) -> None:
        self._record(task.claimed, result, resumed=task.resumed)

    def _record(self, claimed: ClaimedJob, result: Result, *, resumed: bool = False) -> None:
        # Exactly one result per claim: a job released by the drain that finishes
        # afterwards must not be recorded again.
        with self._inflight_lock:
            if self._inflight.pop(claimed.id, None) is None:
                return
        self.tally.count(result, resumed=resumed)
        self.acker.add(result)

    # -- waiting, without busy loops -------------------------------------------------

    def _wait_for_room(self) -> None:
        # Full: claim again once half the prefetch has gone to the threads, not at
        # every job that ends (one claim a job, a transaction each on the SQL
        # stores); what is left of the prefetch keeps the threads busy meanwhile.
        # With a prefetch of 0 or 1 this is a free slot, as before.
        limit = self.executor.capacity + self._prefetch - max(1, self._prefetch // 2)
        self.executor.wait_changed(
            lambda: self.stopping.is_set() or self.executor.outstanding <= limit, None
        )

    def _wait_for_local_work(self, finished_before: int) -> None:
        """Burst mode: wait for a running job to end and its result to be recorded."""
        timeout = self.options.poll_interval
        if self.executor.outstanding:
            self.executor.wait_changed(
                lambda: self.stopping.is_set() or self.executor.finished_total != finished_before,
                timeout,
            )
        else:
            self.acker.wait_idle(timeout)

    def _wait_for_jobs(self, timeout: float) -> None:
        if self.stopping.is_set():
            return
        if self._handoff is not None:
            self._wait_for_handoff(self._handoff, timeout)
            return
        with contextlib.suppress(GaveUp):
            persist(
                lambda: self.storage.wait(self.options.queues, max(timeout, 0.0)),
                "waiting for jobs",
                self.stopping,
            )

    def _wait_for_handoff(self, storage: HandsOff, timeout: float) -> None:
        """Wait as an idle fetcher the storage may hand a new job to, claimed; on an
        idle job thread if there is one, which then runs the job (:func:`.lend_wait`)."""
        lend_wait(self.executor, functools.partial(self._receive, storage, timeout))

    def _receive(self, storage: HandsOff, timeout: float, *, keep: bool) -> Task | None:
        """One wait for a hand-off; what is handed over is dispatched (released if the
        worker is stopping by then), the first sync job returned with ``keep``."""
        failed = False

        def wait() -> list[ClaimedJob]:
            nonlocal failed
            try:
                return storage.wait_handoff(self.worker_id, self.options.queues, max(timeout, 0))
            except Exception:
                failed = True
                raise

        try:
            handed = persist(wait, "waiting for jobs", self.stopping)
        except GaveUp:
            return None  # whatever a lost reply handed over is released by unregistering
        if failed:  # as after a claim: a lost reply may have handed a job over
            self._release_orphans(handed)
        if not handed:
            return None
        if self.stopping.is_set():
            self.acker.add_many([released(job) for job in handed])
            return None
        return self._dispatch(handed, keep=keep)

    def _next_due(self, claimed_since: float, *, recheck: bool = True) -> float | None:
        """Burst mode: seconds to wait for more work, or ``None`` (see :func:`.burst.next_due`)."""
        return next_due(self.storage, self.options, self.stopping, claimed_since, recheck=recheck)

    # -- stopping --------------------------------------------------------------------

    def _drain(self) -> None:
        options = self.options
        unstarted = self.executor.take_unstarted()
        for task in unstarted:
            self._record(task.claimed, released(task.claimed))
        if unstarted:
            logger.info(
                "released %s that had not started", plural(len(unstarted), "prefetched job")
            )
        running = self.executor.outstanding
        if running:
            logger.info(
                "worker %s draining: waiting up to %gs for %s",
                self.worker_id,
                options.shutdown_timeout,
                plural(running, "running job"),
            )
        if not self.executor.wait_idle(options.shutdown_timeout):
            self.executor.cancel_async()
            with self._inflight_lock:
                leftovers, self._inflight = list(self._inflight.values()), {}
            self.acker.add_many([released(job) for job in leftovers])
            logger.warning(
                "worker %s drain timed out after %gs: released %s to run again: %s",
                self.worker_id,
                options.shutdown_timeout,
                plural(len(leftovers), "running job"),
                ", ".join(job.job_id for job in leftovers),
            )
        elif running:
            logger.info("worker %s drained: %s finished", self.worker_id, plural(running, "job"))
        self.overseer.stop()
        recorded = self.acker.close(timeout=max(options.shutdown_timeout, 5.0))
        self.heartbeat.stop()
        self.executor.close()
        if recorded:
            try:
                self.storage.unregister_worker(self.worker_id)
            except Exception as exc:
                logger.warning("could not unregister worker %s: %s", self.worker_id, exc)
        events.emit("worker_stop", worker_id=self.worker_id)
        logger.info("worker %s stopped", self.worker_id)

    def _exit_now(self) -> None:
        sys.stderr.write(
            f"activejob: worker {self.worker_id} stopping at once (second SIGINT); "
            f"its jobs run again after {self.options.recover_after}s\n"
        )
        sys.stderr.flush()
        os._exit(130)

    def _heartbeat_info(self) -> dict[str, Any]:
        return {
            "hostname": socket.gethostname(),
            "pid": os.getpid(),
            "queues": list(self.options.queues),
            "threads": self.options.threads,
            "running": self.executor.outstanding,
        }
