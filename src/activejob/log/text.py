"""The pieces of text our log lines are made of: a job, where it runs, its
arguments, an error, a duration. Pure functions of values, so a line can be
written on the thread that logs it or, later, on a log writer's thread.

Example::

    text.job_text("myapp.ReportJob", "0b6c...")   # 'myapp.ReportJob (Job ID: 0b6c...)'
"""

from __future__ import annotations

import json
import json.encoder
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from activejob.adapters.base import Adapter
    from activejob.job.core import JobCore

Wire = tuple[list[Any], dict[str, Any]]
"""A job's arguments in their JSON form: ``(positional, keyword)``."""


def job_text(job_class: str, job_id: str) -> str:
    """``<class> (Job ID: <id>)``, as every per-job line names its job.

    Example::

        job_text("myapp.ReportJob", "0b6c")  # 'myapp.ReportJob (Job ID: 0b6c)'
    """
    return f"{job_class} (Job ID: {job_id})"


def job_of(job: JobCore) -> str:
    """:func:`job_text` of a job.

    Example::

        job_of(ReportJob(42))
    """
    return f"{job.job_class_name} (Job ID: {job.job_id})"


def place(queue_name: str, adapter_name: str | None) -> str:
    """``<adapter>(<queue>)``, or ``queue <queue>`` when the adapter is not known.

    Example::

        place("reports", "async")  # 'async(reports)'
    """
    if adapter_name is None:
        return f"queue {queue_name}"
    return f"{adapter_name}({queue_name})"


def adapter_name(adapter: Adapter | None) -> str:
    """The adapter's scheme (its class name if it has none).

    Example::

        adapter_name(activejob.config.adapter())  # 'sqlite'
    """
    if adapter is None:
        return "an unknown adapter"
    return adapter.scheme or type(adapter).__name__


def wire_arguments(job: JobCore) -> Wire | None:
    """The arguments as stored (``None`` for a job with ``log_arguments = False``),
    so logging never deserialises (no lookups, no errors moved out of
    ``perform``); a job built for ``perform_now`` with arguments JSON cannot hold
    falls back to their ``repr``.

    Never a list the job's own code can reach: decoding a payload builds new
    containers, and serialising live arguments does too, so a job that changes
    its arguments leaves these as they were when it was logged.

    Example::

        wire_arguments(ReportJob(42, pages=3))  # ([42], {'pages': 3})
    """
    if not getattr(type(job), "log_arguments", True):
        return None
    try:
        return job.serialized_arguments()
    except Exception:
        return [repr(a) for a in job.arguments], {k: repr(v) for k, v in job.kwargs.items()}


def arguments_text(wire: Wire | None) -> str:
    """`` with arguments: 42, "pdf", pages=3`` (empty with no arguments to show).

    Example::

        arguments_text(([42], {"pages": 3}))  # ' with arguments: 42, pages=3'
    """
    if wire is None:
        return ""
    args, kwargs = wire
    # One encode of the list, brackets dropped: the arguments joined by the encoder's ", ".
    if not kwargs:  # the usual case, in one step
        return f" with arguments: {encode(args)[1:-1]}" if args else ""
    parts = [encode(args)[1:-1]] if args else []
    parts += [f"{k}={encode(v)}" for k, v in kwargs.items()]
    return " with arguments: " + ", ".join(parts)


def _encoder() -> Callable[[Any], str]:
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # no C accelerator (PyPy): the encoder's own method
        return json.JSONEncoder(ensure_ascii=False, default=repr).encode
    # What JSONEncoder.encode would build on each call, built once. No circular
    # check (markers None): arguments in their JSON form cannot hold a cycle.
    chunks = make(None, repr, json.encoder.encode_basestring, None, ": ", ", ", False, False, True)
    join = "".join

    def encode(value: Any) -> str:
        return join(chunks(value, 0))

    return encode


encode = _encoder()
"""``json.dumps(value, ensure_ascii=False, default=repr)``, a third of its cost."""


def error(exc: BaseException | None) -> str:
    """``<exception class> (<message>)``.

    Example::

        error(KeyError("id"))  # "KeyError ('id')"
    """
    if exc is None:
        return "an unknown error"
    return f"{class_name(exc)} ({exc})"


def class_name(exc: BaseException) -> str:
    """The exception's class, qualified unless it is a builtin.

    Example::

        class_name(activejob.DeserializationError("x"))  # 'activejob.errors.DeserializationError'
    """
    cls = type(exc)
    return (
        cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
    )


def ms(duration: float | None) -> str:
    """``12.35ms``.

    Example::

        ms(0.01235)  # '12.35ms'
    """
    return f"{(duration or 0.0) * 1000:.2f}ms"


def seconds(wait: Any) -> str:
    """``3.27 seconds``.

    Example::

        seconds(3.27)  # '3.27 seconds'
    """
    return f"{float(wait or 0):g} seconds"


def count(n: int, noun: str) -> str:
    """``1 attempt``, ``2 attempts``.

    Example::

        count(2, "attempt")  # '2 attempts'
    """
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
