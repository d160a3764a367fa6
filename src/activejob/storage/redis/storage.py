"""``RedisStorage``: durable jobs in Redis, with Sidekiq's reliable-fetch semantics.

Each job is a hash; ready jobs wait in a sorted set per queue and priority (scored
by run-at), scheduled ones in one sorted set promoted when due. A claim is one Lua
script that moves up to ``limit`` jobs into the claiming worker's in-progress set
and marks them running; a worker that stops heartbeating has its in-progress jobs
released by :meth:`~activejob.storage.base.Storage.recover`. Idle workers block on a
Pub/Sub subscription (see :mod:`.notifier`), so a job starts as soon as it is
enqueued and a scheduled one as soon as it is due; a worker's fetcher blocks on a
list of its own instead, where a new job is handed to it already claimed (see
:mod:`.handoff`). The key layout is described in
``_lib.lua``; every script is atomic, so nothing is ever half-applied.

A lost connection raises :class:`~activejob.storage.base.StorageUnavailable` after a
short retry (``reconnect_timeout``) where retrying is safe; the worker retries the
call with backoff and the next call reconnects. Claims are not retried here: a
claim whose reply was lost leaves jobs running under the worker's id, which the
worker releases.

Example::

    storage = RedisStorage("redis://localhost:6379/0?prefix=myapp")
    storage.push([NewJob("id-1", "app.Job", "default", 0, payload)])
    jobs = storage.claim("worker-1", ["default"], limit=10)
"""

from __future__ import annotations

import builtins
import dataclasses
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

import redis
from redis.exceptions import RedisError

from activejob import _time, events
from activejob.errors import ConfigurationError
from activejob.flow.rate import decode_limits, report_held
from activejob.storage.base import (
    CANCEL_NOTICE,
    Cancellation,
    ClaimedJob,
    JobFilter,
    JobInfo,
    JobState,
    NewJob,
    QueueInfo,
    Result,
    Storage,
    StorageConfigurationError,
    StorageError,
    StorageUnavailable,
    cancel_error,
    crash_error,
)
from activejob.storage.browse import Activity, BlockedKey, JobPage, JobQuery
from activejob.storage.concurrency import emit_blocked, emit_unblocked, slots_to_json
from activejob.storage.options import mask_password
from activejob.storage.recurring import RecurringTaskInfo, RecurringTaskSpec
from activejob.storage.redis import listing, records, recurring
from activejob.storage.redis.browse import (
    blocked_keys,
    browse,
    finished_activity,
)
from activejob.storage.redis.connection import (
    TRANSIENT,
    RedisSettings,
    is_config_error,
    retrying,
)
from activejob.storage.redis.handoff import Handoff
from activejob.storage.redis.notifier import Notifier
from activejob.storage.redis.scripts import Scripts
from activejob.storage.redis.unique import unique_push_args, unique_push_reply
from activejob.storage.selector import QueuePattern, QueueSelector

T = TypeVar("T")

SCHEMA_VERSION = 1
PUSH_CHUNK = 1000
"""Jobs per script call when pushing many: bounds how long Redis is busy with one."""
PROMOTE_LIMIT = 1000
"""Due scheduled jobs promoted per script call; the rest by the next calls."""
PAGE = 500
"""Jobs per script call when retrying, discarding or pruning many."""
_RETRYABLE = (JobState.FAILED, JobState.DISCARDED)
_DISCARDABLE = (JobState.SCHEDULED, JobState.READY, JobState.BLOCKED, JobState.FAILED)
_COUNT_MARK = 987654321
_CANCEL_SELECTOR = QueueSelector((QueuePattern("exact", CANCEL_NOTICE),))


class RedisStorage(Storage):
    """Jobs in Redis under a key prefix; see the module docstring.

    ``url`` is a ``redis://`` or ``rediss://`` URL whose query may set ``prefix``,
    ``keep_finished`` and ``reconnect_timeout`` (see :class:`.RedisSettings`).
    """

    def __init__(self, url: str = "redis://localhost:6379/0", *, prefix: str | None = None):
        settings = RedisSettings.from_url(url)
        if prefix is not None:
            settings = dataclasses.replace(settings, prefix=prefix)
        self.settings = settings
        self.keep_finished = settings.keep_finished
        self.client: redis.Redis = settings.client()
        self._p = settings.key_prefix
        self._scripts = Scripts(self.client, own_connections=not settings.caps_connections)
        self._notifier = Notifier(self.client, self._p)
        self._handoff = Handoff(self.client, self._scripts, self._p)

    @classmethod
    def from_url(cls, url: str) -> RedisStorage:
        """The storage a ``redis://`` URL describes (as the adapter builds it)."""
        return cls(url)

    def __repr__(self) -> str:
        return f"<RedisStorage prefix={self.settings.prefix!r}>"

    def describe(self) -> str:
        """The server URL (password masked) and the key prefix."""
        return f"{mask_password(self.settings.url)} (prefix {self.settings.prefix})"

    # -- plumbing --------------------------------------------------------------------

    def key(self, *parts: str) -> str:
        """A key under this storage's prefix: ``key("queues")`` is ``"activejob:queues"``."""
        return self._p + ":".join(parts)

    def _call(
        self,
        operation: Callable[[], T],
        *,
        retry: bool = True,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> T:
        """Run ``operation``, retried on a lost connection if ``retry`` (it must then be
        safe to repeat), turning driver errors into storage errors."""
        try:
            if retry:
                return retrying(operation, self.settings.reconnect_timeout, on_error)
            return operation()
        except RedisError as exc:
            if is_config_error(exc):
                where = mask_password(self.settings.url)
                raise StorageConfigurationError(f"{where}: {exc}") from exc
            if isinstance(exc, TRANSIENT):
                raise StorageUnavailable(f"Redis is unreachable: {exc}", unreachable=True) from exc
            raise StorageError(f"Redis refused the operation: {exc}") from exc

    def _script(self, name: str, *args: str | int | float, retry: bool = True) -> Any:
        now = records.stamp(_time.now())
        return self._call(lambda: self._scripts.run(name, [self._p, now, *args]), retry=retry)

    def _transaction(self, build: Callable[[Any], None]) -> builtins.list[Any]:
        """Run the commands ``build`` queues as one MULTI/EXEC."""

        def run() -> builtins.list[Any]:
            pipe = self.client.pipeline(transaction=True)
            build(pipe)
            return pipe.execute()

        return self._call(run)

    def _pipeline(self, build: Callable[[Any], None]) -> builtins.list[Any]:
        def run() -> builtins.list[Any]:
            pipe = self.client.pipeline(transaction=False)
            build(pipe)
            return pipe.execute()

        return self._call(run)

    # -- enqueue side ----------------------------------------------------------------

    def migrate(self) -> None:
        """Record the key layout version, refuse keys written by a newer layout, and
        load the scripts. Redis needs no schema, so a storage works without it."""
        self._call(self._scripts.load_all)
        key = self.key("version")

        def record() -> Any:
            pipe = self.client.pipeline(transaction=False)
            pipe.setnx(key, SCHEMA_VERSION)
            pipe.get(key)
            return pipe.execute()[1]

        found = self._call(record)
        if found is not None and int(found) > SCHEMA_VERSION:
            raise ConfigurationError(
                f"Redis keys under {self.settings.prefix!r} use layout {found}; this "
                f"activejob reads layout {SCHEMA_VERSION}: upgrade activejob"
            )

    def _push(self, jobs: Sequence[NewJob], connection: Any) -> builtins.list[Any]:
        """Store jobs in one pipelined round trip; a call retried after a lost reply
        does not store a job twice."""
        if connection is not None:
            raise TypeError("the Redis storage cannot join a caller's transaction")
        if any(job.unique_key is not None for job in jobs):  # flow: unique
            return self._push_unique(jobs)
        now = records.stamp(_time.now())
        calls = [
            self._push_args(jobs[i : i + PUSH_CHUNK], now) for i in range(0, len(jobs), PUSH_CHUNK)
        ]

        # flow: concurrency -- a batch without limits runs the script without their code
        script = "push" if any(job.concurrency for job in jobs) else "push_unlimited"

        def attempt() -> builtins.list[Any]:
            if len(calls) == 1:
                return [self._scripts.run(script, calls[0])]
            return self._scripts.run_many(script, calls)

        def dedupe_from_now_on(_: BaseException) -> None:
            for args in calls:
                args[2] = "1"

        replies = self._call(attempt, on_error=dedupe_from_now_on)
        sids = [int(s) for reply in replies for s in reply]
        if events.has_subscribers("block"):  # flow: concurrency
            self._announce_blocked(jobs, sids)
        return sids

    def _announce_blocked(self, jobs: Sequence[NewJob], sids: Sequence[int]) -> None:
        """``block`` events for the limited jobs just pushed that got no slot."""
        limited = [(job, sid) for job, sid in zip(jobs, sids, strict=True) if job.concurrency]
        if not limited:
            return

        def build(pipe: Any) -> None:
            for _, sid in limited:
                pipe.hmget(self.key("job", records.sid(sid)), "state", "blocked_by")

        for (job, _), (state, key) in zip(limited, self._pipeline(build), strict=True):
            if state in ("blocked", "discarded") and key:
                emit_blocked(job.job_id, key, discarded=state == "discarded")

    # flow: unique
    def _push_unique(self, jobs: Sequence[NewJob]) -> builtins.list[Any]:
        """Store a batch holding unique jobs with ``push_unique`` (one script call per
        chunk): ids, or a ``Duplicate`` per job whose key another job holds."""
        now = records.stamp(_time.now())
        calls = [
            unique_push_args(self._p, jobs[i : i + PUSH_CHUNK], now)
            for i in range(0, len(jobs), PUSH_CHUNK)
        ]

        def attempt() -> builtins.list[Any]:
            if len(calls) == 1:
                return [self._scripts.run("push_unique", calls[0])]
            return self._scripts.run_many("push_unique", calls)

        def dedupe_from_now_on(_: BaseException) -> None:
            for args in calls:
                args[2] = "1"

        replies = self._call(attempt, on_error=dedupe_from_now_on)
        return [entry for reply in replies for entry in unique_push_reply(reply)]

    def _push_args(self, jobs: Sequence[NewJob], now: str) -> builtins.list[str]:
        args = [self._p, now, "0"]
        for job in jobs:
            run_at = "" if job.run_at is None else records.stamp(job.run_at)
            args += (job.job_id, job.job_class, job.queue_name, str(job.priority), run_at)
            args.append(job.payload)
            args.append(job.rate_limits or "")  # flow: rate limits
            args.append(slots_to_json(job.concurrency) or "")  # flow: concurrency
        return args

    # -- worker side -----------------------------------------------------------------

    def _claim(
        self, worker_id: str, selector: QueueSelector, limit: int
    ) -> builtins.list[ClaimedJob]:
        entries = [str(pattern) for pattern in selector.patterns]
        # From here on, what is announced (a push, notify_stop) wakes the wait that
        # follows an empty claim, as on the SQL storages.
        self._notifier.mark()
        # Not retried: a claim whose reply was lost has moved jobs to this worker.
        reply = self._script("claim", worker_id, limit, PROMOTE_LIMIT, *entries, retry=False)
        rows = [reply[i : i + 7] for i in range(0, len(reply), 7)]
        for row in rows:  # flow: rate limits -- the jobs held back come with an empty sid
            if not row[0]:
                report_held(row[1], decode_limits(row[6]), float(row[4]), worker_id)
        return [records.claimed_job(row) for row in rows if row[0]]

    def _complete(self, results: Sequence[Result]) -> None:
        succeeded: builtins.list[str] = []
        others: builtins.list[str] = []
        for result in results:
            attempts = "" if result.attempts is None else str(result.attempts)
            state = JobState(result.state)
            if state is JobState.SUCCEEDED and result.error is None:
                succeeded += (records.sid(result.id), attempts)
                continue
            error = result.error
            others += (records.sid(result.id), attempts, state.value)
            others += (
                (error.exception_class, error.message, error.traceback) if error else ("",) * 3
            )
            others.append(result.payload or "")
            others.append("" if result.run_at is None else records.stamp(result.run_at))
            others.append(result.queue_name or "")
            others.append("" if result.priority is None else str(result.priority))
        values = [  # results: return values (django.tasks), kept in the same MULTI/EXEC
            (records.sid(r.id), "" if r.attempts is None else str(r.attempts), str(r.return_value))
            for r in results
            if r.return_value is not None
        ]
        if not values:
            reply = self._script("complete", len(succeeded) // 2, *succeeded, *others)
            emit_unblocked(reply[1])  # flow: concurrency
            return
        now = records.stamp(_time.now())
        stored: builtins.list[str | int] = [self._p, now]
        stored += [field for value in values for field in value]
        completed: builtins.list[str | int] = [self._p, now, len(succeeded) // 2]
        completed += [*succeeded, *others]
        replies = self._call(
            lambda: self._scripts.run_atomically(
                [("store_return_values", stored), ("complete", completed)]
            )
        )
        emit_unblocked(replies[1][1])  # flow: concurrency

    def _heartbeat(self, worker_id: str, info: dict[str, Any] | None) -> None:
        now = records.stamp(_time.now())

        def build(pipe: Any) -> None:
            pipe.zadd(self.key("workers"), {worker_id: now})
            pipe.hsetnx(self.key("worker", worker_id), "started_at", now)
            if info is not None:
                pipe.hset(self.key("worker", worker_id), "info", json.dumps(info, default=str))

        self._pipeline(build)

    def unregister_worker(self, worker_id: str) -> None:
        """Forget a worker that stopped; jobs it still holds go back to their queues."""
        self._script("unregister", worker_id)

    def _recover(self, stale_after: float, max_crashes: int) -> tuple[int, int]:
        error = crash_error(_COUNT_MARK, max_crashes)
        before, _, after = error.message.partition(str(_COUNT_MARK))
        stale_before = records.stamp(_time.now() - stale_after)
        reply = self._script(
            "recover", stale_before, max_crashes, error.exception_class, before, after
        )
        emit_unblocked(reply[2])  # flow: concurrency
        return int(reply[0]), int(reply[1])

    def _recover_worker(
        self, worker_id: str, started: builtins.list[Any], max_crashes: int
    ) -> tuple[int, int]:
        error = crash_error(_COUNT_MARK, max_crashes)
        before, _, after = error.message.partition(str(_COUNT_MARK))
        sids = [records.sid(storage_id) for storage_id in started]
        reply = self._script(
            "recover_worker", worker_id, max_crashes, error.exception_class, before, after, *sids
        )
        emit_unblocked(reply[2])  # flow: concurrency
        return int(reply[0]), int(reply[1])

    def _wait(self, selector: QueueSelector, timeout: float) -> bool:
        entries = [str(pattern) for pattern in selector.patterns]
        # Listen before looking, so that an announcement made after the look is heard;
        # a thread that claimed first keeps the mark its claim made.
        self._notifier.listen(keep=True)
        claimable, next_due = self._script("peek", PROMOTE_LIMIT, *entries)
        if int(claimable):
            return True
        if next_due:
            due_in = float(next_due) - _time.now()
            if due_in < timeout:
                # A little past due, so the claim that follows finds the job due.
                self._notifier.wait(selector, max(0.0, due_in) + 0.0005)
                return True
        return self._notifier.wait(selector, timeout)

    def wait_handoff(
        self, worker_id: str, queues: Sequence[str], timeout: float
    ) -> builtins.list[ClaimedJob]:
        """Block as :meth:`wait` does, as the idle fetcher of ``worker_id``: a new job
        for ``queues`` may be handed over already claimed (returned, to run); ``[]``
        after a wake-up or the timeout, when the caller claims next. Call it after an
        empty :meth:`claim` by the same thread. See :mod:`.handoff`."""
        selector = QueueSelector.parse(queues)
        timeout = max(float(timeout), 0.0)
        if not self.settings.handoff or not self._handoff.supported(self._call):
            self._wait(selector, timeout)
            return []
        return self._handoff.wait(
            lambda name, *args: self._script(name, *args, retry=False),
            lambda operation: self._call(operation, retry=False),
            worker_id,
            [str(pattern) for pattern in selector.patterns],
            timeout,
            lambda: self._notifier.heard(selector),
            lambda seconds: self._notifier.wait(selector, seconds),
        )

    # -- flow: cancellation -------------------------------------------------------------

    def _cancel(self, job_id: str) -> Cancellation | None:
        error = cancel_error(running=False)
        reply = self._script("cancel", job_id, CANCEL_NOTICE, error.exception_class, error.message)
        if not reply:
            return None
        outcome, state = (part.decode() if isinstance(part, bytes) else part for part in reply[:2])
        emit_unblocked(reply[2])  # flow: concurrency
        return Cancellation(job_id, cast("Any", outcome), JobState(state))

    def _cancel_requests(self, worker_id: str) -> builtins.list[Any]:
        return [int(sid) for sid in self._script("cancel_requests", worker_id)]

    def _wait_cancel(self, timeout: float) -> bool:
        self._notifier.listen(keep=True)
        return self._notifier.wait(_CANCEL_SELECTOR, timeout)

    def notify_stop(self) -> None:
        """Wake every thread blocked in ``wait`` (those of other workers sharing this
        storage too: they look again and carry on)."""
        self._notifier.wake_all()
        self._call(self._handoff.notify_stop)

    def _prune(self, older_than: float) -> int:  # runs of recurring tasks expire by TTL
        cutoff = records.stamp(_time.now() - older_than)
        total = 0
        while True:
            count = int(self._script("prune", cutoff, PAGE))
            total += count
            if count < PAGE:
                return total

    # -- operating -------------------------------------------------------------------

    def get(self, job_id: str) -> JobInfo | None:
        """The newest stored job with ``job_id``, or ``None``."""
        found = self._script("get", PROMOTE_LIMIT, job_id)[0]
        return records.job_info(found) if found else None

    def _list(self, where: JobFilter) -> builtins.list[JobInfo]:
        return listing.jobs(self, where)

    def _retry(self, where: JobFilter) -> int:
        return self._change(where, _RETRYABLE, "retry")

    def _discard(self, where: JobFilter) -> int:
        return self._change(where, _DISCARDABLE, "discard")

    def _change(self, where: JobFilter, allowed: Sequence[JobState], script: str) -> int:
        """Apply ``script`` to every job matching ``where`` in ``allowed`` states, a page
        at a time (``limit`` and ``offset`` do not apply)."""
        wanted = [JobState(s) for s in where.states] if where.states is not None else allowed
        states = [s for s in allowed if s in wanted]
        if not states:
            return 0
        page_filter = dataclasses.replace(where, states=states, limit=PAGE, offset=0)
        total = 0
        while True:
            found = self._list(page_filter)
            if not found:
                return total
            changed = int(self._script(script, *(records.sid(info.id) for info in found)))
            total += changed
            # Changed jobs leave the listed states, so the next page is again at offset 0.
            # A page that changed nothing lost a race with a worker; one that came back
            # short was the last.
            if changed == 0 or len(found) < PAGE or where.job_ids is not None:
                return total

    def _pause(self, queue_name: str) -> None:
        def build(pipe: Any) -> None:
            pipe.sadd(self.key("paused"), queue_name)
            pipe.sadd(self.key("queues"), queue_name)

        self._pipeline(build)

    def _resume(self, queue_name: str) -> None:
        self._script("resume", queue_name)

    # -- recurring tasks (see .recurring) ----------------------------------------------

    def _declare_recurring(self, tasks: Sequence[RecurringTaskSpec]) -> None:
        recurring.declare(self, tasks)

    def _recurring_tasks(self) -> builtins.list[RecurringTaskInfo]:
        return recurring.tasks(self)

    def _set_recurring_paused(self, key: str, paused: bool) -> bool:
        return recurring.set_paused(self, key, paused)

    def _enqueue_recurring(self, key: str, run_at: int, job: NewJob) -> Any | None:
        return recurring.enqueue(self, key, run_at, job)

    def queues(self) -> builtins.list[QueueInfo]:
        """Every queue with jobs, or paused, by name, with its non-zero counts by state."""
        return listing.queues(self)

    def _browse(self, query: JobQuery) -> JobPage:
        return browse(self, query)

    def _run_now(self, job_id: str) -> int:
        return self._change(JobFilter(job_ids=[job_id]), (JobState.SCHEDULED,), "run_now")

    def _activity(self, since: float, minutes: int) -> Activity:
        return finished_activity(self, since, minutes)

    def _blocked_keys(self, limit: int) -> builtins.list[BlockedKey]:
        return blocked_keys(self, limit)

    def workers(self) -> builtins.list[dict[str, Any]]:
        """Live workers, most recent heartbeat first: id, started and heartbeat times,
        the job ids they run, and the info of their last heartbeat."""
        return listing.workers(self)

    def close(self) -> None:
        """Stop the notification listener and close the connections."""
        self._notifier.close()
        self._scripts.close()
        self.client.close()
