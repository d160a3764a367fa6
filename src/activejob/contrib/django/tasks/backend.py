"""``ActiveJobBackend``: Django's task framework on activejob's storage and worker.

Example::

    # settings.py
    TASKS = {
        "default": {
            "BACKEND": "activejob.contrib.django.tasks.ActiveJobBackend",
            "OPTIONS": {"adapter": "django"},   # any adapter URL; default ACTIVEJOB["ADAPTER"]
        }
    }
"""

from __future__ import annotations

from typing import Any

from activejob.adapters import adapter_class, scheme_of
from activejob.adapters.base import Adapter
from activejob.adapters.cache import resolve_adapter
from activejob.adapters.durable import StorageAdapter, storage_of
from activejob.contrib.django.tasks import compat
from activejob.contrib.django.tasks.bridge import (
    AsyncDjangoTaskJob,
    DjangoTaskJob,
    register_task,
    task_spec,
)
from activejob.contrib.django.tasks.results import BRIDGE_CLASSES, enqueued_result, stored_result
from activejob.errors import ConfigurationError

__all__ = ["ActiveJobBackend", "priority_for"]

OPTIONS = frozenset({"adapter"})
"""The keys ``TASKS[alias]["OPTIONS"]`` may have."""


def priority_for(django_priority: int) -> int:
    """Our priority for Django's: Django runs larger first (-100..100, default 0), we
    run smaller first, so the sign flips: Django's 100 is our -100, its 0 our 0."""
    return -int(django_priority)


class ActiveJobBackend(compat.BaseTaskBackend):  # type: ignore[misc]
    """A ``TASKS`` backend whose tasks are stored by an activejob adapter and run by
    ``manage.py activejob worker``.

    The capability flags are the adapter's: on a durable adapter (``django``,
    ``sqlite:``, ``postgresql:``, ``mysql:``, ``redis:``) ``supports_defer``,
    ``supports_priority`` and ``supports_get_result`` are true; on one that keeps
    no jobs (``inline:``, ``test:``, a bridge) ``supports_get_result`` is false, and
    the others say what that adapter can do. ``async def`` tasks are supported
    everywhere (our worker awaits them on its event loop).
    """

    supports_async_task = True

    def __init__(self, alias: str, params: dict[str, Any]) -> None:
        super().__init__(alias, params)
        unknown = set(self.options) - OPTIONS
        if unknown:
            raise _improperly(
                f"TASKS[{alias!r}]['OPTIONS'] has unknown key(s) {', '.join(sorted(unknown))}; "
                f"the ActiveJobBackend takes {', '.join(sorted(OPTIONS))}"
            )
        self.adapter_setting = _adapter_setting(alias, self.options.get("adapter"))
        try:
            kind = adapter_class(scheme_of(self.adapter_setting))
        except ConfigurationError as exc:
            raise _improperly(f"TASKS[{alias!r}]: {exc}") from exc
        # Honest flags: what this adapter can do, read from its class (building it
        # may need a database connection; Django builds backends while loading apps).
        self.supports_defer = kind.supports_scheduling
        self.supports_priority = kind.supports_priority
        self.supports_get_result = issubclass(kind, StorageAdapter)

    def adapter(self) -> Adapter:
        """The adapter this backend enqueues through (built on first use)."""
        return resolve_adapter(self.adapter_setting)

    def validate_task(self, task: Any) -> None:
        """Django's checks against this backend's flags; a valid task is registered,
        so a worker runs only tasks that were defined (see :mod:`.bridge`)."""
        super().validate_task(task)
        register_task(task)

    def enqueue(self, task: Any, args: Any, kwargs: Any) -> Any:
        """Store the task as a job; returns its ``READY`` ``TaskResult`` (whose ``id``
        is the job's ``job_id``) and sends ``task_enqueued``. Inside
        ``transaction.atomic()`` on the ``django`` adapter the job joins the
        transaction; on other adapters it is enqueued when the transaction commits."""
        self.validate_task(task)
        args = compat.normalize_json(list(args))
        kwargs = compat.normalize_json(dict(kwargs))
        kind = AsyncDjangoTaskJob if _is_async(task.func) else DjangoTaskJob
        job = kind(task_spec(task), args, kwargs)
        job._activejob_adapter_setting = self.adapter_setting
        priority = None if task.priority == compat.DEFAULT_TASK_PRIORITY else task.priority
        job.set(
            queue=task.queue_name,
            priority=None if priority is None else priority_for(priority),
            wait_until=task.run_after,
        )
        job.enqueue()
        result = enqueued_result(task, job, args, kwargs, self.alias)
        compat.task_enqueued.send(type(self), task_result=result)
        return result

    def get_result(self, result_id: str) -> Any:
        """The task's ``TaskResult`` as the storage has it now; ``TaskResultDoesNotExist``
        for an id that names no stored Django task."""
        if not self.supports_get_result:
            return super().get_result(result_id)  # NotImplementedError, as Django says
        info = storage_of(self.adapter()).get(str(result_id))
        if info is None or info.job_class not in BRIDGE_CLASSES:
            raise compat.TaskResultDoesNotExist(result_id)
        return stored_result(info)

    def check(self, **kwargs: Any) -> list[Any]:
        """Django's system checks: the ``django`` adapter needs our app installed."""
        from django.apps import apps  # type: ignore[import-untyped, unused-ignore]
        from django.core import checks  # type: ignore[import-untyped, unused-ignore]

        messages = list(super().check(**kwargs))
        if scheme_of(self.adapter_setting) == "django" and not apps.is_installed(
            "activejob.contrib.django"
        ):
            messages.append(
                checks.Error(
                    f"TASKS[{self.alias!r}] stores tasks with the django adapter, whose "
                    "tables the activejob app's migrations make",
                    hint="add 'activejob.contrib.django' to INSTALLED_APPS",
                    id="activejob.E001",
                )
            )
        return messages


def _adapter_setting(alias: str, value: object) -> str:
    if value is None:
        from activejob.contrib.django.apps import adapter_setting

        return adapter_setting()
    if not isinstance(value, str):
        raise _improperly(f"TASKS[{alias!r}]['OPTIONS']['adapter'] must be an adapter URL")
    return "django://default" if value.lower() in ("django", "django:") else value


def _improperly(message: str) -> Exception:
    from django.core.exceptions import (  # type: ignore[import-untyped, unused-ignore]
        ImproperlyConfigured,
    )

    error: Exception = ImproperlyConfigured(message)
    return error


def _is_async(func: Any) -> bool:
    import inspect

    return inspect.iscoroutinefunction(func)
