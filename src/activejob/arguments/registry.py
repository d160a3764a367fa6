"""Which serializer handles which value, and ``register`` / ``unregister``.

Lookup order when encoding a value that is not plain JSON:

1. the built-in serializers, by exact type (``BY_TYPE``);
2. the user's serializers (``custom``), in registration order, ``matches(value)``;
3. the fallbacks (``fallbacks``): ``Enum`` members, then hook serializers
   (GlobalID, installed by ``activejob/__init__.py`` through :func:`add_builtin`;
   the user's ``register(..., builtin=True)``).

Decoding looks the tag up in ``by_name``. The tables are replaced, never mutated,
so readers need no lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar, overload

from activejob.arguments.base import ObjectSerializer
from activejob.arguments.serializers import (
    BigIntSerializer,
    BuiltinSerializer,
    DateSerializer,
    DateTimeSerializer,
    DecimalSerializer,
    EnumSerializer,
    FloatSerializer,
    PathSerializer,
    TimeDeltaSerializer,
    TimeSerializer,
    UUIDSerializer,
)

__all__ = [
    "BY_TYPE",
    "RESERVED",
    "add_builtin",
    "by_name",
    "custom",
    "fallbacks",
    "register",
    "unregister",
]

_CORE: tuple[BuiltinSerializer, ...] = (
    BigIntSerializer(),
    FloatSerializer(),
    DateTimeSerializer(),
    DateSerializer(),
    TimeSerializer(),
    TimeDeltaSerializer(),
    DecimalSerializer(),
    UUIDSerializer(),
    PathSerializer(),
    EnumSerializer(),
)

#: Built-in serializers by the exact type of the value.
BY_TYPE: dict[type[Any], ObjectSerializer] = {t: s for s in _CORE for t in s.types}

#: Tags of the encoding itself (the containers are handled by the codec).
RESERVED: frozenset[str] = frozenset(s.name for s in _CORE) | {
    "tuple",
    "set",
    "frozenset",
    "dict",
}

by_name: dict[str, ObjectSerializer] = {s.name: s for s in _CORE}
custom: tuple[ObjectSerializer, ...] = ()
fallbacks: tuple[ObjectSerializer, ...] = tuple(s for s in _CORE if isinstance(s, EnumSerializer))

_lock = threading.Lock()

_S = TypeVar("_S", bound=ObjectSerializer)


@overload
def register(serializer: type[_S], *, builtin: bool = ...) -> type[_S]: ...
@overload
def register(serializer: _S, *, builtin: bool = ...) -> _S: ...
@overload
def register(serializer: None = ..., *, builtin: bool = ...) -> Callable[[type[_S]], type[_S]]: ...
def register(
    serializer: type[ObjectSerializer] | ObjectSerializer | None = None, *, builtin: bool = False
) -> Any:
    """Make a serializer available to the argument encoding; returns its argument.

    Accepts the class (instantiated without arguments) or an instance, works as a
    class decorator (``@register`` or ``@register(builtin=True)``) and is
    idempotent: registering the same class again (or a new definition of it after
    a module reload) replaces it in place, keeping its position.

        @register
        class MoneySerializer(ObjectSerializer):
            klass = Money
            ...

    ``builtin=True`` makes it a fallback, consulted after the user's serializers
    and after ``Enum`` support: meant for hook serializers that define
    ``matches(value)`` (GlobalID, ORM models). Raises ``ValueError`` when another
    serializer already uses the same name, or the name is one of the encoding's.
    """
    if serializer is None:

        def decorator(cls: type[_S]) -> type[_S]:
            return register(cls, builtin=builtin)

        return decorator
    instance = serializer() if isinstance(serializer, type) else serializer
    _check(instance)
    global by_name, custom, fallbacks
    with _lock:
        existing = by_name.get(instance.name)
        if existing is not None and not _same_class(existing, instance):
            raise ValueError(
                f"serializer name {instance.name!r} is already used by {existing!r}; "
                "give one of them another `name`"
            )
        target, other = (fallbacks, custom) if builtin else (custom, fallbacks)
        if existing is not None and existing in target:
            target = tuple(instance if s is existing else s for s in target)
        else:
            target = (*target, instance)
        other = tuple(s for s in other if s is not existing)
        fallbacks, custom = (target, other) if builtin else (other, target)
        by_name = {**by_name, instance.name: instance}
    return serializer


def add_builtin(serializer: ObjectSerializer) -> None:
    """Install a hook serializer of activejob itself (GlobalID), once, at import.

    Like ``register(..., builtin=True)``, but its name joins :data:`RESERVED`: no
    user serializer may take it and ``unregister`` refuses it. Called from the
    wiring block at the end of ``activejob/__init__.py``, so that the argument
    encoding does not import the packages whose values it encodes.
    """
    global by_name, fallbacks, RESERVED
    with _lock:
        if serializer.name in RESERVED:
            return
        RESERVED = RESERVED | {serializer.name}
        by_name = {**by_name, serializer.name: serializer}
        fallbacks = (*fallbacks, serializer)


def unregister(serializer: type[ObjectSerializer] | ObjectSerializer | str) -> None:
    """Remove a serializer (given as class, instance or name); no error if absent."""
    name = serializer if isinstance(serializer, str) else serializer.name
    if name in RESERVED:
        raise ValueError(f"{name!r} is a built-in serializer and cannot be unregistered")
    global by_name, custom, fallbacks
    with _lock:
        existing = by_name.get(name)
        if existing is None:
            return
        by_name = {k: v for k, v in by_name.items() if k != name}
        custom = tuple(s for s in custom if s is not existing)
        fallbacks = tuple(s for s in fallbacks if s is not existing)


def _check(instance: object) -> None:
    if not isinstance(instance, ObjectSerializer):
        raise TypeError(f"{instance!r} is not an ObjectSerializer (class or instance)")
    name = instance.name
    if not isinstance(name, str) or not name:
        raise TypeError(f"{instance!r}: `name` must be a non-empty str")
    if name in RESERVED:
        raise ValueError(f"serializer name {name!r} is reserved by the argument encoding")
    if instance.klass is None and type(instance).matches is ObjectSerializer.matches:
        raise TypeError(f"{instance!r}: set `klass` or define `matches(value)`")


def _same_class(a: ObjectSerializer, b: ObjectSerializer) -> bool:
    """The same serializer class, or the same one defined again (a module reload)."""
    ta, tb = type(a), type(b)
    return ta is tb or (ta.__module__, ta.__qualname__) == (tb.__module__, tb.__qualname__)
