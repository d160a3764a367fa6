"""The supervisor: starts worker processes, restarts those that die, forwards signals.

Each child is a fresh interpreter, ``python -m activejob.worker --spec JSON``:
nothing is forked from a process with threads and connections, and each child
imports the job modules itself. A child holds the read end of a pipe from the
supervisor; if the supervisor is killed, the child sees end-of-file and drains.

SIGTERM or a first SIGINT: SIGTERM to every child (each drains), then exit when
all have. A second SIGINT: SIGKILL to every child, exit 130 at once. A child that
exits unexpectedly is restarted after a growing delay; more than
``max_restarts`` unexpected exits within ``restart_window`` seconds stop
everything with status 1. A death while jobs had started is charged to those
jobs instead (each fails after ``--max-crashes``), so poison jobs cannot stop
it. A child that reports a configuration error (status 2) is not restarted: the
supervisor logs its reason once and exits 2. A child that exits with
:data:`~.overseer.REPLACE` and says so in its report (a job outran its timeout
and kept its thread; the child finished its other jobs first) is replaced at
once, no crash counted; the status alone (any process may exit 3) is a death.

Each child also holds the write end of a report pipe: it says there, as it exits,
how its jobs ended and why it could not run, so the supervisor logs one start
line, one error line for a configuration error, one ``burst done`` line summed
over its processes (a process that died takes its counts along) and one
``stopped`` line.

Each child also gets a board (see :mod:`.board`) where it shows which jobs it has
started. When a child dies unexpectedly the supervisor reads it and hands the
dead worker to the replacement, which releases its jobs at once, counting a
crash only on the jobs that had started. A child that dies while the supervisor
stops (or gives up) is not replaced: its jobs wait for recovery by heartbeat,
which counts a crash on each.

Example::

    Supervisor(ChildSpec("sqlite:///jobs.sqlite3", WorkerOptions()), processes=2).run()
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from activejob.storage.options import UrlOptions, mask_password
from activejob.worker.board import LostWorker, StartedBoard
from activejob.worker.options import WorkerOptions
from activejob.worker.outcomes import Tally, plural
from activejob.worker.overseer import REPLACE
from activejob.worker.signals import SignalRouter

__all__ = ["CONFIG_ERROR", "ChildSpec", "Supervisor"]

logger = logging.getLogger("activejob.worker")

CONFIG_ERROR = 2
"""The status a child exits with when it cannot start because of its configuration."""

KILL_GRACE = 10.0
"""Seconds past the shutdown timeout after which a child that has not finished
draining (stuck in a call that never returns) is killed."""


@dataclass(frozen=True)
class ChildSpec:
    """What each child runs: the adapter URL (``None``: the one the job modules or
    ``ACTIVEJOB_ADAPTER`` configure), the options and the mode."""

    adapter: str | None
    options: WorkerOptions
    burst: bool = False
    log_level: int | None = None
    scheduler: bool = True
    """Whether the supervisor runs the recurring-task scheduler (in its first
    process; never in burst mode)."""
    recurring_files: tuple[str, ...] = ()
    """TOML files of recurring tasks (``--recurring``), read by the scheduler."""

    def to_json(
        self,
        parent_fd: int,
        report_fd: int | None = None,
        label: str | None = None,
        board: dict[str, int] | None = None,
        lost: list[LostWorker] | None = None,
        scheduler: bool = False,
    ) -> str:
        """The ``--spec`` argument of a child: ``report_fd`` the pipe it reports on as it
        exits, ``label`` its place among the processes, ``board`` its board's ``fd``
        and ``slots``, ``lost`` the dead workers whose jobs it recovers at boot,
        ``scheduler`` whether it runs the recurring-task scheduler."""
        return json.dumps(
            {
                "scheduler": scheduler and self.scheduler and not self.burst,
                "recurring_files": list(self.recurring_files),
                "adapter": self.adapter,
                "options": self.options.to_dict(),
                "burst": self.burst,
                "log_level": self.log_level,
                "parent_fd": parent_fd,
                "board": board,
                "lost": [dead.to_dict() for dead in lost or ()],
                "report_fd": report_fd,
                "label": label,
            }
        )


class _Child:
    def __init__(self, slot: int) -> None:
        self.slot = slot
        self.proc: subprocess.Popen[bytes] | None = None
        self.pipe: int | None = None
        self.restart_at: float | None = None
        self.done = False
        self.board: StartedBoard | None = None
        self.lost: list[LostWorker] = []
        """Dead workers of this slot whose jobs the next child recovers."""


class Supervisor:
    """Runs ``processes`` worker children until stopped (or, in burst mode, done)."""

    def __init__(
        self,
        spec: ChildSpec,
        processes: int,
        *,
        max_restarts: int = 5,
        restart_window: float = 60.0,
    ) -> None:
        self.spec = spec
        self.children = [_Child(slot) for slot in range(processes)]
        self.max_restarts = max_restarts
        self.restart_window = restart_window
        self.stopping = False
        self.status = 0
        self._kill_at: float | None = None
        self.tally = Tally()
        """How the jobs of the children's bursts ended, summed as each child exits."""
        self.config_error: str | None = None
        """Why a child could not run, when the supervisor stopped for that."""
        self._events: queue.SimpleQueue[tuple[int, int, dict[str, Any]]] = queue.SimpleQueue()
        self._router: SignalRouter | None = None
        self._crashes: deque[float] = deque()
        self._lock = threading.Lock()

    def run(self) -> int:
        """Start the children and watch them; returns the exit status."""
        options = self.spec.options
        logger.info(
            "activejob worker starting: backend %s, queues %s, imports %s, %s, %s each%s",
            describe_url(self.spec.adapter),
            ",".join(options.queues),
            ",".join(options.imports) or "(none)",
            plural(len(self.children), "process", "processes"),
            plural(options.threads, "thread"),
            ", burst" if self.spec.burst else "",
        )
        with SignalRouter(on_drain=self.stop, on_kill=self._kill_now) as router:
            self._router = router
            for child in self.children:
                self._start(child)
            self._watch()
        if self.spec.burst and self.status == 0:
            logger.info(
                "burst %s: %s (%s)",
                "stopped" if self.stopping else "done",
                self.tally.summary(),
                plural(len(self.children), "process", "processes"),
            )
        if self.status:
            logger.warning("supervisor stopped (exit status %d)", self.status)
        else:
            logger.info("supervisor stopped")
        return self.status

    def stop(self) -> None:
        """Ask every child to drain (SIGTERM) and return once they have."""
        with self._lock:
            if self.stopping:
                return
            self.stopping = True
            self._kill_at = time.monotonic() + self.spec.options.shutdown_timeout + KILL_GRACE
            for child in self.children:
                child.restart_at = None
                self._signal(child, signal.SIGTERM)
        count = plural(len(self.children), "worker process", "worker processes")
        logger.info("supervisor stopping: draining %s", count)
        self._wake()

    @property
    def pids(self) -> list[int]:
        """The process ids of the running children."""
        with self._lock:
            return [c.proc.pid for c in self.children if c.proc and c.proc.poll() is None]

    # -- children --------------------------------------------------------------------

    def _start(self, child: _Child) -> None:
        read_end, write_end = os.pipe()
        report_read, report_write = os.pipe()
        label = f"process {child.slot + 1} of {len(self.children)}"
        board, board_fd = self._new_board()
        board_spec = None if board is None else {"fd": board_fd, "slots": board.slots}
        # One scheduler per supervisor, in its first process (restarted with it).
        spec = self.spec.to_json(
            read_end, report_write, label, board_spec, child.lost, scheduler=child.slot == 0
        )
        command = [sys.executable, "-m", "activejob.worker", "--spec", spec]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(_import_path()))
        passed = (read_end, report_write) if board is None else (read_end, report_write, board_fd)
        with self._lock:
            if self.stopping:
                for fd in (*passed, write_end, report_read):
                    os.close(fd)
                if board is not None:
                    board.close()
                return
            child.proc = subprocess.Popen(command, pass_fds=passed, env=env)
            child.pipe = write_end
            child.board = board
            child.restart_at = None
        for fd in passed:
            os.close(fd)
        logger.info("started worker process %d (slot %d)", child.proc.pid, child.slot)
        threading.Thread(
            target=self._reap,
            args=(child.slot, child.proc, report_read),
            name="activejob-reaper",
            daemon=True,
        ).start()

    def _new_board(self) -> tuple[StartedBoard | None, int]:
        slots = self.spec.options.threads + self.spec.options.async_concurrency
        try:
            return StartedBoard.create(slots)
        except OSError as exc:
            logger.warning(
                "no board for the next worker process (%s): if it dies, a crash is counted "
                "on every job it holds",
                exc,
            )
            return None, -1

    def _reap(self, slot: int, proc: subprocess.Popen[bytes], report_fd: int) -> None:
        status = proc.wait()
        # Read only once the child is gone, without waiting for end of file: a process
        # the job forked may still hold the write end. The report (a few kB at most)
        # fits in the pipe's buffer, so the child never blocked writing it.
        os.set_blocking(report_fd, False)
        chunks: list[bytes] = []
        try:
            while chunk := os.read(report_fd, 65536):
                chunks.append(chunk)
        except BlockingIOError:
            pass
        finally:
            os.close(report_fd)
        self._events.put((slot, status, _parse_report(b"".join(chunks))))
        self._wake()

    def _wake(self) -> None:
        if self._router is not None:
            self._router.wake()

    def _watch(self) -> None:
        while True:
            with self._lock:
                live = [c for c in self.children if c.proc is not None]
                pending = [c.restart_at for c in self.children if c.restart_at is not None]
                if self._kill_at is not None and live:
                    pending.append(self._kill_at)
            if not live and not pending:
                return
            self._kill_stuck_children()
            try:
                slot, status, report = self._events.get_nowait()
            except queue.Empty:
                assert self._router is not None
                # Not a blocking get: the main thread must stay where signals reach it.
                self._router.pause(max(0.0, min(pending) - time.monotonic()) if pending else None)
            else:
                self.tally.add(Tally.from_dict(report.get("tally") or {}))
                replace = bool(report.get("replace"))  # flow: timeouts
                self._exited(self.children[slot], status, report.get("error"), replace=replace)
            for child in self.children:
                if child.restart_at is not None and child.restart_at <= time.monotonic():
                    self._start(child)

    def _exited(
        self, child: _Child, status: int, error: str | None = None, *, replace: bool = False
    ) -> None:
        with self._lock:
            pid = child.proc.pid if child.proc else "?"
            child.proc = None
            if child.pipe is not None:
                os.close(child.pipe)
                child.pipe = None
            stopping = self.stopping
        charged = self._read_board(child, pid)
        if stopping:
            # Killed by the SIGTERM it was sent (it had not set up its handlers yet,
            # so it held no jobs) is a clean stop too.
            # A child that found the same configuration error as the first is no news.
            if status not in (0, -signal.SIGTERM) and self.status != CONFIG_ERROR:
                logger.warning(
                    "worker process %s exited with status %d while stopping", pid, status
                )
                self.status = self.status or 1
            return
        if status == 0 and self.spec.burst:
            child.done = True
            return
        if status == CONFIG_ERROR:
            if self.config_error is None:
                self.config_error = error or "a configuration error (see its output above)"
                logger.error("worker process %s cannot run: %s; stopping", pid, self.config_error)
            self.status = CONFIG_ERROR
            self.stop()
            return
        if status == REPLACE and replace:  # flow: timeouts. Not a crash: it asked for it.
            logger.warning(
                "worker process %s exited to be replaced (a job outran its timeout and kept "
                "its thread): starting a fresh one",
                pid,
            )
            child.restart_at = time.monotonic()
            return
        self._restart_later(child, pid, status, charged=charged)

    def _read_board(self, child: _Child, pid: Any) -> bool:
        """Note what the dead child had started, for its replacement to recover;
        whether it had started any job (whose crash count its death then raises)."""
        if child.board is None:
            return False
        reading = child.board.read()
        child.board.close()
        child.board = None
        if reading.recovered:
            child.lost = []  # it recovered those before it; they are done
        lost = reading.lost()
        if lost is not None:
            child.lost.append(lost)
            return bool(lost.started)
        if reading.worker_id is not None:
            logger.warning(
                "worker process %s: which of its jobs had started is unknown; they run "
                "again after --recover-after, a crash counted on each",
                pid,
            )
        return False

    def _restart_later(self, child: _Child, pid: Any, status: int, *, charged: bool) -> None:
        now = time.monotonic()
        # A death while jobs ran is charged to those jobs, and each job is charged at
        # most --max-crashes + 1 times before it fails: poison jobs cannot loop, so
        # their deaths do not count toward giving up (several poison jobs would
        # otherwise stop the whole worker). Deaths with no job running do.
        if not charged:
            self._crashes.append(now)
        while self._crashes and self._crashes[0] < now - self.restart_window:
            self._crashes.popleft()
        how = f"signal {-status}" if status < 0 else f"status {status}"
        if len(self._crashes) > self.max_restarts:
            logger.error(
                "worker process %s died (%s); %d deaths within %.0fs: giving up",
                pid,
                how,
                len(self._crashes),
                self.restart_window,
            )
            self.status = 1
            self.stop()
            return
        delay = min(0.1 * 2 ** (len(self._crashes) - 1), 5.0)
        blame = " while running jobs (each charged a crash)" if charged else ""
        logger.warning("worker process %s died (%s)%s; restarting in %.1fs", pid, how, blame, delay)
        child.restart_at = now + delay

    def _kill_stuck_children(self) -> None:
        if self._kill_at is None or time.monotonic() < self._kill_at:
            return
        self._kill_at = None
        with self._lock:
            for child in self.children:
                if child.proc is not None and child.proc.poll() is None:
                    logger.error(
                        "worker process %d did not finish draining: killing it", child.proc.pid
                    )
                    self._signal(child, signal.SIGKILL)

    def _signal(self, child: _Child, signum: int) -> None:
        if child.proc is not None and child.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                child.proc.send_signal(signum)

    def _kill_now(self) -> None:
        for child in self.children:
            self._signal(child, signal.SIGKILL)
        sys.stderr.write("activejob: supervisor stopping at once (second SIGINT)\n")
        sys.stderr.flush()
        os._exit(130)


def _parse_report(data: bytes) -> dict[str, Any]:
    """A child's report; empty when it died before writing one."""
    try:
        report = json.loads(data) if data else {}
    except ValueError:
        return {}
    return report if isinstance(report, dict) else {}


def describe_url(url: str | None) -> str:
    """An adapter URL for a log line: password masked, a SQLite file as an absolute path."""
    if url is None:
        return "as the job modules or ACTIVEJOB_ADAPTER configure it"
    scheme = url.split(":", 1)[0]
    if scheme == "sqlite":
        options = UrlOptions.parse(url)
        if not options.netloc and options.path:
            query = url.partition("?")[2]
            return f"sqlite:///{os.path.abspath(options.path)}" + (f"?{query}" if query else "")
    return mask_password(url)


def _import_path() -> list[str]:
    """This process's import path beyond the interpreter's own (source trees, the
    current directory), so a child imports the same modules."""
    own = tuple(
        os.path.join(prefix, lib)
        for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix}
        for lib in ("lib", "lib64")
    )
    entries = [os.getcwd() if entry == "" else entry for entry in sys.path]
    return [entry for entry in entries if entry and not entry.startswith(own)]
