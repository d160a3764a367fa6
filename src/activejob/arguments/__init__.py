"""JSON encoding of job arguments (Active Job's ``ActiveJob::Arguments``).

Plain JSON values (None, bool, int, float, str, list, str-keyed dict) are stored
as themselves; every other supported value becomes a tagged object
``{"_aj": "<tag>", "v": ...}``. See ``docs/arguments.md`` for the wire format.

    >>> from activejob.arguments import serialize_arguments, deserialize_arguments
    >>> data = serialize_arguments((1, (2, 3)), {"tags": {"a"}})
    >>> data
    ([1, {'_aj': 'tuple', 'v': [2, 3]}], {'tags': {'_aj': 'set', 'v': ['a']}})
    >>> deserialize_arguments(*data)
    ((1, (2, 3)), {'tags': {'a'}})

Custom types: :mod:`activejob.serializers`.
"""

from __future__ import annotations

from activejob.arguments.codec import (
    deserialize,
    deserialize_arguments,
    serialize,
    serialize_arguments,
)

__all__ = ["deserialize", "deserialize_arguments", "serialize", "serialize_arguments"]
