"""Encoding and decoding of job arguments: plain JSON passes through, the rest is tagged.

Speed matters (this runs on every enqueue and every perform), so the hot loops
test ``type(x)`` against the plain JSON types inline before calling anything, and
the path of a failing value is only built while its error unwinds.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NoReturn

from activejob.arguments import registry
from activejob.arguments.base import TAG, ObjectSerializer
from activejob.errors import DeserializationError, SerializationError

__all__ = ["deserialize", "deserialize_arguments", "serialize", "serialize_arguments"]

_NoneType = type(None)
# Exact types stored as themselves without any check (int and float need one).
_PASS = frozenset({str, bool, _NoneType})
# Exact types a JSON decoder produces for scalars: they decode to themselves.
_SCALARS = frozenset({str, int, float, bool, _NoneType})
_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1
_BY_TYPE = registry.BY_TYPE
_BIG_INT = registry.by_name["int"]
_FLOAT = registry.by_name["float"]
_HINT = "register a serializer with activejob.serializers.register(...)"
# Checked in this order to explain why a subclass of a supported type is refused.
_SUPPORTED_BASES: tuple[type[Any], ...] = (
    int,
    float,
    str,
    list,
    tuple,
    dict,
    set,
    frozenset,
    *_BY_TYPE,
)


class _Unsupported(Exception):
    """Internal: a value cannot be encoded. Containers add their path segment as it
    unwinds; the public functions turn it into a SerializationError."""

    def __init__(self, value: Any, detail: str = "", cause: BaseException | None = None) -> None:
        super().__init__()
        self.value = value
        self.detail = detail
        self.cause = cause
        self.path: list[str] = []  # innermost segment first


# -- encoding ---------------------------------------------------------------------


def _encode(value: Any) -> Any:
    t = type(value)
    if t is str or t is bool or value is None:
        return value
    if t is int:
        return value if _INT_MIN <= value <= _INT_MAX else _BIG_INT.encode(value, _encode)
    if t is float:
        return value if value - value == 0.0 else _FLOAT.encode(value, _encode)  # finite?
    if t is list:
        return _encode_items(value, "[{}]")
    if t is dict:
        return _encode_dict(value)
    if t is tuple:
        return {TAG: "tuple", "v": _encode_items(value, "[{}]")}
    serializer = _BY_TYPE.get(t)
    if serializer is not None:
        return _encode_with(serializer, value)
    if t is set or t is frozenset:
        return {TAG: t.__name__, "v": _sorted(_encode_items(value, "<element {}>"))}
    for serializer in registry.custom:
        if serializer.matches(value):
            return _encode_with(serializer, value)
    for serializer in registry.fallbacks:
        if serializer.matches(value):
            return _encode_with(serializer, value)
    raise _Unsupported(value)


def _encode_items(items: Iterable[Any], segment: str) -> list[Any]:
    out: list[Any] = []
    append = out.append
    try:
        for item in items:
            t = type(item)
            # Inline copy of _encode's first checks: no call for the plain scalars.
            if (
                t is str
                or t is bool
                or item is None
                or (t is int and _INT_MIN <= item <= _INT_MAX)
                or (t is float and item - item == 0.0)
            ):
                append(item)
            else:
                append(_encode(item))
    except _Unsupported as exc:
        exc.path.append(segment.format(len(out)))
        raise
    return out


def _encode_dict(value: dict[Any, Any]) -> Any:
    if TAG not in value:
        out: dict[str, Any] = {}
        key: Any = None
        try:
            for key, item in value.items():
                if type(key) is not str:
                    break
                t = type(item)
                if (
                    t is str
                    or t is bool
                    or item is None
                    or (t is int and _INT_MIN <= item <= _INT_MAX)
                    or (t is float and item - item == 0.0)
                ):
                    out[key] = item
                else:
                    out[key] = _encode(item)
            else:
                return out
        except _Unsupported as exc:
            exc.path.append(f"[{_short(key)}]")
            raise
    # Keys that are not all str, or the reserved key: ordered [key, value] pairs.
    pairs: list[list[Any]] = []
    for key, item in value.items():
        try:
            encoded_key = _encode(key)
        except _Unsupported as exc:
            exc.path.append(f"<key {len(pairs)}>")
            raise
        try:
            pairs.append([encoded_key, _encode(item)])
        except _Unsupported as exc:
            exc.path.append(f"[{_short(key)}]")
            raise
    return {TAG: "dict", "v": pairs}


def _encode_with(serializer: ObjectSerializer, value: Any) -> Any:
    try:
        return serializer.encode(value, _encode)
    except _Unsupported as exc:
        if serializer.name not in registry.RESERVED:
            exc.path.append(f"<via {serializer.name}>")
        raise
    except SerializationError as exc:
        raise _Unsupported(value, str(exc), exc) from None
    except RecursionError:
        raise
    except Exception as exc:
        detail = f"serializer {serializer.name!r} raised {type(exc).__name__}: {exc}"
        raise _Unsupported(value, detail, exc) from None


def _sorted(items: list[Any]) -> list[Any]:
    """Set members in a stable order, so equal sets give equal payloads in any process."""
    try:
        items.sort()
    except TypeError:  # mixed or tagged members: order by their JSON text
        items.sort(key=_canonical)
    return items


def _canonical(item: Any) -> str:
    return json.dumps(item, sort_keys=True, separators=(",", ":"))


def _short(key: Any) -> str:
    text = repr(key)
    return text if len(text) <= 40 else text[:39] + "…"


def _refused(subject: str, exc: _Unsupported | RecursionError) -> SerializationError:
    if isinstance(exc, RecursionError):
        return SerializationError(f"{subject} is nested too deeply (or contains itself)")
    return SerializationError(_message(subject, exc))


def _cause(exc: _Unsupported | RecursionError) -> BaseException | None:
    """The error worth chaining: a serializer's own exception, never our internal one."""
    return exc.cause if isinstance(exc, _Unsupported) else None


def _message(subject: str, exc: _Unsupported) -> str:
    path = "".join(reversed(exc.path))
    where = f"{subject} at {path}" if path else subject
    type_name = type(exc.value).__qualname__
    if exc.detail:
        return f"{where} of type {type_name!r} cannot be serialized: {exc.detail}"
    note = ""
    for base in _SUPPORTED_BASES:
        if isinstance(exc.value, base):
            base_name = repr(base.__qualname__)
            note = f" (a subclass of {base_name} would come back as a plain {base_name})"
            break
    return f"{where} of type {type_name!r} is not supported{note}; {_HINT}"


def serialize(value: Any) -> Any:
    """Encode one value into JSON-ready data (the mirror of :func:`deserialize`).

    >>> serialize((1, "a"))
    {'_aj': 'tuple', 'v': [1, 'a']}

    Raises :class:`~activejob.errors.SerializationError` for an unsupported value.
    """
    try:
        return value if type(value) in _PASS else _encode(value)
    except (_Unsupported, RecursionError) as exc:
        raise _refused("value", exc) from _cause(exc)


def serialize_arguments(
    args: Sequence[Any], kwargs: Mapping[str, Any]
) -> tuple[list[Any], dict[str, Any]]:
    """Encode a job's positional and keyword arguments into JSON-ready data.

    >>> serialize_arguments((1, {2}), {"when": None})
    ([1, {'_aj': 'set', 'v': [2]}], {'when': None})

    Raises :class:`~activejob.errors.SerializationError` naming the argument, the
    path inside it and the type of the value that cannot be encoded.
    """
    out_args: list[Any] = []
    append = out_args.append
    try:
        for value in args:
            append(value if type(value) in _PASS else _encode(value))
    except (_Unsupported, RecursionError) as exc:
        raise _refused(f"argument {len(out_args)} (positional)", exc) from _cause(exc)
    out_kwargs: dict[str, Any] = {}
    for name, value in kwargs.items():
        if type(name) is not str:
            raise SerializationError(f"keyword argument names must be str, not {name!r}")
        try:
            out_kwargs[name] = value if type(value) in _PASS else _encode(value)
        except (_Unsupported, RecursionError) as exc:
            raise _refused(f"argument {name!r} (keyword)", exc) from _cause(exc)
    return out_args, out_kwargs


# -- decoding ---------------------------------------------------------------------


def _decode(data: Any) -> Any:
    t = type(data)
    if t in _SCALARS:
        return data
    if t is list:
        return [item if type(item) in _SCALARS else _decode(item) for item in data]
    if t is dict:
        if TAG in data:
            return _decode_tagged(data)
        return {k: (v if type(v) in _SCALARS else _decode(v)) for k, v in data.items()}
    raise DeserializationError(f"unexpected {t.__name__!r} in an arguments payload (not JSON)")


def _decode_tagged(obj: dict[str, Any]) -> Any:
    tag = obj[TAG]
    if type(tag) is not str:
        raise DeserializationError(f"malformed tagged argument: {TAG!r} must be a str")
    container = _CONTAINERS.get(tag)
    if container is not None:
        return container(obj, tag)
    serializer = registry.by_name.get(tag)
    if serializer is None:
        raise DeserializationError(
            f"unknown argument type {tag[:80]!r}: no serializer is registered under that name "
            "(register it in the worker too)"
        )
    try:
        return serializer.decode(obj, _decode)
    except (DeserializationError, RecursionError):
        raise
    except Exception as exc:
        if not serializer.wraps_errors:
            raise
        raise DeserializationError(
            f"cannot deserialize a {tag[:80]!r} argument: {type(exc).__name__}: {exc}"
        ) from exc


def _items(obj: dict[str, Any], tag: str) -> list[Any]:
    items = obj.get("v")
    if type(items) is not list:
        raise DeserializationError(f"malformed {tag!r} argument: 'v' must be a list")
    return [item if type(item) in _SCALARS else _decode(item) for item in items]


def _decode_tuple(obj: dict[str, Any], tag: str) -> Any:
    return tuple(_items(obj, tag))


def _decode_set(obj: dict[str, Any], tag: str) -> Any:
    items = _items(obj, tag)
    try:
        return set(items) if tag == "set" else frozenset(items)
    except TypeError as exc:
        raise DeserializationError(f"malformed {tag!r} argument: {exc}") from None


def _decode_dict(obj: dict[str, Any], tag: str) -> Any:
    pairs = obj.get("v")
    if type(pairs) is not list:
        raise DeserializationError("malformed 'dict' argument: 'v' must be a list of pairs")
    out: dict[Any, Any] = {}
    for pair in pairs:
        if type(pair) is not list or len(pair) != 2:
            raise DeserializationError("malformed 'dict' argument: each pair must be [key, value]")
        key, item = _decode(pair[0]), _decode(pair[1])
        try:
            out[key] = item
        except TypeError as exc:  # an unhashable key
            raise DeserializationError(f"malformed 'dict' argument: {exc}") from None
    return out


_CONTAINERS = {
    "tuple": _decode_tuple,
    "set": _decode_set,
    "frozenset": _decode_set,
    "dict": _decode_dict,
}


def deserialize(data: Any) -> Any:
    """Decode one value encoded by :func:`serialize`.

    >>> deserialize({"_aj": "tuple", "v": [1, "a"]})
    (1, 'a')

    Raises :class:`~activejob.errors.DeserializationError` for anything unexpected.
    """
    try:
        return data if type(data) in _SCALARS else _decode(data)
    except RecursionError:
        raise DeserializationError("value is nested too deeply") from None


def deserialize_arguments(
    args_json: Any, kwargs_json: Any
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Decode what :func:`serialize_arguments` produced into ``(args, kwargs)``.

    >>> deserialize_arguments([1, {"_aj": "set", "v": [2]}], {"when": None})
    ((1, {2}), {'when': None})

    Raises :class:`~activejob.errors.DeserializationError`, naming the argument.
    """
    if type(args_json) is not list:
        raise DeserializationError(f"positional arguments must be a list, not {_kind(args_json)}")
    if type(kwargs_json) is not dict:
        raise DeserializationError(f"keyword arguments must be an object, not {_kind(kwargs_json)}")
    args: list[Any] = []
    append = args.append
    try:
        for data in args_json:
            append(data if type(data) in _SCALARS else _decode(data))
    except (DeserializationError, RecursionError) as exc:
        _reraise_located(exc, f"argument {len(args)} (positional)")
    kwargs: dict[str, Any] = {}
    for name, data in kwargs_json.items():
        if type(name) is not str:
            raise DeserializationError(f"keyword argument names must be str, not {_short(name)}")
        try:
            kwargs[name] = data if type(data) in _SCALARS else _decode(data)
        except (DeserializationError, RecursionError) as exc:
            _reraise_located(exc, f"argument {_short(name)} (keyword)")
    return tuple(args), kwargs


def _reraise_located(exc: Exception, where: str) -> NoReturn:
    """Prefix a plain DeserializationError with the argument; subclasses (such as
    RecordNotFound) are re-raised unchanged so that job rules can match them."""
    if isinstance(exc, RecursionError):
        raise DeserializationError(f"{where}: nested too deeply") from None
    if type(exc) is DeserializationError:
        raise DeserializationError(f"{where}: {exc}") from exc
    raise exc


def _kind(value: Any) -> str:
    return type(value).__name__
