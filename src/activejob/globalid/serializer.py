"""The argument serializer that passes records to jobs as GlobalIDs.

``{"_aj": "gid", "v": "gid://shop/shop.User/42"}``. Registered by the argument
encoding itself (a built-in fallback), so every process that can decode
arguments reads it. Decoding loads the record: a missing one raises
:class:`activejob.RecordNotFound`; any other failure of the lookup (the
database is down) propagates as itself, so that a job's ``retry_on`` sees it and
``discard_on(RecordNotFound)`` does not drop the job.
"""

from __future__ import annotations

from typing import Any, ClassVar

from activejob.arguments.base import TAG, Decoder, Encoder, ObjectSerializer, field
from activejob.errors import DeserializationError, SerializationError
from activejob.globalid.errors import InvalidGlobalID
from activejob.globalid.gid import GlobalID, locate
from activejob.globalid.model import is_locatable

__all__ = ["GlobalIDSerializer"]


class GlobalIDSerializer(ObjectSerializer):
    """Records (registered Locatables, SQLAlchemy and Django models) by reference."""

    name = "gid"
    # Lookup errors are not bad data: let them reach the job's rules unchanged.
    wraps_errors: ClassVar[bool] = False

    def matches(self, value: Any) -> bool:
        return is_locatable(value)

    def encode(self, value: Any, serialize: Encoder) -> dict[str, Any]:
        try:
            gid = GlobalID.create(value)
        except InvalidGlobalID as exc:
            raise SerializationError(str(exc)) from exc
        return {TAG: self.name, "v": str(gid)}

    def decode(self, obj: dict[str, Any], deserialize: Decoder) -> Any:
        text = field(obj, "v", str, self.name)
        try:
            gid = GlobalID.parse(text)
        except InvalidGlobalID as exc:
            raise DeserializationError(f"malformed 'gid' argument: {exc}") from None
        try:
            return locate(gid)
        except InvalidGlobalID as exc:  # an unknown model: the worker lacks a registry
            raise DeserializationError(str(exc)) from exc
