"""What the GlobalID functions refuse, beside :class:`activejob.RecordNotFound`.

A text that is not a GlobalID: :class:`InvalidGlobalID` (also a ``ValueError``);
a model name no registry knows: :class:`UnknownModel`; a model that ``only=``
does not allow: :class:`ModelNotAllowed` (both subclasses of it). A
signed id that was tampered with, has expired or was made for another purpose:
a subclass of :class:`InvalidSignedGlobalID`. A well-formed id whose record is
gone: :class:`activejob.RecordNotFound`.

    >>> from activejob.globalid import GlobalID, InvalidGlobalID
    >>> try:
    ...     GlobalID.parse("https://example.com/User/1")
    ... except InvalidGlobalID as exc:
    ...     print(exc)
    'https://example.com/User/1' is not a GlobalID: expected gid://<app>/<Model>/<id>
"""

from __future__ import annotations

from activejob.errors import ActiveJobError

__all__ = [
    "BadSignature",
    "ExpiredGlobalID",
    "InvalidGlobalID",
    "InvalidSignedGlobalID",
    "ModelNotAllowed",
    "UnknownModel",
    "WrongPurpose",
]


class InvalidGlobalID(ActiveJobError, ValueError):
    """The text or object cannot be a GlobalID here (see the message for why)."""


class UnknownModel(InvalidGlobalID):
    """No registry knows the model a GlobalID names."""


class ModelNotAllowed(InvalidGlobalID):
    """The GlobalID names a model that ``only=`` does not allow."""


class InvalidSignedGlobalID(InvalidGlobalID):
    """A signed GlobalID was refused: base of the three reasons below."""


class BadSignature(InvalidSignedGlobalID):
    """The token is malformed, was changed, or was signed with another secret."""


class ExpiredGlobalID(InvalidSignedGlobalID):
    """The token was genuine but its expiry time has passed."""


class WrongPurpose(InvalidSignedGlobalID):
    """The token was genuine but made for another purpose."""
