"""What happens when ``perform`` raises: ``retry_on``, ``discard_on``, ``rescue_from``.

Rules stack as class decorators (on a ``Job`` subclass or an ``@job`` function) and
are consulted top to bottom, first match wins; then the class's ``@rescue_from``
methods in declaration order; then the parent class's rules. Each rule turns an
exception into a decision value — :class:`RetryDecision`, :class:`DiscardDecision`,
:class:`RescuedDecision` — that the executor (or the worker's storage) applies;
nothing here enqueues anything.

Example::

    @retry_on(TimeoutError, wait=polynomially_longer, attempts=5)
    @discard_on(activejob.DeserializationError)
    class SyncJob(Job):
        def perform(self, account_id): ...
"""

from __future__ import annotations

import inspect
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from activejob import _time, events

if TYPE_CHECKING:
    from activejob.job.core import JobCore

__all__ = [
    "DiscardDecision",
    "RescuedDecision",
    "RetryDecision",
    "discard_on",
    "polynomially_longer",
    "rescue_from",
    "retry_on",
]

T = TypeVar("T")
ExceptionTypes = tuple[type[BaseException], ...]
Wait = float | int | timedelta | Callable[[int], float]

DEFAULT_JITTER = 0.15
_RULES = "_activejob_rules"
_RESCUE_MARK = "__activejob_rescue_from__"


def polynomially_longer(executions: int) -> float:
    """Wait ``executions**4 + 2`` seconds (plus jitter): 3s, 18s, 83s, 258s, 627s, ..."""
    return float(executions**4 + 2)


@dataclass(frozen=True)
class RetryDecision:
    """Run the job again at ``at``, optionally on another queue or priority."""

    at: datetime
    wait: float
    queue: str | None
    priority: int | None
    exception: BaseException


@dataclass(frozen=True)
class DiscardDecision:
    """Drop the job: ``discard_on`` matched, or retries ran out and ``on_exhausted`` handled it."""

    exception: BaseException
    reason: Literal["discard_on", "exhausted"]


@dataclass(frozen=True)
class RescuedDecision:
    """A ``rescue_from`` method handled the exception; its return value is the result."""

    value: Any


Decision = RetryDecision | DiscardDecision | RescuedDecision | None
"""``None`` means no rule handled the exception: the job fails."""


def _describe(exceptions: ExceptionTypes) -> str:
    return "[" + ", ".join(f"{e.__module__}.{e.__qualname__}" for e in exceptions) + "]"


def _check_exceptions(exceptions: tuple[Any, ...], decorator: str) -> ExceptionTypes:
    if not exceptions:
        raise TypeError(f"{decorator}() needs at least one exception class")
    for exc in exceptions:
        if not (isinstance(exc, type) and issubclass(exc, BaseException)):
            raise TypeError(f"{decorator}() takes exception classes, got {exc!r}")
    return exceptions


_WAIT_FORMS = (
    "seconds (an int or float >= 0), a timedelta, activejob.polynomially_longer, "
    "or a callable taking the attempt count and returning seconds"
)


def _check_wait(wait: object) -> None:
    """Refuse a ``wait`` no retry could use, when the rule is declared rather than
    at the first failure, where the error would hide the job's own exception."""
    if wait is polynomially_longer:
        return
    if isinstance(wait, timedelta):
        if wait < timedelta(0):
            raise ValueError(f"retry_on(wait=...) must not be negative, got {wait!r}")
        return
    if isinstance(wait, (int, float)) and not isinstance(wait, bool):
        if not math.isfinite(wait) or wait < 0:
            raise ValueError(f"retry_on(wait=...) must be finite seconds >= 0, got {wait!r}")
        return
    if callable(wait):
        try:
            inspect.signature(wait).bind(1)
        except TypeError:
            raise TypeError(
                f"retry_on(wait={_shown(wait)}): a callable wait is called with one argument, "
                "the attempt count, and must accept it"
            ) from None
        except ValueError:  # no signature to inspect (some builtins): trust it
            pass
        return
    raise TypeError(
        f"retry_on(wait=...) takes {_WAIT_FORMS}; got {_shown(wait)} ({type(wait).__name__})"
    )


def _check_attempts(attempts: object) -> None:
    if attempts == "unlimited" and isinstance(attempts, str):
        return
    if not isinstance(attempts, int) or isinstance(attempts, bool):
        raise TypeError(
            "retry_on(attempts=...) takes a positive int or 'unlimited'; "
            f"got {_shown(attempts)} ({type(attempts).__name__})"
        )
    if attempts < 1:
        raise ValueError(f"retry_on(attempts=...) must be at least 1, got {attempts}")


def _check_jitter(jitter: object) -> None:
    if not isinstance(jitter, (int, float)) or isinstance(jitter, bool):
        raise TypeError(
            "retry_on(jitter=...) takes a number >= 0 (a fraction of the wait); "
            f"got {_shown(jitter)} ({type(jitter).__name__})"
        )
    if not math.isfinite(jitter) or jitter < 0:
        raise ValueError(f"retry_on(jitter=...) must be a finite number >= 0, got {jitter!r}")


def _check_options(queue: object, priority: object, on_exhausted: object) -> None:
    if queue is not None and not isinstance(queue, str):
        raise TypeError(f"retry_on(queue=...) takes a queue name, got {type(queue).__name__}")
    if priority is not None and (not isinstance(priority, int) or isinstance(priority, bool)):
        raise TypeError(f"retry_on(priority=...) takes an int, got {type(priority).__name__}")
    if on_exhausted is not None and not callable(on_exhausted):
        raise TypeError(
            f"retry_on(on_exhausted=...) takes a callable (job, exc), "
            f"got {type(on_exhausted).__name__}"
        )


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


@dataclass(frozen=True)
class RetryRule:
    """``retry_on``: re-enqueue after a wait until ``attempts`` run out."""

    exceptions: ExceptionTypes
    wait: Wait
    attempts: int | Literal["unlimited"]
    queue: str | None
    priority: int | None
    jitter: float
    on_exhausted: Callable[[Any, BaseException], Any] | None

    @property
    def key(self) -> str:
        """The key of ``job.exception_executions`` that counts this rule's attempts."""
        return _describe(self.exceptions)

    def delay(self, executions: int) -> float:
        """Seconds to wait before execution number ``executions + 1``."""
        wait = self.wait
        if wait is polynomially_longer:
            base = float(executions**4)
            return base + self._jitter(base) + 2
        if isinstance(wait, timedelta):
            seconds = wait.total_seconds()
        elif callable(wait):
            return float(wait(executions))
        else:
            seconds = float(wait)
        return seconds + self._jitter(seconds)

    def _jitter(self, delay: float) -> float:
        return random.random() * delay * self.jitter if self.jitter else 0.0

    def handle(self, job: JobCore, exc: BaseException) -> Decision:
        counts = job.exception_executions
        count = counts[self.key] = counts.get(self.key, 0) + 1
        if self.attempts == "unlimited" or count < self.attempts:
            wait = self.delay(count)
            at = _time.from_timestamp(_time.now() + wait)
            return RetryDecision(at, wait, self.queue, self.priority, exc)
        events.emit("retry_stopped", job, exception=exc, executions=count)
        if self.on_exhausted is None:
            return None
        self.on_exhausted(job, exc)
        return DiscardDecision(exc, "exhausted")


@dataclass(frozen=True)
class DiscardRule:
    """``discard_on``: drop the job, calling ``on_discard(job, exc)`` first."""

    exceptions: ExceptionTypes
    on_discard: Callable[[Any, BaseException], Any] | None

    def handle(self, job: JobCore, exc: BaseException) -> Decision:
        if self.on_discard is not None:
            self.on_discard(job, exc)
        return DiscardDecision(exc, "discard_on")


@dataclass(frozen=True)
class RescueRule:
    """``@rescue_from``: call a method of the job with the exception."""

    exceptions: ExceptionTypes
    method: Callable[[Any, BaseException], Any]

    def handle(self, job: JobCore, exc: BaseException) -> Decision:
        return RescuedDecision(self.method(job, exc))


Rule = RetryRule | DiscardRule | RescueRule


def _add_rule(target: T, rule: Rule) -> T:
    cls: Any = getattr(target, "job_class", target)
    if not isinstance(cls, type):
        raise TypeError("retry_on/discard_on decorate a Job subclass or an @job function")
    own: list[Rule] = cls.__dict__.get(_RULES) or []
    # Decorators apply bottom-up; putting each new rule first reads top to bottom.
    setattr(cls, _RULES, [rule, *own])
    return target


def retry_on(
    *exceptions: type[BaseException],
    wait: Wait = 3,
    attempts: int | Literal["unlimited"] = 5,
    queue: str | None = None,
    priority: int | None = None,
    jitter: float = DEFAULT_JITTER,
    on_exhausted: Callable[[Any, BaseException], Any] | None = None,
) -> Callable[[T], T]:
    """Retry the job when ``perform`` raises one of ``exceptions``.

    ``wait`` is seconds, a ``timedelta``, :func:`polynomially_longer` or a callable
    taking the attempt count and returning seconds; ``jitter`` adds up to that
    fraction of the wait at random (not to callables). ``attempts`` counts
    executions that raised one of these exceptions, ``"unlimited"`` never stops.
    When attempts run out, ``on_exhausted(job, exc)`` is called, or the exception
    reaches the backend, which records the job as failed.
    """
    excs = _check_exceptions(exceptions, "retry_on")
    _check_wait(wait)
    _check_attempts(attempts)
    _check_jitter(jitter)
    _check_options(queue, priority, on_exhausted)
    rule = RetryRule(excs, wait, attempts, queue, priority, jitter, on_exhausted)
    return lambda target: _add_rule(target, rule)


def discard_on(
    *exceptions: type[BaseException],
    on_discard: Callable[[Any, BaseException], Any] | None = None,
) -> Callable[[T], T]:
    """Drop the job without failing when ``perform`` raises one of ``exceptions``.

    ``after_discard`` callbacks run; ``on_discard(job, exc)`` runs before them.
    """
    excs = _check_exceptions(exceptions, "discard_on")
    rule = DiscardRule(excs, on_discard)
    return lambda target: _add_rule(target, rule)


def rescue_from(*exceptions: type[BaseException]) -> Callable[[T], T]:
    """Mark a method ``(self, exc)`` that handles these exceptions instead of failing.

    The job then counts as performed; the method's return value is the result.
    """
    excs = _check_exceptions(exceptions, "rescue_from")

    def mark(method: T) -> T:
        setattr(method, _RESCUE_MARK, excs)
        return method

    return mark


def rules_for(cls: type) -> list[Rule]:
    """Every rule of ``cls`` in the order they are consulted."""
    found: list[Rule] = []
    for klass in cls.__mro__:
        found.extend(klass.__dict__.get(_RULES) or ())
        for value in vars(klass).values():
            excs = getattr(value, _RESCUE_MARK, None)
            if excs is not None:
                found.append(RescueRule(excs, value))
    return found


def decide(job: JobCore, exc: BaseException) -> Decision:
    """Apply the first rule of the job's class that matches ``exc``."""
    for rule in rules_for(type(job)):
        if isinstance(exc, rule.exceptions):
            return rule.handle(job, exc)
    return None
