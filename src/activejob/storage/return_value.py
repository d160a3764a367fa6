"""Return values kept with succeeded jobs: JSON text, size-capped.

A job class that sets ``keep_return_value = True`` (the ``django.tasks`` bridge does)
has what ``perform`` returned stored with its finished row, as JSON text, so that
another process can read it back (``JobInfo.return_value``, Django's
``TaskResult.return_value``). A value that is not JSON, or is more than
:data:`RETURN_VALUE_LIMIT` bytes of it, fails the job with a
:class:`~activejob.errors.ReturnValueError` saying so: the job's row is kept with
that reason, and nothing is silently dropped or truncated.

Example::

    text = encode_return_value({"total": 42})   # '{"total":42}'
    decode_return_value(text)                   # {'total': 42}
"""

from __future__ import annotations

import json
from typing import Any

from activejob.errors import ReturnValueError

__all__ = ["RETURN_VALUE_LIMIT", "check_return_value", "decode_return_value", "encode_return_value"]

RETURN_VALUE_LIMIT = 1_048_576
"""Bytes of UTF-8 JSON a kept return value may take (1 MiB). Larger results belong
in a table or a file of their own; return a reference to them."""


def encode_return_value(value: Any) -> str:
    """``value`` as compact JSON text, or :class:`ReturnValueError` when it is not
    JSON (NaN and infinities included) or is over :data:`RETURN_VALUE_LIMIT` bytes."""
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise ReturnValueError(f"the return value cannot be kept: it is not JSON ({exc})") from exc
    size = len(text.encode("utf-8"))
    if size > RETURN_VALUE_LIMIT:
        raise ReturnValueError(
            f"the return value cannot be kept: it is {size:,} bytes of JSON, over the "
            f"{RETURN_VALUE_LIMIT:,}-byte limit; store a large result elsewhere and "
            "return a reference to it"
        )
    return text


def decode_return_value(text: str) -> Any:
    """The value :func:`encode_return_value` wrote."""
    return json.loads(text)


def check_return_value(result_id: Any, state: Any, text: object) -> None:
    """What ``Storage.complete`` checks of a result's ``return_value``: JSON text, at
    most :data:`RETURN_VALUE_LIMIT` bytes, on a succeeded result only."""
    if getattr(state, "value", state) != "succeeded":
        raise ValueError(f"only a succeeded result keeps a return value (job {result_id!r})")
    if not isinstance(text, str):
        raise ValueError(f"the return value of job {result_id!r} must be JSON text")
    if len(text) > RETURN_VALUE_LIMIT or len(text.encode("utf-8")) > RETURN_VALUE_LIMIT:
        raise ValueError(f"the return value of job {result_id!r} is over RETURN_VALUE_LIMIT")
