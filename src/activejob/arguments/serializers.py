"""The built-in serializers, one small class per tagged type.

Each class documents its tagged object. They are matched by *exact* type (a
``datetime`` subclass is not a ``datetime`` here: it would come back as the base
class), except :class:`EnumSerializer`, which takes every ``Enum`` member.
Tuples, sets, frozensets and dicts are containers; the codec handles them itself.
"""

from __future__ import annotations

import enum
import sys
import uuid
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal
from pathlib import PosixPath, PurePath, PurePosixPath, PureWindowsPath, WindowsPath
from typing import Any, ClassVar, TypeVar
from zoneinfo import ZoneInfo

from activejob.arguments.base import TAG, Decoder, Encoder, ObjectSerializer, field
from activejob.errors import DeserializationError, SerializationError

__all__ = [
    "BigIntSerializer",
    "BuiltinSerializer",
    "DateSerializer",
    "DateTimeSerializer",
    "DecimalSerializer",
    "EnumSerializer",
    "FloatSerializer",
    "PathSerializer",
    "TimeDeltaSerializer",
    "TimeSerializer",
    "UUIDSerializer",
]


class BuiltinSerializer(ObjectSerializer):
    """A serializer of the encoding itself; ``types`` are the exact types it takes."""

    types: ClassVar[tuple[type[Any], ...]] = ()

    def malformed(self, why: str) -> DeserializationError:
        return DeserializationError(f"malformed {self.name!r} argument: {why}")


class BigIntSerializer(BuiltinSerializer):
    """``{"_aj": "int", "v": "-0x1f..."}``: an int outside the signed 64-bit range.

    Stored as hex text because MySQL's JSON type and JavaScript readers lose
    precision on big numbers, and CPython refuses to print an int of more than
    4300 decimal digits (hex has no such limit).
    """

    name = "int"

    def encode(self, value: Any, serialize: Encoder) -> dict[str, Any]:
        return {TAG: "int", "v": hex(value)}

    def decode(self, obj: dict[str, Any], deserialize: Decoder) -> Any:
        text = field(obj, "v", str, self.name)
        try:
            return int(text, 16)
        except ValueError:
            raise self.malformed(f"{text[:40]!r} is not a hexadecimal integer") from None


class FloatSerializer(BuiltinSerializer):
    """``{"_aj": "float", "v": "nan" | "inf" | "-inf"}``: the floats JSON cannot hold."""

    name = "float"
    _values: ClassVar[dict[str, float]] = {
        "nan": float("nan"),
        "inf": float("inf"),
        "-inf": float("-inf"),
    }

    def encode(self, value: Any, serialize: Encoder) -> dict[str, Any]:
        return {TAG: "float", "v": "nan" if value != value else ("inf" if value > 0 else "-inf")}

    def decode(self, obj: dict[str, Any], deserialize: Decoder) -> Any:
        text = field(obj, "v", str, self.name)
        if text not in self._values:
            raise self.malformed(f"{text[:40]!r} is not one of 'nan', 'inf', '-inf'")
        return self._values[text]


_DT = TypeVar("_DT", datetime, time)


def _put_zone(obj: dict[str, Any], value: datetime | time) -> dict[str, Any]:
    """Add the fields that rebuild ``value.tzinfo`` and ``value.fold`` to ``obj``.

    The offset is already in the ISO text; a ``ZoneInfo`` adds its key ("tz"), a
    named ``datetime.timezone`` its name ("tzname").
    """
    tz: tzinfo | None = value.tzinfo
    if tz is None or tz is timezone.utc:
        pass
    elif type(tz) is ZoneInfo and tz.key is not None:
        obj["tz"] = tz.key
    elif type(tz) is timezone:
        offset = tz.utcoffset(None)
        name = tz.tzname(None)
        if name != timezone(offset).tzname(None):
            obj["tzname"] = name
        if offset.microseconds:
            # fromisoformat() reads "+00:00:00.000001" as UTC: keep such offsets exactly.
            obj["offset_us"] = offset // timedelta(microseconds=1)
    else:
        raise SerializationError(
            f"its tzinfo of type {type(tz).__qualname__!r} is not supported; "
            "use zoneinfo.ZoneInfo (with a key) or datetime.timezone"
        )
    if value.fold:
        obj["fold"] = 1
    return obj


def _take_zone(value: _DT, obj: dict[str, Any], tag: str) -> _DT:
    """Mirror of :func:`_put_zone`: apply "tz", "tzname" and "fold" to ``value``."""
    fold = obj.get("fold", 0)
    if type(fold) is not int or fold not in (0, 1):
        raise DeserializationError(f"malformed {tag!r} argument: 'fold' must be 0 or 1")
    if "tz" in obj:
        key = field(obj, "tz", str, tag)
        try:
            zone = ZoneInfo(key)
        except (KeyError, ValueError, OSError):
            raise DeserializationError(f"{tag!r} argument: unknown zone {key[:60]!r}") from None
        return value.replace(tzinfo=zone, fold=fold)
    if "tzname" in obj or "offset_us" in obj:
        offset = value.utcoffset()
        if "offset_us" in obj:
            offset = timedelta(microseconds=field(obj, "offset_us", int, tag))
        if offset is None or not -timedelta(hours=24) < offset < timedelta(hours=24):
            raise DeserializationError(f"malformed {tag!r} argument: no valid offset")
        if "tzname" in obj:
            fixed = timezone(offset, field(obj, "tzname", str, tag))
        else:
            fixed = timezone(offset)
        return value.replace(tzinfo=fixed, fold=fold)
    return value.replace(fold=fold) if fold else value


class DateTimeSerializer(BuiltinSerializer):
    """``{"_aj": "datetime", "v": "2024-05-01T12:00:00.000001+02:00"}`` plus, when
    they apply, ``"tz": "Europe/Paris"`` (a ``ZoneInfo`` key), ``"tzname": "CEST"``
    (a named fixed offset) and ``"fold": 1``. Naive datetimes have no offset."""

    name = "datetime"
    types = (datetime,)

    def encode(self, value: Any, serialize: Encoder) -> dict[str, Any]:
        return _put_zone({TAG: "datetime", "v": value.isoformat()}, value)

    def decode(self, obj: dict[str, Any], deserialize: Decoder) -> Any:
        text = field(obj, "v", str, self.name)
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise self.malformed(f"{text[:60]!r} is not an ISO 8601 datetime") from None
        return _take_zone(value, obj, self.name)


class TimeSerializer(BuiltinSerializer):
    """``{"_aj": "time", "v": "12:00:00.000001+02:00"}``, zone fields as for datetime."""

    name = "time"
    types = (time,)

    def encode(self, value: Any, serialize: Encoder) -> dict[str, Any]:
        return _put_zone({TAG: "time", "v": value.isoformat()}, value)

    def decode(self, obj: dict[str, Any], deserialize: Decoder) -> Any:
        text = field(obj, "v", str, self.name)
        try:
            value = time.fromisoformat(text)
        except ValueError:
            raise self.malformed(f"{text[:60]!r} is not an ISO 8601 time") from None
        return _take_zone(value, obj, self.name)


class DateSerializer(BuiltinSerializer):
    """``{"_aj": "date", "v": "2024-05-01"}``."""

    name = "date"
    types = (date,)

    def encode(self, value: Any, serialize: Encoder) -> dict[str, Any]:
        return {TAG: "date", "v": value.isoformat()}

    def decode(self, obj: dict[str, Any], deserialize: Decoder) -> Any:
        text = field(obj, "v", str, self.name)
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise self.malformed(f"{text[:60]!r} is not an ISO 8601 date") from None


class TimeDeltaSerializer(BuiltinSerializer):
    """``{"_aj": "timedelta", "v": [days, seconds, microseconds]}`` (exact, normalised)."""

    name = "timedelta"
    types = (timedelta,)

    def encode(self, value: Any, serialize: Encoder) -> dict[str, Any]:
        return {TAG: "timedelta", "v": [value.days, value.seconds, value.microseconds]}

    def decode(self, obj: dict[str, Any], deserialize: Decoder) -> Any:
        parts = field(obj, "v", list, self.name)
        if len(parts) != 3 or any(type(part) is not int for part in parts):
            raise self.malformed("'v' must be [days, seconds, microseconds] integers")
        try:
            return timedelta(days=parts[0], seconds=parts[1], microseconds=parts[2])
        except OverflowError:
            raise self.malformed("the duration is out of range") from None


class DecimalSerializer(BuiltinSerializer):
    """``{"_aj": "decimal", "v": "1.10"}``: ``str(value)``, so every digit, the
    exponent, the sign of zero and NaN/Infinity come back."""

    name = "decimal"
    types = (Decimal,)

    def encode(self, value: Any, serialize: Encoder) -> dict[str, Any]:
        return {TAG: "decimal", "v": str(value)}

    def decode(self, obj: dict[str, Any], deserialize: Decoder) -> Any:
        text = field(obj, "v", str, self.name)
        try:
            return Decimal(text)
        except (ArithmeticError, ValueError):
            raise self.malformed(f"{text[:60]!r} is not a decimal number") from None


class UUIDSerializer(BuiltinSerializer):
    """``{"_aj": "uuid", "v": "12345678-1234-5678-1234-567812345678"}``."""

    name = "uuid"
    types = (uuid.UUID,)

    def encode(self, value: Any, serialize: Encoder) -> dict[str, Any]:
        return {TAG: "uuid", "v": str(value)}

    def decode(self, obj: dict[str, Any], deserialize: Decoder) -> Any:
        text = field(obj, "v", str, self.name)
        try:
            return uuid.UUID(text)
        except ValueError:
            raise self.malformed(f"{text[:60]!r} is not a UUID") from None


class PathSerializer(BuiltinSerializer):
    """``{"_aj": "path", "cls": "PosixPath", "v": "/srv/data.csv"}``.

    ``cls`` is one of the four classes below (a fixed allowlist): the same class
    comes back. A concrete path of the other operating system cannot be created.
    """

    name = "path"
    classes: ClassVar[dict[str, type[PurePath]]] = {
        cls.__name__: cls for cls in (PurePosixPath, PureWindowsPath, PosixPath, WindowsPath)
    }
    types = tuple(classes.values())

    def encode(self, value: Any, serialize: Encoder) -> dict[str, Any]:
        return {TAG: "path", "cls": type(value).__name__, "v": str(value)}

    def decode(self, obj: dict[str, Any], deserialize: Decoder) -> Any:
        text = field(obj, "v", str, self.name)
        cls_name = field(obj, "cls", str, self.name)
        cls = self.classes.get(cls_name)
        if cls is None:
            raise self.malformed(f"{cls_name[:60]!r} is not a supported path class")
        try:
            return cls(text)
        except Exception as exc:  # NotImplementedError / UnsupportedOperation by version
            raise DeserializationError(f"cannot create a {cls_name} here: {exc}") from None


class EnumSerializer(BuiltinSerializer):
    """``{"_aj": "enum", "module": "shop.models", "qualname": "Color", "v": "RED"}``.

    ``v`` is the member's name; for a ``Flag`` it is the member's value, so that
    combined flags (``A | B``) come back. The class is found only among modules
    already imported (``sys.modules``), by dictionary look-ups along the qualname:
    decoding never imports anything and never runs a module ``__getattr__``.
    """

    name = "enum"

    def matches(self, value: Any) -> bool:
        return isinstance(value, enum.Enum)

    def encode(self, value: Any, serialize: Encoder) -> dict[str, Any]:
        member: enum.Enum = value
        cls = type(member)
        try:
            found: type[enum.Enum] | None = resolve_enum_class(cls.__module__, cls.__qualname__)
        except DeserializationError:
            found = None
        if found is not cls:
            # Checked here so that a local or shadowed enum fails at enqueue, not in the worker.
            raise SerializationError(
                f"enum class '{cls.__module__}.{cls.__qualname__}' cannot be found again by "
                "its module and qualname; define it at module level"
            )
        if isinstance(member, enum.Flag):
            payload: Any = serialize(member.value)
        elif cls.__members__.get(member.name) is member:
            payload = member.name
        else:
            raise SerializationError(f"member {member!r} cannot be found again by its name")
        return {TAG: "enum", "module": cls.__module__, "qualname": cls.__qualname__, "v": payload}

    def decode(self, obj: dict[str, Any], deserialize: Decoder) -> Any:
        cls = resolve_enum_class(
            field(obj, "module", str, self.name), field(obj, "qualname", str, self.name)
        )
        if issubclass(cls, enum.Flag):
            value = deserialize(obj.get("v"))
            if type(value) is not int:
                raise self.malformed("a Flag member's 'v' must be its integer value")
            try:
                return cls(value)
            except ValueError:
                raise DeserializationError(f"{value} is not a valid {cls.__qualname__}") from None
        member_name = field(obj, "v", str, self.name)
        member = cls.__members__.get(member_name)
        if member is None:
            raise DeserializationError(f"{cls.__qualname__} has no member {member_name[:60]!r}")
        return member


def resolve_enum_class(module_name: str, qualname: str) -> type[enum.Enum]:
    """The Enum class ``module_name``/``qualname``, from already-imported modules only."""
    where = f"{module_name}.{qualname}"[:120]
    module = sys.modules.get(module_name)
    if module is None:
        raise DeserializationError(
            f"enum class {where!r} is not loaded: module {module_name[:60]!r} is not imported "
            "(import it in the worker, e.g. with --import)"
        )
    # Plain namespace look-ups: no getattr, so no descriptor or module __getattr__ runs.
    namespace: Any = vars(module)
    found: Any = None
    for part in qualname.split("."):
        if namespace is None:
            found = None
            break
        found = namespace.get(part)
        namespace = vars(found) if isinstance(found, type) else None
    if not (isinstance(found, type) and issubclass(found, enum.Enum)):
        raise DeserializationError(f"{where!r} is not an enum class")
    return found
