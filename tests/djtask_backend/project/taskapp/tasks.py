"""Tasks as a Django user writes them (after the fixtures of Django's own task tests),
found by the worker because this is the ``tasks`` module of an installed app."""

import sys
from typing import Any

from activejob.storage.return_value import RETURN_VALUE_LIMIT

try:  # Django >= 6.0
    from django.tasks import TaskContext, task
except ImportError:  # the django-tasks backport
    from django_tasks import TaskContext, task


@task()
def noop_task(*args: Any, **kwargs: Any) -> None:
    return None


@task()
async def noop_task_async(*args: Any, **kwargs: Any) -> None:
    return None


@task()
def calculate_meaning_of_life() -> int:
    return 42


@task()
async def calculate_meaning_of_life_async() -> int:
    return 42


@task()
def failing_task_value_error() -> None:
    raise ValueError("This task failed due to ValueError")


@task()
def complex_exception() -> None:
    raise ValueError(ValueError("This task failed"))


@task()
def complex_return_value() -> Any:
    # Return something which isn't JSON serializable
    return lambda: True


@task()
def too_large_return_value() -> str:
    return "x" * RETURN_VALUE_LIMIT


@task()
def exit_task() -> None:
    sys.exit(1)


@task(takes_context=True)
def get_task_id(context: TaskContext) -> str:
    return context.task_result.id


@task(takes_context=True)
def test_context(context: TaskContext, attempt: int) -> None:
    assert isinstance(context, TaskContext)
    assert context.attempt == attempt


@task()
def record(label: str, path: str) -> str:
    """Appends ``label`` to the file at ``path``: the order tasks ran in."""
    with open(path, "a") as log:
        log.write(label + "\n")
    return label


def plain_helper(path: str) -> None:
    """Not a task: a payload naming it must not get it called."""
    with open(path, "w") as marker:
        marker.write("called")
