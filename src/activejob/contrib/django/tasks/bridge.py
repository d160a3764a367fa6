"""The job that runs a Django task in our worker, and the registry of Django tasks.

A Django task enqueued through :class:`~activejob.contrib.django.tasks.ActiveJobBackend`
travels as a :class:`DjangoTaskJob` (or :class:`AsyncDjangoTaskJob` for an
``async def`` task) whose arguments are the task's path, the options it was
enqueued with, and its JSON arguments. The worker runs it like any job: it sends
Django's ``task_started``, calls the task function (with a ``TaskContext`` if the
task takes one), keeps its return value (JSON, at most ``RETURN_VALUE_LIMIT``
bytes) and sends ``task_finished``.

**Security rule.** As with job classes, a payload names a task, it never names code
to import: the path must be a task this process registered, that is one
decorated with ``@task`` (or validated) on an ``ActiveJobBackend``. If it is not
registered yet, the path's module is imported only when it is one the project
declares: the ``tasks`` or ``jobs`` module of an installed app, or a module in
``ACTIVEJOB["IMPORTS"]``; after that import the path must be a registered task.
Anything else (``subprocess.run``, a plain function of a ``tasks`` module, a
module nobody declared) fails the job with :class:`UnregisteredTaskError`, and
nothing is imported or called.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import socket
import threading
from datetime import datetime
from typing import Any

from activejob import _time, events
from activejob.adapters.base import Adapter
from activejob.adapters.cache import resolve_adapter
from activejob.contrib.django.tasks import compat
from activejob.errors import DeserializationError
from activejob.job.base import Job
from activejob.storage.return_value import encode_return_value

__all__ = [
    "AsyncDjangoTaskJob",
    "DjangoTaskJob",
    "UnregisteredTaskError",
    "find_task",
    "register_task",
    "task_spec",
]

_tasks: dict[str, Any] = {}
_lock = threading.Lock()
_worker_id: str | None = None


class UnregisteredTaskError(DeserializationError):
    """A payload names a Django task this worker does not have: not decorated with
    ``@task`` on an ``ActiveJobBackend`` in a module the project declares."""


def register_task(task: Any) -> None:
    """Remember ``task`` (a Django ``Task``) by its module path; done by the backend's
    ``validate_task``, so every task decorated on it is registered when defined."""
    with _lock:
        _tasks[task.module_path] = task


def find_task(path: object) -> Any:
    """The registered task at ``path``, importing its module first only if the project
    declares it (see the module docstring); else :class:`UnregisteredTaskError`."""
    if not isinstance(path, str):
        raise UnregisteredTaskError(f"a Django task path must be a string, got {path!r:.80}")
    task = _tasks.get(path)
    module = path.rpartition(".")[0]
    if task is None and module in _declared_modules():
        importlib.import_module(module)
        task = _tasks.get(path)
    if task is None:
        raise UnregisteredTaskError(
            f"unknown Django task {path[:200]!r}: no @task of that name is defined on an "
            "ActiveJobBackend in this worker (tasks load from the tasks and jobs modules "
            'of installed apps and from ACTIVEJOB["IMPORTS"])'
        )
    return task


def _declared_modules() -> set[str]:
    from django.apps import apps  # type: ignore[import-untyped, unused-ignore]

    from activejob.contrib.django.apps import imports_setting

    names = set(imports_setting())
    for config in apps.get_app_configs():
        names.update((f"{config.name}.tasks", f"{config.name}.jobs"))
    return names


def task_spec(task: Any) -> dict[str, Any]:
    """What a payload keeps of ``task``: its path and the options it was enqueued with
    (Django's own values: priority -100..100, the unprefixed queue name)."""
    run_after = task.run_after
    return {
        "task": task.module_path,
        "priority": task.priority,
        "queue_name": task.queue_name,
        "backend": task.backend,
        "run_after": None if run_after is None else run_after.isoformat(),
    }


_SPEC = {"task": str, "priority": int, "queue_name": str, "backend": str}


def task_of(spec: object) -> Any:
    """The task ``spec`` describes: the registered one, with the options it carries;
    ``DeserializationError`` for a spec that is not one :func:`task_spec` wrote."""
    if not isinstance(spec, dict) or any(
        type(spec.get(key)) is not kind for key, kind in _SPEC.items()
    ):
        raise DeserializationError(f"not a Django task in this job's payload: {spec!r:.200}")
    run_after = spec.get("run_after")
    if run_after is not None and not isinstance(run_after, str):
        raise DeserializationError(f"a Django task's run_after must be ISO text: {run_after!r:.80}")
    task = find_task(spec["task"])
    return dataclasses.replace(
        task,
        priority=spec["priority"],
        queue_name=spec["queue_name"],
        backend=spec["backend"],
        run_after=None if run_after is None else datetime.fromisoformat(run_after),
    )


class DjangoTaskJob(Job):
    """Runs one Django task; enqueued by the backend, never by hand."""

    keep_return_value = True
    _activejob_adapter_setting: str | None = None
    """The backend's adapter (its ``OPTIONS["adapter"]``), for this job's enqueue."""

    def adapter(self) -> Adapter:
        return resolve_adapter(self._activejob_adapter_setting or type(self).queue_adapter)

    def perform(self, spec: Any, args: list[Any], kwargs: dict[str, Any]) -> Any:
        run = _TaskRun(self, spec, args, kwargs)
        try:
            value = run.task.call(*run.call_args, **kwargs)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:
            run.failed(exc)
            raise
        return run.succeeded(value)


class AsyncDjangoTaskJob(DjangoTaskJob):
    """Runs one ``async def`` Django task on the worker's event loop."""

    async def perform(self, spec: dict[str, Any], args: list[Any], kwargs: dict[str, Any]) -> Any:
        run = _TaskRun(self, spec, args, kwargs)
        try:
            value = await run.task.func(*run.call_args, **kwargs)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:
            run.failed(exc)
            raise
        return run.succeeded(value)


class _TaskRun:
    """One run of a task: its ``TaskResult`` as the signals and the context see it."""

    def __init__(self, job: DjangoTaskJob, spec: Any, args: Any, kwargs: Any) -> None:
        self.task = task_of(spec)
        if not isinstance(args, list) or not isinstance(kwargs, dict):
            raise DeserializationError("a Django task's arguments must be a list and an object")
        now = _time.utcnow()
        attempts = max(job.executions, 1)
        self.result = compat.TaskResult(
            task=self.task,
            id=job.job_id,
            status=compat.TaskResultStatus.RUNNING,
            enqueued_at=job.enqueued_at,
            started_at=now,
            finished_at=None,
            last_attempted_at=now,
            args=args,
            kwargs=kwargs,
            backend=self.task.backend,
            errors=[],
            worker_ids=[""] * (attempts - 1) + [current_worker_id()],
        )
        self.call_args: list[Any] = list(args)
        if self.task.takes_context:
            self.call_args.insert(0, compat.TaskContext(task_result=self.result))
        self._send(compat.task_started)

    def succeeded(self, value: Any) -> Any:
        try:
            value = compat.normalize_json(value)
            encode_return_value(value)  # over the limit: the task fails, saying so
        except Exception as exc:
            self.failed(exc)
            raise
        self._set(status=compat.TaskResultStatus.SUCCESSFUL, _return_value=value)
        self._send(compat.task_finished)
        return value

    def failed(self, exc: BaseException) -> None:
        import traceback

        error = compat.TaskError(
            exception_class_path=f"{type(exc).__module__}.{type(exc).__qualname__}",
            traceback="".join(traceback.format_exception(exc)),
        )
        self.result.errors.append(error)
        self._set(status=compat.TaskResultStatus.FAILED)
        self._send(compat.task_finished)

    def _set(self, **fields: Any) -> None:
        fields.setdefault("finished_at", _time.utcnow())
        for name, value in fields.items():
            object.__setattr__(self.result, name, value)  # a frozen dataclass

    def _send(self, signal: Any) -> None:
        sender = type(compat.task_backends[self.task.backend])
        signal.send(sender=sender, task_result=self.result)


def current_worker_id() -> str:
    """The id of the worker running this process's jobs (``host:pid`` outside one)."""
    return _worker_id or f"{socket.gethostname()}:{os.getpid()}"


def _remember_worker(event: events.Event) -> None:
    global _worker_id
    _worker_id = str(event.extra.get("worker_id") or "") or None


events.subscribe("worker_start", _remember_worker)
