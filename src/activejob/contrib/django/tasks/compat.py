"""Django's task framework, from Django itself (``django.tasks``, Django >= 6.0) or from
its backport (the ``django-tasks`` package, module ``django_tasks``): the same API.

Everything the backend uses is imported here once, typed ``Any`` (neither package
is type-checked with this project), so the rest of this package reads the same on
either.
"""

from __future__ import annotations

import importlib
from importlib.util import find_spec
from typing import Any

from activejob.errors import ConfigurationError

__all__ = [
    "DEFAULT_TASK_PRIORITY",
    "LOGGER_NAME",
    "ROOT",
    "BaseTaskBackend",
    "InvalidTask",
    "Task",
    "TaskContext",
    "TaskError",
    "TaskResult",
    "TaskResultDoesNotExist",
    "TaskResultStatus",
    "normalize_json",
    "task_backends",
    "task_enqueued",
    "task_finished",
    "task_started",
]


def _root() -> str:
    if find_spec("django") is None:
        raise ConfigurationError("the django.tasks backend needs Django: pip install django")
    if find_spec("django.tasks") is not None:
        return "django.tasks"
    if find_spec("django_tasks") is not None:
        return "django_tasks"
    raise ConfigurationError(
        "the django.tasks backend needs Django >= 6.0, or the backport for older Django: "
        "pip install 'activejob[django]' (which brings django-tasks)"
    )


ROOT = _root()
"""``"django.tasks"`` or ``"django_tasks"``: where the task framework was found."""
LOGGER_NAME = ROOT
"""The logger Django's task framework logs to."""

_package = importlib.import_module(ROOT)
_base = importlib.import_module(f"{ROOT}.base")
_backends = importlib.import_module(f"{ROOT}.backends.base")
_exceptions = importlib.import_module(f"{ROOT}.exceptions")
_signals = importlib.import_module(f"{ROOT}.signals")

BaseTaskBackend: Any = _backends.BaseTaskBackend
Task: Any = _base.Task
TaskContext: Any = _base.TaskContext
TaskError: Any = _base.TaskError
TaskResult: Any = _base.TaskResult
TaskResultStatus: Any = _base.TaskResultStatus
DEFAULT_TASK_PRIORITY: int = _base.DEFAULT_TASK_PRIORITY
task_backends: Any = _package.task_backends
# Named InvalidTask in Django 6 (and newer backports), InvalidTaskError before.
InvalidTask: Any = getattr(_exceptions, "InvalidTask", None) or _exceptions.InvalidTaskError
TaskResultDoesNotExist: Any = _exceptions.TaskResultDoesNotExist
task_enqueued: Any = _signals.task_enqueued
task_started: Any = _signals.task_started
task_finished: Any = _signals.task_finished
normalize_json: Any = (
    importlib.import_module("django.utils.json").normalize_json
    if ROOT == "django.tasks"
    else importlib.import_module("django_tasks.utils").normalize_json
)
