"""A supervisor's child: ``python -m activejob.worker --spec JSON``.

Not for people: the supervisor writes the spec. The child imports the job
modules, opens the storage, and runs one :class:`~.process.WorkerProcess`. It
writes what it starts to the board its supervisor mapped for it, recovers the
processes that died before it (the spec's ``lost``), drains when the
supervisor's pipe closes (the supervisor died), and exits with
:data:`~.supervisor.CONFIG_ERROR` when its configuration cannot work (a job
module that fails to import, a database that does not exist, a bad URL option),
so it is not restarted in a loop. The first process of a supervisor also runs the
recurring-task scheduler on a thread (unless ``--no-scheduler``); a bad
``--recurring`` file is a configuration error like a bad job module.

Before it exits it writes one JSON object to the supervisor's report pipe: the
counts of the jobs it ran (``tally``) and, for a configuration error, its
message (``error``), which the supervisor logs once for all its processes.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any

from activejob import recurring
from activejob.adapters.cache import reset_adapters, resolve_adapter
from activejob.adapters.durable import storage_of
from activejob.errors import ConfigurationError
from activejob.job.registry import import_modules
from activejob.recurring.scheduler import Scheduler
from activejob.storage.base import SchemaError
from activejob.worker import logsink
from activejob.worker.board import LostWorker, StartedBoard
from activejob.worker.options import WorkerOptions
from activejob.worker.outcomes import Tally
from activejob.worker.overseer import REPLACE
from activejob.worker.process import WorkerProcess
from activejob.worker.supervisor import CONFIG_ERROR

logger = logging.getLogger("activejob.worker")


def main(argv: Sequence[str] | None = None) -> int:
    """Run one worker process from a supervisor's spec; returns the exit status."""
    # Held until the worker's handlers are in place (SignalRouter unblocks them):
    # a SIGTERM during start-up then drains instead of killing the process, and
    # threads started meanwhile never receive these signals.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    parser = argparse.ArgumentParser(prog="python -m activejob.worker")
    parser.add_argument("--spec", required=True, help="JSON written by the supervisor")
    spec = json.loads(parser.parse_args(argv).spec)
    if spec.get("log_level") is not None:
        # Written by a thread of its own: job threads never wait on the output.
        logsink.start(
            spec["log_level"], f"%(asctime)s [{os.getpid()}] %(levelname)s %(name)s: %(message)s"
        )
    report = _Report(spec.get("report_fd"))
    try:
        options = WorkerOptions.from_dict(spec["options"])
        import_modules(options.imports)
        adapter = resolve_adapter(spec["adapter"])
        worker = WorkerProcess(
            storage_of(adapter),
            options,
            adapter=adapter,
            process_label=spec.get("label"),
            **_board_of(spec),
        )
    except ConfigurationError as exc:
        return report.config_error(exc)
    parent_fd = spec.get("parent_fd")
    if parent_fd is not None:
        threading.Thread(
            target=_watch_parent, args=(parent_fd, worker), name="activejob-parent", daemon=True
        ).start()
    try:
        scheduler = _start_scheduler(spec, worker)
    except ConfigurationError as exc:
        reset_adapters(wait=False)
        return report.config_error(exc)
    try:
        worker.run(burst=bool(spec.get("burst")))
    except (SchemaError, ConfigurationError) as exc:
        return report.config_error(exc, worker.tally)
    finally:
        if scheduler is not None:
            scheduler.stop()
        reset_adapters(wait=False)  # close pools, so no driver thread holds the exit
    # flow: timeouts. A thread outran its job's timeout: ask to be replaced.
    report.send(worker.tally, replace=worker.replace_needed)
    return REPLACE if worker.replace_needed else 0


def _start_scheduler(spec: dict[str, Any], worker: WorkerProcess) -> Scheduler | None:
    """The recurring-task scheduler, started, when the spec asks this process to run
    it and there are tasks (registered by the job modules, or in the spec's files)."""
    if not spec.get("scheduler"):
        return None
    for path in spec.get("recurring_files", ()):
        recurring.load_file(path)
    tasks = recurring.tasks()
    if not tasks:
        return None
    scheduler = Scheduler(worker.storage, tasks)
    scheduler.start()
    return scheduler


def _board_of(spec: dict[str, Any]) -> dict[str, Any]:
    """The ``board`` and ``lost`` arguments of the worker, from the spec."""
    board = spec.get("board")
    if board is None:
        return {}
    return {
        "board": StartedBoard.attach(board["fd"], board["slots"]),
        "lost": [LostWorker.from_dict(lost) for lost in spec.get("lost", ())],
    }


class _Report:
    """The child's last words to the supervisor, on the pipe the spec names."""

    def __init__(self, fd: int | None) -> None:
        self.fd = fd

    def config_error(self, exc: BaseException, tally: Tally | None = None) -> int:
        """Report a configuration error (on stderr without a supervisor to tell)."""
        if self.fd is None:
            sys.stderr.write(f"activejob worker: {exc}\n")
        self.send(tally or Tally(), error=str(exc))
        return CONFIG_ERROR

    def send(self, tally: Tally, error: str | None = None, *, replace: bool = False) -> None:
        """Write the report (the supervisor reads it as it comes); ``replace``: this
        process exits to be replaced (flow: timeouts)."""
        if self.fd is None:
            return
        report = {"tally": tally.to_dict(), "error": error and error[:4000], "replace": replace}
        data = json.dumps(report).encode()
        with contextlib.suppress(OSError):
            os.write(self.fd, data)
            os.close(self.fd)


def _watch_parent(fd: int, worker: WorkerProcess) -> None:
    """Drain when the supervisor's end of the pipe closes (it died or exited)."""
    try:
        while os.read(fd, 1):
            pass
    except OSError:
        pass
    logger.warning("the supervisor is gone: draining")
    worker.stop()


if __name__ == "__main__":  # pragma: no cover - run through worker/__main__.py
    raise SystemExit(main())
