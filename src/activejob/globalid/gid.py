"""The :class:`GlobalID` value: ``gid://<app>/<Model>/<id>``, parsed and formatted.

The id is percent-escaped, so any text fits in one path segment; a composite
primary key is written as one segment per part (``gid://shop/shop.Item/7/en``),
as Rails' GlobalID does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote_plus

from activejob.config import get_config
from activejob.errors import ConfigurationError
from activejob.globalid.errors import InvalidGlobalID

__all__ = ["MAX_COMPOSITE_PARTS", "GlobalID", "ModelId", "check_app", "check_model_name"]

ModelId = str | tuple[str, ...]
"""A model id as a GlobalID carries it: text, or a tuple of texts for a composite key."""

#: The most parts a composite id may have (Rails' limit too).
MAX_COMPOSITE_PARTS = 20

_SCHEME = "gid://"
# App names are URI host names: letters, digits and hyphens.
_APP = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
# Model names: Python (`shop.models.User`), Django (`shop.User`) and Ruby (`Admin::User`)
# class names, and nothing that would need escaping in a URI path.
_MODEL = re.compile(r"[A-Za-z_][A-Za-z0-9_.:-]{0,199}")


def check_app(app: object) -> str:
    """``app`` lowercased (host names ignore case), or ``InvalidGlobalID``."""
    if not isinstance(app, str) or not _APP.fullmatch(app):
        raise InvalidGlobalID(
            f"{app!r} is not a valid GlobalID app name: use letters, digits and hyphens"
        )
    return app.lower()


def check_model_name(name: object) -> str:
    """``name`` if it can be the ``<Model>`` part of a GlobalID, else ``InvalidGlobalID``."""
    if not isinstance(name, str) or not _MODEL.fullmatch(name):
        raise InvalidGlobalID(
            f"{name!r} is not a valid GlobalID model name: letters, digits and '_.:-', "
            "starting with a letter or '_'"
        )
    return name


def _id_parts(model_id: object) -> tuple[str, ...]:
    checked: tuple[Any, ...] = model_id if isinstance(model_id, tuple) else (model_id,)
    if not 1 <= len(checked) <= MAX_COMPOSITE_PARTS:
        raise InvalidGlobalID(
            f"a composite GlobalID id has 1 to {MAX_COMPOSITE_PARTS} parts, not {len(checked)}"
        )
    for part in checked:
        if not isinstance(part, str) or not part:
            raise InvalidGlobalID(f"a GlobalID id part must be non-empty text, got {part!r}")
        try:
            part.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidGlobalID(f"GlobalID id {part!r} is not valid Unicode text") from None
    return checked


@dataclass(frozen=True, slots=True)
class GlobalID:
    """A reference to one record: the app it belongs to, its model, its id.

    ``model_id`` is text, or a tuple of texts for a composite primary key.
    Equal values (same app, model and id) are equal and hash alike; the app
    name is lowercased, as URI host names are case-insensitive.

        >>> gid = GlobalID.parse("gid://shop/shop.User/42")
        >>> gid.app, gid.model_name, gid.model_id
        ('shop', 'shop.User', '42')
        >>> str(GlobalID("shop", "shop.Item", ("7", "en/GB")))
        'gid://shop/shop.Item/7/en%2FGB'

    ``GlobalID.create(record)`` makes one for a record; ``gid.locate()`` loads it.
    """

    app: str
    model_name: str
    model_id: ModelId

    def __post_init__(self) -> None:
        object.__setattr__(self, "app", check_app(self.app))
        check_model_name(self.model_name)
        parts = _id_parts(self.model_id)
        if isinstance(self.model_id, tuple) and len(parts) == 1:
            object.__setattr__(self, "model_id", parts[0])

    @property
    def model_id_parts(self) -> tuple[str, ...]:
        """The id as a tuple of texts, one per primary-key column."""
        model_id = self.model_id
        return model_id if isinstance(model_id, tuple) else (model_id,)

    @classmethod
    def parse(cls, text: str | GlobalID) -> GlobalID:
        """The GlobalID written in ``text``; raises :class:`InvalidGlobalID` if it is not one.

        >>> GlobalID.parse("gid://shop/shop.Item/7/en%2FGB").model_id
        ('7', 'en/GB')
        """
        if isinstance(text, GlobalID):
            return text
        if not isinstance(text, str):
            raise InvalidGlobalID(f"a GlobalID is text, not {type(text).__name__}")
        shown = text if len(text) <= 120 else text[:119] + "…"
        if text[: len(_SCHEME)].lower() != _SCHEME:
            raise InvalidGlobalID(f"{shown!r} is not a GlobalID: expected gid://<app>/<Model>/<id>")
        if "?" in text or "#" in text:
            raise InvalidGlobalID(f"{shown!r}: GlobalID query parameters are not supported")
        segments = text[len(_SCHEME) :].split("/")
        if len(segments) < 3 or any(not segment for segment in segments):
            raise InvalidGlobalID(f"{shown!r} is not a GlobalID: expected gid://<app>/<Model>/<id>")
        app, model_name, *parts = segments
        try:
            # unquote_plus: Rails writes a space as "+"; we write "%20" and "+" as "%2B".
            ids = tuple(unquote_plus(part, errors="strict") for part in parts)
            return cls(app, model_name, ids)
        except UnicodeDecodeError:
            raise InvalidGlobalID(f"{shown!r}: the id is not UTF-8 once unescaped") from None
        except InvalidGlobalID as exc:
            raise InvalidGlobalID(f"{shown!r}: {exc}") from None

    @classmethod
    def create(cls, obj: object, *, app: str | None = None) -> GlobalID:
        """The GlobalID of ``obj``: a registered :class:`Locatable`, a SQLAlchemy or a
        Django model instance.

        ``app`` defaults to ``activejob.configure(app=...)``. Raises
        :class:`InvalidGlobalID` for an object that cannot have one (an unsaved
        record, a class no registry knows).

            activejob.configure(app="shop")
            GlobalID.create(user)       # GlobalID('gid://shop/shop.models.User/42')
        """
        from activejob.globalid.model import identify

        model_name, model_id = identify(obj)
        return cls(app if app is not None else configured_app(), model_name, model_id)

    def locate(self, *, only: type[Any] | tuple[type[Any], ...] | None = None) -> Any:
        """Load the record; see :func:`activejob.globalid.locate`."""
        from activejob.globalid.locators import locate

        return locate(self, only=only)

    def __str__(self) -> str:
        ids = "/".join(quote(part, safe="") for part in self.model_id_parts)
        return f"{_SCHEME}{self.app}/{self.model_name}/{ids}"

    def __repr__(self) -> str:
        return f"GlobalID({str(self)!r})"


def configured_app() -> str:
    """The app name from ``activejob.configure(app=...)``, checked."""
    app = get_config().app
    try:
        return check_app(app)
    except InvalidGlobalID as exc:
        raise ConfigurationError(f"activejob setting `app`: {exc}") from None
