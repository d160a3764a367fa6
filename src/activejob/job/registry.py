"""Job classes by name, filled when a subclass is defined.

A payload names its job class; the worker finds it here and nowhere else. Nothing
is ever imported from a name found in a payload: a worker knows the jobs of the
modules it was told to import (``activejob worker --import myapp.jobs``).
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from activejob.errors import ConfigurationError, UnknownJobClassError, shorten

if TYPE_CHECKING:
    from activejob.job.core import JobCore

_classes: dict[str, type[JobCore]] = {}
_lock = threading.Lock()


def job_class_name(cls: type[object]) -> str:
    """The name a payload uses for ``cls``: its module and qualified name."""
    return f"{cls.__module__}.{cls.__qualname__}"


def register(cls: type[JobCore]) -> None:
    """Make ``cls`` findable by its payload name; a redefinition replaces it."""
    with _lock:
        _classes[cls.job_class_name] = cls


BUILTIN_JOB_MODULES = frozenset(
    {"activejob.mail.delivery", "activejob.contrib.django.tasks.bridge"}
)
"""activejob's own modules that define jobs: a worker loads one the first time a
payload names a job in it (a fixed list, never a name taken from a payload)."""


def lookup(name: object) -> type[JobCore]:
    """The job class called ``name``, or :class:`UnknownJobClassError`."""
    cls = _classes.get(name) if isinstance(name, str) else None
    if cls is None and isinstance(name, str) and name.rpartition(".")[0] in BUILTIN_JOB_MODULES:
        importlib.import_module(name.rpartition(".")[0])
        cls = _classes.get(name)
    if cls is None:
        raise UnknownJobClassError(_unknown(name))
    return cls


def _unknown(name: object) -> str:
    """Why ``name`` is not found here, and the fix."""
    quoted = shorten(repr(name))
    if isinstance(name, str) and name.startswith("__main__."):
        return (
            f"unknown job class {quoted}: it was defined in the script that enqueued it "
            "(module __main__), which a worker cannot import: define the job in an "
            "importable module and start the worker with --import MODULE"
        )
    module = name.rpartition(".")[0] if isinstance(name, str) else ""
    example = f"--import {shorten(module)}" if module else "--import MODULE"
    return (
        f"unknown job class {quoted}: no Job subclass of that name is defined in this "
        f"process (is the module that defines it imported? start the worker with {example})"
    )


def registered() -> dict[str, type[JobCore]]:
    """A copy of the registry, for the CLI and tests."""
    with _lock:
        return dict(_classes)


def import_modules(names: Sequence[str]) -> None:
    """Import the modules that define the jobs (``--import``, ``ACTIVEJOB_IMPORTS``),
    which fills this registry; a module that fails raises ``ConfigurationError``.

    The current directory is importable, as it is for ``python -m``. The one
    importer of job modules, for the worker, its child processes and the CLI.

    Example::

        import_modules(["myapp.jobs"])
    """
    if names and "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    for name in names:
        try:
            importlib.import_module(name)
        except Exception as exc:
            raise ConfigurationError(
                f"cannot import job module {name!r}: {type(exc).__name__}: {exc}"
            ) from exc
