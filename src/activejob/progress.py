"""A continuation's progress: the :class:`Step` a step's function sees, with its
cursor, and the :class:`Progress` a :class:`~activejob.continuation.Continuable`
job carries in its payload under ``continuation`` (:meth:`Progress.to_json` and
its mirror :meth:`Progress.from_json`).

Import them from :mod:`activejob.continuation` (or ``Step`` from ``activejob``).

Example::

    Progress.from_json({"completed": ["download"], "current": "rows", "cursor": 41,
                        "resumptions": 1}).cursor  # 41
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from activejob import arguments
from activejob.errors import SerializationError

__all__ = ["Progress", "Step", "check_cursor"]

_SCALARS = (str, int, float, bool, type(None))


class Step:
    """One step of a :class:`Continuable` job, as its function sees it.

    ``cursor`` is where the step is: its ``start=`` on the first run, the value
    last saved by :meth:`set` or :meth:`advance` when the step resumes.
    ``resumed`` tells whether it began in an earlier run; ``advanced`` whether
    its cursor moved in this one. The cursor may be any value a job argument may
    be (an int, a str, a datetime, a tuple, a record by GlobalID, ...).

    Example::

        def import_rows(self, step: Step) -> None:
            for row in rows_after(step.cursor):
                save(row)
                step.set(row.id)          # save the cursor; a checkpoint
    """

    __slots__ = ("_check", "_cursor", "_started", "advanced", "name", "resumed")

    def __init__(
        self, name: str, cursor: Any, *, resumed: bool, checkpoint: Callable[[Step], None]
    ) -> None:
        self.name = name
        """The step's name, as given to ``self.step``."""
        self._cursor = cursor
        self.resumed = resumed
        """Whether this step started in an earlier run (its cursor was saved then)."""
        self.advanced = False
        """Whether the cursor moved in this run."""
        self._check = checkpoint
        self._started = time.perf_counter()

    @property
    def cursor(self) -> Any:
        """Where the step is: ``start`` at first, then the last value saved."""
        return self._cursor

    def set(self, value: Any) -> None:
        """Save ``value`` as the cursor, then check whether to stop (a checkpoint).

        Save the cursor *after* the item it names is done: on resume the step
        starts from the saved value. A value that cannot travel in a payload
        raises :class:`~activejob.SerializationError` here.

        Example::

            step.set(row.id)
        """
        check_cursor(self.name, value)
        self._cursor = value
        self.advanced = True
        self._check(self)

    def advance(self, *, from_: int | None = None) -> None:
        """Add one to the cursor (or to ``from_``, then save that), a checkpoint.

        For a cursor that counts: give the step ``start=0`` and call ``advance()``
        after each item; the cursor is then the number of items done.

        Example::

            for index in range(step.cursor, len(items)):
                handle(items[index])
                step.advance()
        """
        base = self._cursor if from_ is None else from_
        if type(base) is not int:
            raise TypeError(
                f"step {self.name!r}: advance() adds one to an int cursor, but the cursor is "
                f"{base!r}; give the step a start (start=0) or pass from_=, or use step.set()"
            )
        self.set(base + 1)

    def checkpoint(self) -> None:
        """Stop here if the worker is stopping (the job is enqueued again and
        resumes this step at its cursor); otherwise return at once.

        ``set`` and ``advance`` check too; call this where a step does long work
        without moving its cursor.

        Example::

            step.checkpoint()
        """
        self._check(self)

    def __repr__(self) -> str:
        return f"<Step {self.name!r} cursor={self._cursor!r}>"


class Progress:
    """How far a :class:`Continuable` job got: the steps it finished, the step it
    is in and that step's cursor, and how often it was resumed. Carried in the
    payload under ``continuation`` (:meth:`to_json` and its mirror :meth:`from_json`).

    Example::

        job.continuation.completed       # ['download']
        job.continuation.current         # 'rows'
    """

    def __init__(
        self,
        completed: list[str] | None = None,
        current: str | None = None,
        cursor: Any = None,
        resumptions: int = 0,
    ) -> None:
        self.completed: list[str] = list(completed or ())
        """Names of the finished steps, in order."""
        self.current = current
        """The step in progress (it started but did not finish), or ``None``."""
        self._cursor_data = cursor  # the encoded cursor of ``current``
        self.resumptions = resumptions
        """How many runs started from saved progress."""
        # This run only:
        self.running: Step | None = None
        """The step whose function is running now, in this process."""
        self._seen: set[str] = set()
        self._finished_now = False

    @property
    def started(self) -> bool:
        """Whether any step has started: the next run resumes."""
        return bool(self.completed) or self.current is not None

    @property
    def advanced(self) -> bool:
        """Whether this run finished a step or moved a cursor (made progress)."""
        return self._finished_now or (self.running is not None and self.running.advanced)

    @property
    def cursor(self) -> Any:
        """The current step's cursor (``None`` when no step is in progress)."""
        if self.running is not None:
            return self.running.cursor
        return arguments.deserialize(self._cursor_data)

    def begin_run(self) -> None:
        """Forget what the last run did in this process (a new execution starts)."""
        self.running = None
        self._seen = set()
        self._finished_now = False

    def to_json(self) -> dict[str, Any]:
        """The ``continuation`` key of the payload."""
        data = self._cursor_data
        if self.running is not None:
            data = arguments.serialize(self.running.cursor)
        return {
            "completed": list(self.completed),
            "current": self.current,
            "cursor": data,
            "resumptions": self.resumptions,
        }

    @classmethod
    def from_json(cls, data: object) -> Progress:
        """Read what :meth:`to_json` wrote; ``None`` (an older payload) is no progress.

        Raises ``TypeError`` for anything else that is not well formed.
        """
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise TypeError(f"'continuation' must be an object, got {type(data).__name__}")
        completed = data.get("completed", [])
        current = data.get("current")
        resumptions = data.get("resumptions", 0)
        if not isinstance(completed, list) or not all(isinstance(n, str) for n in completed):
            raise TypeError("'continuation.completed' must be a list of step names")
        if current is not None and not isinstance(current, str):
            raise TypeError("'continuation.current' must be a step name or null")
        if type(resumptions) is not int or resumptions < 0:
            raise TypeError("'continuation.resumptions' must be a count")
        return cls(completed, current, data.get("cursor"), resumptions)

    def describe(self) -> dict[str, Any]:
        """The fields of the continuation events: ``step``, ``cursor``,
        ``completed``, ``resumptions``."""
        return {
            "step": self.current,
            "cursor": self.cursor,
            "completed": list(self.completed),
            "resumptions": self.resumptions,
        }

    def __repr__(self) -> str:
        return (
            f"<Progress completed={self.completed!r} current={self.current!r} "
            f"resumptions={self.resumptions}>"
        )


def check_cursor(step: str, value: Any) -> None:
    """Refuse (``SerializationError``) a cursor for ``step`` that cannot travel in a payload."""
    if type(value) in _SCALARS:
        return
    try:
        arguments.serialize(value)
    except SerializationError as exc:
        raise SerializationError(f"the cursor of step {step!r}: {exc}") from exc
