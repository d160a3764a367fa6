"""The :class:`GlobalID` value: ``gid://<app>/<Model>/<id>``, parsed and formatted.

The id is percent-escaped, so any text fits in one path segment; a composite
primary key is written as one segment per part (``gid://shop/shop.Item/7/en``),
as Rails' GlobalID does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote_plus

from activejob.config import get_config
from activejob.errors import ConfigurationError, RecordNotFound
from activejob.globalid.errors import InvalidGlobalID
from activejob.globalid.locators import (
    Only,
    allowed_classes,
    check_after,
    check_before,
    locator_for,
)
from activejob.globalid.model import identify
from activejob.globalid.names import MAX_COMPOSITE_PARTS, ModelId, check_app, check_model_name

__all__ = [
    "MAX_COMPOSITE_PARTS",
    "GlobalID",
    "ModelId",
    "check_app",
    "check_model_name",
    "locate",
    "locate_many",
]

_SCHEME = "gid://"


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
        model_name, model_id = identify(obj)
        return cls(app if app is not None else configured_app(), model_name, model_id)

    def locate(self, *, only: type[Any] | tuple[type[Any], ...] | None = None) -> Any:
        """Load the record; see :func:`activejob.globalid.locate`."""
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


def locate(gid: GlobalID | str, *, only: Only = None) -> Any:
    """Load the record a GlobalID (or its text) points at, fresh from its store.

        user = activejob.globalid.locate("gid://shop/shop.User/42")
        user = activejob.globalid.locate(gid, only=User)   # refuse any other model

    Raises :class:`activejob.RecordNotFound` when the record does not exist,
    :class:`~activejob.globalid.InvalidGlobalID` for malformed text,
    :class:`~activejob.globalid.UnknownModel` for a model no registry knows and
    :class:`~activejob.globalid.ModelNotAllowed` for one ``only`` excludes (checked
    before any query where the locator knows the class). Other exceptions, such
    as a database that cannot be reached, propagate unchanged.
    """
    parsed = GlobalID.parse(gid)
    allowed = allowed_classes(only)
    locator = locator_for(parsed.app)
    if allowed is not None:
        check_before(locator, parsed, allowed)
    record = locator.locate(parsed)
    if record is None:
        raise RecordNotFound(f"record not found: {parsed}")
    return check_after(parsed, record, allowed)


def locate_many(
    gids: Iterable[GlobalID | str], *, only: Only = None, ignore_missing: bool = False
) -> list[Any]:
    """Load many records, in the order of ``gids``, with one query per model.

        users = activejob.globalid.locate_many([gid1, gid2, gid3])

    A missing record raises :class:`activejob.RecordNotFound` naming every missing
    GlobalID, or is skipped with ``ignore_missing=True``. ``only`` and the other
    errors are as for :func:`locate` (a GlobalID ``only`` excludes raises even
    with ``ignore_missing``). A GlobalID given twice gives its record twice.
    """
    parsed = [GlobalID.parse(gid) for gid in gids]
    allowed = allowed_classes(only)
    by_locator: dict[str, list[int]] = {}
    for index, gid in enumerate(parsed):
        by_locator.setdefault(gid.app, []).append(index)
    records: list[Any] = [None] * len(parsed)
    for app, positions in by_locator.items():
        locator = locator_for(app)
        batch = [parsed[i] for i in positions]
        if allowed is not None:
            for gid in batch:
                check_before(locator, gid, allowed)
        found = locator.locate_many(batch)
        if len(found) != len(batch):
            raise TypeError(
                f"{locator!r}.locate_many returned {len(found)} results for {len(batch)}"
            )
        for index, record in zip(positions, found, strict=True):
            records[index] = record
    missing = [str(gid) for gid, record in zip(parsed, records, strict=True) if record is None]
    if missing and not ignore_missing:
        shown = ", ".join(missing[:5]) + (
            f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        )
        raise RecordNotFound(f"records not found: {shown}")
    return [
        check_after(gid, record, allowed)
        for gid, record in zip(parsed, records, strict=True)
        if record is not None
    ]
