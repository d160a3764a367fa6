"""``activejob.Worker``: the Python API of the worker, which the CLI also uses.

One process (``processes=1``) works here, on this process's threads and event
loop; more processes run under a :class:`~.supervisor.Supervisor` that starts
``python -m activejob.worker`` children and restarts those that die.

Example::

    import activejob

    worker = activejob.Worker("sqlite:///jobs.sqlite3", queues="critical,default,*", threads=8)
    worker.run()                    # until SIGTERM / SIGINT / worker.stop()
    worker.run(burst=True)          # until nothing is left to do: tests, scripts, demos
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from activejob.adapters.cache import resolve_adapter
from activejob.adapters.durable import storage_of
from activejob.errors import ConfigurationError
from activejob.job.registry import import_modules
from activejob.worker.options import WorkerOptions, parse_queues
from activejob.worker.outcomes import Tally
from activejob.worker.process import WorkerProcess
from activejob.worker.supervisor import ChildSpec, Supervisor

if TYPE_CHECKING:
    from activejob.adapters.base import Adapter

__all__ = ["Worker"]


class Worker:
    """Runs jobs from a durable backend.

    ``adapter`` is a URL or adapter instance (``None``: the configured one);
    ``queues`` a list or ``"a,b,*"`` in order of preference; ``options`` holds the
    rest (timeouts, prefetch, ...), and the keywords given here override it.

    Example::

        Worker("postgresql://localhost/app", queues=["critical", "*"], processes=2).run()
    """

    def __init__(
        self,
        adapter: str | Adapter | None = None,
        *,
        queues: str | Sequence[str] | None = None,
        threads: int | None = None,
        processes: int = 1,
        imports: Sequence[str] | None = None,
        options: WorkerOptions | None = None,
    ) -> None:
        if processes < 1:
            raise ConfigurationError("a worker needs at least one process")
        overrides: dict[str, Any] = {}
        if queues is not None:
            overrides["queues"] = parse_queues(queues)
        if threads is not None:
            overrides["threads"] = threads
        if imports is not None:
            overrides["imports"] = tuple(imports)
        self.adapter = adapter
        self.processes = processes
        self.options = dataclasses.replace(options or WorkerOptions(), **overrides)
        self._runner: WorkerProcess | Supervisor | None = None
        self._stop_requested = threading.Event()
        self._lock = threading.Lock()

    def run(self, *, burst: bool = False, until_empty: bool = False) -> int:
        """Work until stopped, and return the exit status (0 when all went well).

        ``burst`` (alias ``until_empty``) returns once nothing is ready, nothing is
        running on these queues and nothing is scheduled within ``burst_horizon``;
        :attr:`tally` then says how the jobs it ran ended.

        Raises :class:`ConfigurationError` for a setting no retry can fix (a job
        module that fails to import, a bad URL option, a database that does not
        exist), with one process or several.
        """
        burst = burst or until_empty
        runner: WorkerProcess | Supervisor
        if self.processes > 1:
            spec = ChildSpec(adapter_url(self.adapter), self.options, burst)
            runner = Supervisor(spec, self.processes)
        else:
            import_modules(self.options.imports)
            adapter = resolve_adapter(self.adapter)
            runner = WorkerProcess(storage_of(adapter), self.options, adapter=adapter)
        with self._lock:
            self._runner = runner
            if self._stop_requested.is_set():
                runner.stop()
        if isinstance(runner, Supervisor):
            status = runner.run()
            if runner.config_error is not None:
                raise ConfigurationError(runner.config_error)
            return status
        runner.run(burst=burst)
        return 0

    def stop(self) -> None:
        """Drain a worker running in another thread; :meth:`run` then returns."""
        with self._lock:
            self._stop_requested.set()
            runner = self._runner
        if runner is not None:
            runner.stop()

    @property
    def tally(self) -> Tally:
        """How the jobs this worker ran ended (summed over its processes as each
        exits); empty before :meth:`run`."""
        runner = self._runner
        return Tally() if runner is None else runner.tally

    @property
    def worker_id(self) -> str | None:
        """The id this worker registered under, once running (``processes=1``)."""
        runner = self._runner
        return runner.worker_id if isinstance(runner, WorkerProcess) else None


def adapter_url(adapter: str | Adapter | None) -> str | None:
    """The adapter as a URL for child processes, which cannot share an instance;
    ``None`` lets each child use the configured one."""
    if adapter is None or isinstance(adapter, str):
        return adapter
    raise ConfigurationError(
        "a worker with several processes needs an adapter URL, not an adapter instance"
    )
