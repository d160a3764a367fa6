"""The serializer protocol: one small class per tagged type.

Every value that is not plain JSON travels as a *tagged object*::

    {"_aj": "<name of its serializer>", "v": <value>, ...}

A serializer names its tag (``name``), says which values it takes (``klass`` or
``matches``) and converts in both directions. Users write ``serialize`` and
``deserialize``; the built-in serializers override ``encode`` / ``decode`` because
they put fields beside ``"v"`` (a time zone, a class name).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from activejob.errors import DeserializationError

__all__ = ["TAG", "Decoder", "Encoder", "ObjectSerializer", "field"]

#: The key that marks a tagged object. A str-keyed dict holding this key is itself
#: written in the tagged ``"dict"`` form, so the marker is never ambiguous.
TAG = "_aj"

#: ``serialize()`` as handed to :meth:`ObjectSerializer.encode` for nested values.
Encoder = Callable[[Any], Any]
#: ``deserialize()`` as handed to :meth:`ObjectSerializer.decode` for nested values.
Decoder = Callable[[Any], Any]

_T = TypeVar("_T")


class ObjectSerializer:
    """Converts instances of one type to JSON and back.

    Subclass it, set ``klass`` and write ``serialize`` / ``deserialize``, then
    register it with :func:`activejob.serializers.register`::

        class MoneySerializer(ObjectSerializer):
            klass = Money

            def serialize(self, value: Money) -> Any:
                return [value.amount, value.currency]   # a Decimal and a str

            def deserialize(self, data: Any) -> Money:
                amount, currency = data                 # already deserialized
                return Money(amount, currency)

    ``serialize`` may return anything the argument encoding supports: its result
    is encoded again (so a ``Decimal`` inside stays a ``Decimal``), and
    ``deserialize`` receives that result already decoded.

    ``name`` is the tag written into the payload; it defaults to the serializer
    class's ``"module.QualName"`` (each subclass gets its own default). Keep it
    stable: jobs already enqueued carry it.

    Instead of ``klass``, a serializer may override ``matches(value) -> bool`` to
    accept values by another rule ("has a ``to_global_id`` method", "is a
    SQLAlchemy model"). Such *hook* serializers are usually registered with
    ``register(..., builtin=True)``: they are consulted after the user's
    serializers, as a fallback, like the built-in ``Enum`` support.

    Advanced: ``encode`` / ``decode`` produce and read the whole tagged object;
    override them only to write fields beside ``"v"``.
    """

    name: ClassVar[str] = "activejob.arguments.base.ObjectSerializer"
    klass: ClassVar[type[Any] | tuple[type[Any], ...] | None] = None
    wraps_errors: ClassVar[bool] = True
    """Whether an exception ``decode`` raises (other than a ``DeserializationError``)
    is reported as a ``DeserializationError``: a ``deserialize`` that fails means
    bad data. A serializer that loads from elsewhere (GlobalID, from a database)
    sets it to ``False``, so that an outage reaches the job's rules as itself."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__:
            cls.name = f"{cls.__module__}.{cls.__qualname__}"

    def matches(self, value: Any) -> bool:
        """Whether this serializer takes ``value``; by default ``isinstance(value, klass)``."""
        klass = self.klass
        return klass is not None and isinstance(value, klass)

    def serialize(self, value: Any) -> Any:
        """Return a supported (JSON-like) representation of ``value``."""
        raise NotImplementedError(f"{type(self).__qualname__} must define serialize()")

    def deserialize(self, data: Any) -> Any:
        """Rebuild the value from what :meth:`serialize` returned (already decoded)."""
        raise NotImplementedError(f"{type(self).__qualname__} must define deserialize()")

    def encode(self, value: Any, serialize: Encoder) -> dict[str, Any]:
        """The tagged object for ``value``; ``serialize`` encodes nested values."""
        return {TAG: self.name, "v": serialize(self.serialize(value))}

    def decode(self, obj: dict[str, Any], deserialize: Decoder) -> Any:
        """The value for the tagged object ``obj``; ``deserialize`` decodes nested values."""
        if "v" not in obj:
            raise DeserializationError(f"malformed {self.name!r} argument: no 'v' field")
        return self.deserialize(deserialize(obj["v"]))

    def __repr__(self) -> str:
        return f"<{type(self).__qualname__} name={self.name!r}>"


def field(obj: dict[str, Any], key: str, kind: type[_T], tag: str) -> _T:
    """``obj[key]``, which must be exactly of type ``kind``, else DeserializationError."""
    value = obj.get(key)
    if type(value) is not kind:
        got = "nothing" if key not in obj else type(value).__name__
        raise DeserializationError(
            f"malformed {tag!r} argument: field {key!r} must be {kind.__name__}, got {got}"
        )
    return value
