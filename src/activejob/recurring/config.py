"""Recurring tasks from a TOML file: ``activejob worker --recurring schedule.toml``.

One table per task key, with ``job`` (``"package.module:name"`` or
``"package.module.name"``: a Job subclass or an ``@job`` function), ``schedule``
and optionally ``args``, ``kwargs``, ``queue``, ``priority``, ``timezone`` and
``catch_up``::

    [nightly-cleanup]
    job = "myapp.jobs:CleanupJob"
    schedule = "0 3 * * *"
    args = [30]
    timezone = "Europe/Berlin"

Read with the standard library's ``tomllib`` (Python 3.11+) or ``tomli`` before.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

from activejob.errors import ConfigurationError
from activejob.recurring.task import RecurringTask, build_task, register

__all__ = ["load_file", "parse_file", "read_file", "resolve_job"]

_FIELDS = {"job", "schedule", "args", "kwargs", "queue", "priority", "timezone", "catch_up"}

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]


def parse_file(path: str | Path) -> list[RecurringTask]:
    """The tasks a TOML file defines, checked, not registered.

    Raises ``ConfigurationError`` naming the file, the task and what is wrong.

    Example::

        [task.key for task in parse_file("schedule.toml")]
    """
    where = Path(path)
    data = read_file(where)
    found = []
    for key, table in data.items():
        if not isinstance(table, dict):
            raise ConfigurationError(
                f"{where}: {key!r} must be a table ([{key}]) with job and schedule"
            )
        found.append(_task(where, key, table))
    return found


def read_file(path: str | Path) -> dict[str, Any]:
    """The TOML file's tables, unchecked; ``ConfigurationError`` when the file cannot
    be read or is not TOML (the worker command checks its files so, before starting)."""
    where = Path(path)
    try:
        data: dict[str, Any] = tomllib.loads(where.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigurationError(f"cannot read the recurring tasks file {where}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{where} is not valid TOML: {exc}") from exc
    return data


def load_file(path: str | Path) -> list[RecurringTask]:
    """Register every task of a TOML file (replacing tasks of the same keys); returns them.

    Example::

        recurring.load_file("schedule.toml")
    """
    tasks = parse_file(path)
    for task in tasks:
        register(
            task.key,
            task.job_class,
            schedule=task.schedule.text,
            args=task.args,
            kwargs=task.kwargs,
            queue=task.queue,
            priority=task.priority,
            timezone=task.timezone,
            catch_up=task.catch_up,
        )
    return tasks


def _task(where: Path, key: str, table: dict[str, Any]) -> RecurringTask:
    unknown = sorted(set(table) - _FIELDS)
    if unknown:
        raise ConfigurationError(
            f"{where}: [{key}] has unknown field(s) {', '.join(unknown)} "
            f"(known: {', '.join(sorted(_FIELDS))})"
        )
    for needed in ("job", "schedule"):
        if not isinstance(table.get(needed), str):
            raise ConfigurationError(f'{where}: [{key}] needs {needed} = "..." (a string)')
    try:
        return build_task(
            key,
            resolve_job(table["job"]),
            schedule=table["schedule"],
            args=table.get("args", ()),
            kwargs=table.get("kwargs"),
            queue=table.get("queue"),
            priority=table.get("priority"),
            timezone=table.get("timezone", "UTC"),
            catch_up=table.get("catch_up", "latest"),
        )
    except ConfigurationError as exc:
        raise ConfigurationError(f"{where}: {exc}") from exc


def resolve_job(name: str) -> Any:
    """The object ``"package.module:attr"`` (or ``"package.module.attr"``) names,
    imported; ``ConfigurationError`` when it cannot be.

    Example::

        resolve_job("myapp.jobs:CleanupJob")
    """
    module_name, sep, attr = name.partition(":")
    if not sep:
        module_name, _, attr = name.rpartition(".")
    if not module_name or not attr:
        raise ConfigurationError(f"job {name!r}: write it as 'package.module:JobName'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigurationError(f"job {name!r}: cannot import {module_name}: {exc}") from exc
    found = module
    for part in attr.split("."):
        try:
            found = getattr(found, part)
        except AttributeError:
            raise ConfigurationError(f"job {name!r}: {module_name} has no {attr}") from None
    return found
