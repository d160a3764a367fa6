"""``SignedGlobalID``: a GlobalID that can cross a trust boundary (a link in an email,
a form field) because it is signed, bound to a purpose and may expire.

The token is ``<payload>.<signature>``, both base64url without padding: the
payload is the JSON ``{"gid": ..., "pur": ..., "exp": ...}`` and the signature
its HMAC-SHA256 under a key derived from ``activejob.configure(secret=...)``.
The token is signed, not encrypted: anyone holding it can read the GlobalID.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from activejob import _time
from activejob.config import get_config
from activejob.errors import ConfigurationError
from activejob.globalid.errors import (
    BadSignature,
    ExpiredGlobalID,
    InvalidGlobalID,
    WrongPurpose,
)
from activejob.globalid.gid import GlobalID

__all__ = ["DEFAULT_EXPIRES_IN", "DEFAULT_PURPOSE", "SignedGlobalID", "locate_signed"]

DEFAULT_PURPOSE = "default"
"""The purpose of a token made or read without one."""
DEFAULT_EXPIRES_IN = timedelta(days=30)
"""How long a token is valid unless ``expires_in``/``expires_at`` say otherwise."""
MIN_SECRET_BYTES = 16

# The configured secret may sign other things: derive a key for this use only.
_KEY_CONTEXT = b"activejob.globalid.SignedGlobalID/v1"
_UNSET: Any = object()


def _key(secret: str | bytes | None) -> bytes:
    value = get_config().secret if secret is None else secret
    if value is None:
        raise ConfigurationError(
            "SignedGlobalID needs a secret: activejob.configure(secret=...) "
            "(a long random string, kept out of version control)"
        )
    raw = value.encode("utf-8") if isinstance(value, str) else bytes(value)
    if len(raw) < MIN_SECRET_BYTES:
        raise ConfigurationError(
            f"the SignedGlobalID secret must have at least {MIN_SECRET_BYTES} bytes"
        )
    return hmac.new(raw, _KEY_CONTEXT, hashlib.sha256).digest()


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(key: bytes, payload: str) -> str:
    return _b64encode(hmac.new(key, payload.encode("ascii"), hashlib.sha256).digest())


def _expiry(expires_in: Any, expires_at: datetime | None) -> datetime | None:
    if expires_at is not None:
        if expires_in is not _UNSET:
            raise TypeError("give expires_in or expires_at, not both")
        return expires_at.astimezone(timezone.utc)
    if expires_in is _UNSET:
        expires_in = DEFAULT_EXPIRES_IN
    if expires_in is None:
        return None
    seconds = expires_in.total_seconds() if isinstance(expires_in, timedelta) else expires_in
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool):
        raise TypeError(f"expires_in is a timedelta, seconds or None, not {expires_in!r}")
    return _time.from_timestamp(_time.now() + seconds)


@dataclass(frozen=True)
class SignedGlobalID:
    """A signed, purpose-bound, expiring GlobalID. ``str(sgid)`` is the token.

        activejob.configure(secret=os.environ["ACTIVEJOB_SECRET"])
        token = str(SignedGlobalID.create(user, purpose="unsubscribe",
                                          expires_in=timedelta(days=7)))
        ...
        user = locate_signed(token, purpose="unsubscribe", only=User)

    Reading a token that was changed or signed with another secret raises
    :class:`~activejob.globalid.BadSignature`; an expired one
    :class:`~activejob.globalid.ExpiredGlobalID`; one made for another purpose
    :class:`~activejob.globalid.WrongPurpose` (all ``InvalidSignedGlobalID``).
    """

    gid: GlobalID
    purpose: str
    expires_at: datetime | None
    token: str = field(compare=False, repr=False)

    @classmethod
    def create(
        cls,
        obj: object,
        *,
        purpose: str = DEFAULT_PURPOSE,
        expires_in: timedelta | float | None = _UNSET,
        expires_at: datetime | None = None,
        app: str | None = None,
        secret: str | bytes | None = None,
    ) -> SignedGlobalID:
        """Sign the GlobalID of ``obj`` (a record, a :class:`GlobalID` or its text).

        ``expires_in`` (a ``timedelta`` or seconds) defaults to
        :data:`DEFAULT_EXPIRES_IN`; ``None`` never expires; ``expires_at`` gives the
        moment instead. ``secret`` defaults to the configured one.
        """
        if isinstance(obj, (GlobalID, str)):
            gid = GlobalID.parse(obj)
        else:
            gid = GlobalID.create(obj, app=app)
        if not isinstance(purpose, str):
            raise TypeError(f"purpose must be a str, not {purpose!r}")
        expiry = _expiry(expires_in, expires_at)
        claims = {
            "gid": str(gid),
            "pur": purpose,
            "exp": None if expiry is None else expiry.isoformat(),
        }
        payload = _b64encode(json.dumps(claims, separators=(",", ":")).encode("utf-8"))
        token = f"{payload}.{_sign(_key(secret), payload)}"
        return cls(gid, purpose, expiry, token)

    @classmethod
    def parse(
        cls, token: str, *, purpose: str = DEFAULT_PURPOSE, secret: str | bytes | None = None
    ) -> SignedGlobalID:
        """Verify ``token`` for ``purpose`` and return it; raises an
        :class:`~activejob.globalid.InvalidSignedGlobalID` subclass if refused."""
        if not isinstance(token, str) or not token.isascii() or token.count(".") != 1:
            raise BadSignature("not a SignedGlobalID token")
        payload, signature = token.split(".")
        if not hmac.compare_digest(signature.encode(), _sign(_key(secret), payload).encode()):
            raise BadSignature("the SignedGlobalID signature does not match: changed or forged")
        try:
            claims = json.loads(_b64decode(payload))
            gid_text, found_purpose, exp = claims["gid"], claims["pur"], claims["exp"]
            expiry = None if exp is None else datetime.fromisoformat(exp)
        except (binascii.Error, ValueError, KeyError, TypeError):
            # Correctly signed yet unreadable: written by an incompatible version.
            raise BadSignature("the SignedGlobalID payload is not readable") from None
        if found_purpose != purpose:
            raise WrongPurpose(
                f"this SignedGlobalID is for purpose {found_purpose!r}, not {purpose!r}"
            )
        if expiry is not None and expiry.timestamp() <= _time.now():
            raise ExpiredGlobalID(f"this SignedGlobalID expired at {expiry.isoformat()}")
        try:
            gid = GlobalID.parse(gid_text)
        except InvalidGlobalID as exc:
            raise BadSignature(f"the signed GlobalID is not valid: {exc}") from None
        return cls(gid, found_purpose, expiry, token)

    def locate(self, *, only: type[Any] | tuple[type[Any], ...] | None = None) -> Any:
        """Load the record; see :func:`activejob.globalid.locate`."""
        return self.gid.locate(only=only)

    def __str__(self) -> str:
        return self.token


def locate_signed(
    token: str,
    *,
    purpose: str = DEFAULT_PURPOSE,
    only: type[Any] | tuple[type[Any], ...] | None = None,
    secret: str | bytes | None = None,
) -> Any:
    """Verify a SignedGlobalID token, then load its record.

        user = locate_signed(request.args["t"], purpose="unsubscribe", only=User)

    Raises what :meth:`SignedGlobalID.parse` and :func:`~activejob.globalid.locate` raise.
    """
    return SignedGlobalID.parse(token, purpose=purpose, secret=secret).locate(only=only)
