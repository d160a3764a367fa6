"""Reading what a store holds, defensively: every decode of stored text goes here.

A row may have been written by an attacker, a buggy old version or a hand-edited
database: a payload nested deeper than Python's recursion limit, text that is not
JSON, a ``priority`` that is not a number. Decoding such a row must cost that one
job (it is failed with a :class:`~activejob.DeserializationError`), never the
worker, a listing or the operator's command.

Example::

    load_json(row_payload, "the payload of job 0b6c...")   # DeserializationError if hostile
    payload_dict(row_payload)    # for listings: never raises
"""

from __future__ import annotations

import json
from typing import Any

from activejob import _time
from activejob.errors import DeserializationError, shorten
from activejob.storage.base import ErrorInfo, JobState

__all__ = ["Defects", "load_json", "load_object", "payload_dict", "sound_text"]


def load_json(text: object, what: str = "the stored payload") -> Any:
    """``json.loads(text)``, raising only :class:`DeserializationError` for whatever
    a hostile text causes (``RecursionError``, ``ValueError``, ``TypeError``,
    ``UnicodeDecodeError``)."""
    try:
        return json.loads(text)  # type: ignore[arg-type]
    except RecursionError:
        size = len(text) if isinstance(text, (str, bytes, bytearray)) else 0
        raise DeserializationError(
            f"{what} is nested too deeply to decode ({size:,} characters)"
        ) from None
    except (ValueError, TypeError) as exc:  # UnicodeDecodeError is a ValueError
        raise DeserializationError(f"{what} is not valid JSON: {shorten(str(exc))}") from None


def load_object(text: object, what: str = "the stored payload") -> dict[str, Any]:
    """:func:`load_json` for text that must hold a JSON object."""
    value = load_json(text, what)
    if not isinstance(value, dict):
        raise DeserializationError(f"{what} must be a JSON object, got {type(value).__name__}")
    return value


def payload_dict(text: object) -> dict[str, Any]:
    """A stored payload for listings and ``status``: the object it holds, or, for a
    payload that cannot be read, ``{"unreadable_payload": <its start>, "reason": ...}``.
    Never raises."""
    if text is None:
        return {}
    if isinstance(text, dict):
        return text
    try:
        return load_object(text)
    except DeserializationError as exc:
        start = text if isinstance(text, str) else repr(text)
        return {"unreadable_payload": shorten(start), "reason": str(exc)}


def sound_text(text: str) -> bool:
    """Whether ``text`` was decoded from valid UTF-8: the stores read invalid bytes as
    U+FFFD, which the JSON activejob writes never holds unescaped (cheap for ASCII)."""
    return text.isascii() or "\ufffd" not in text


class Defects:
    """Collects the columns of one stored row that do not hold what they must, while
    converting them; :attr:`message` says which (``None`` when the row is sound).

    Example::

        defects = Defects()
        priority = defects.integer("priority", row_priority)
        if defects.message: ...
    """

    def __init__(self) -> None:
        self.found: list[str] = []

    def integer(self, column: str, value: Any, default: int = 0) -> int:
        """``value`` as an int (or the decimal text of one, as Redis keeps it), or
        ``default`` noting the defect."""
        if type(value) is int:
            return value
        if isinstance(value, str) and len(value) < 20:
            try:
                return int(value)
            except ValueError:
                pass
        self._note(column, value, "an integer")
        return default

    def seconds(self, column: str, value: Any, default: float) -> float:
        """``value`` as epoch seconds a datetime can hold, or ``default`` noting the
        defect."""
        if value is not None and not isinstance(value, bool):
            try:
                number = float(value)
                _time.from_timestamp(number)
            except (TypeError, ValueError, OverflowError, OSError):
                pass
            else:
                return number
        self._note(column, value, "a time in epoch seconds")
        return default

    def maybe_time(self, column: str, value: Any) -> Any:
        """``value`` as an aware datetime, ``None`` for ``None`` or a defect."""
        if value is None:
            return None
        seconds = self.seconds(column, value, float("nan"))
        return None if seconds != seconds else _time.from_timestamp(seconds)

    def text(self, column: str, value: Any, default: str = "") -> str:
        """``value`` as a string, or ``default`` noting the defect. Text read from bytes
        that were not UTF-8 (decoded with U+FFFD in their place) is kept, noted."""
        if isinstance(value, str):
            if not sound_text(value):
                self._note(column, value, "valid UTF-8")
            return value
        self._note(column, value, "text")
        return default

    def state(self, value: Any) -> JobState:
        """``value`` as a :class:`JobState`; an unknown one is reported as failed."""
        try:
            return JobState(value)
        except ValueError:
            self._note("state", value, "a job state")
            return JobState.FAILED

    def error(self, found: ErrorInfo | None) -> ErrorInfo | None:
        """The row's stored error, or, for a corrupt row without one, a
        :class:`DeserializationError` saying what is wrong."""
        message = self.message
        if found is not None or message is None:
            return found
        name = f"{DeserializationError.__module__}.{DeserializationError.__qualname__}"
        return ErrorInfo(name, message, "")

    def _note(self, column: str, value: Any, expected: str) -> None:
        self.found.append(f"{column} {shorten(repr(value), 60)} is not {expected}")

    @property
    def message(self) -> str | None:
        """What is wrong with the row, or ``None``."""
        if not self.found:
            return None
        return "the stored row is corrupt: " + "; ".join(self.found)
