"""SignedGlobalID: HMAC-SHA256 with the configured secret, a purpose and an expiry;
tampered, forged, expired and wrong-purpose tokens are refused with their own error."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

import activejob
from activejob import ConfigurationError
from activejob.globalid import (
    BadSignature,
    ExpiredGlobalID,
    GlobalID,
    InvalidGlobalID,
    InvalidSignedGlobalID,
    ModelNotAllowed,
    SignedGlobalID,
    WrongPurpose,
    locate_signed,
    register_model,
    unregister_model,
)
from tests.globalid.support import Account, Ticket

SECRET = "0123456789abcdef-test-secret"
NOW = 1_800_000_000.0


@pytest.fixture(autouse=True)
def setup(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    activejob.configure(secret=SECRET, app="shop")
    monkeypatch.setattr("activejob._time.now", lambda: NOW)
    register_model(Account, name="Account")
    Account.store.reset()
    Account.create(7, "ann")
    yield
    unregister_model(Account)


def at(seconds: float, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("activejob._time.now", lambda: NOW + seconds)


def test_round_trip_and_locate() -> None:
    sgid = SignedGlobalID.create(Account(7, "ann"), purpose="login")
    token = str(sgid)
    assert "gid://" not in token and token.count(".") == 1
    back = SignedGlobalID.parse(token, purpose="login")
    assert back == sgid
    assert back.gid == GlobalID("shop", "Account", "7")
    assert back.purpose == "login"
    assert back.expires_at == datetime.fromtimestamp(NOW, timezone.utc) + timedelta(days=30)
    assert locate_signed(token, purpose="login").name == "ann"
    assert back.locate(only=Account).name == "ann"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@pytest.mark.parametrize(
    ("expires_at", "exp"),
    [
        (None, None),
        (datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc), "2030-01-02T03:04:05+00:00"),
    ],
)
def test_the_signature_is_hmac_sha256_under_a_key_derived_from_the_secret(
    expires_at: datetime | None, exp: str | None
) -> None:
    # Computed here from the format alone: a change of hash, key derivation or
    # payload encoding breaks every token already handed out, and this test.
    key = hmac.new(
        SECRET.encode(), b"activejob.globalid.SignedGlobalID/v1", hashlib.sha256
    ).digest()
    claims = {"gid": "gid://shop/Account/7", "pur": "login", "exp": exp}
    payload = b64url(json.dumps(claims, separators=(",", ":")).encode())
    signature = hmac.new(key, payload.encode(), hashlib.sha256).digest()
    expected = f"{payload}.{b64url(signature)}"
    options = {"expires_in": None} if expires_at is None else {"expires_at": expires_at}
    assert str(SignedGlobalID.create(Account(7, "ann"), purpose="login", **options)) == expected
    assert SignedGlobalID.parse(expected, purpose="login").gid == GlobalID("shop", "Account", "7")
    sha1 = hmac.new(key, payload.encode(), hashlib.sha1).digest()
    with pytest.raises(BadSignature):
        SignedGlobalID.parse(f"{payload}.{b64url(sha1)}", purpose="login")


def test_signs_a_globalid_or_its_text() -> None:
    gid = GlobalID("shop", "Account", "7")
    assert SignedGlobalID.create(gid).gid == gid
    assert SignedGlobalID.create("gid://shop/Account/7").gid == gid


def test_the_default_purpose_is_default() -> None:
    token = str(SignedGlobalID.create(Account(7, "ann")))
    assert SignedGlobalID.parse(token).purpose == "default"
    with pytest.raises(WrongPurpose):
        SignedGlobalID.parse(token, purpose="login")


def test_wrong_purpose_is_refused() -> None:
    token = str(SignedGlobalID.create(Account(7, "ann"), purpose="unsubscribe"))
    with pytest.raises(WrongPurpose, match="for purpose 'unsubscribe', not 'delete_account'"):
        locate_signed(token, purpose="delete_account")
    assert Account.store.calls == []


def test_expiry(monkeypatch: pytest.MonkeyPatch) -> None:
    token = str(SignedGlobalID.create(Account(7, "ann"), expires_in=timedelta(hours=1)))
    at(3599, monkeypatch)
    assert SignedGlobalID.parse(token).gid.model_id == "7"
    at(3600, monkeypatch)
    with pytest.raises(ExpiredGlobalID, match="expired at"):
        SignedGlobalID.parse(token)


def test_default_expiry_is_thirty_days(monkeypatch: pytest.MonkeyPatch) -> None:
    token = str(SignedGlobalID.create(Account(7, "ann")))
    at(30 * 86400 - 1, monkeypatch)
    SignedGlobalID.parse(token)
    at(30 * 86400, monkeypatch)
    with pytest.raises(ExpiredGlobalID):
        SignedGlobalID.parse(token)


def test_expiry_forms(monkeypatch: pytest.MonkeyPatch) -> None:
    never = str(SignedGlobalID.create(Account(7, "ann"), expires_in=None))
    seconds = str(SignedGlobalID.create(Account(7, "ann"), expires_in=60))
    moment = datetime.fromtimestamp(NOW + 120, timezone.utc)
    until = SignedGlobalID.create(Account(7, "ann"), expires_at=moment)
    assert until.expires_at == moment
    at(90, monkeypatch)
    assert SignedGlobalID.parse(never).expires_at is None
    assert SignedGlobalID.parse(str(until)).expires_at == moment
    with pytest.raises(ExpiredGlobalID):
        SignedGlobalID.parse(seconds)
    at(10 * 365 * 86400, monkeypatch)
    SignedGlobalID.parse(never)
    with pytest.raises(TypeError, match="not both"):
        SignedGlobalID.create(Account(7, "ann"), expires_in=60, expires_at=moment)
    with pytest.raises(TypeError):
        SignedGlobalID.create(Account(7, "ann"), expires_in="1h")  # type: ignore[arg-type]


def _payload(token: str) -> dict[str, object]:
    data = token.split(".")[0]
    loaded: dict[str, object] = json.loads(base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)))
    return loaded


def _encode(claims: dict[str, object]) -> str:
    text = json.dumps(claims, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(text).rstrip(b"=").decode()


def test_tampered_tokens_are_refused() -> None:
    token = str(SignedGlobalID.create(Account(7, "ann"), purpose="login"))
    payload, signature = token.split(".")
    claims = _payload(token)
    # Point it at another record, keep the signature.
    forged = _encode({**claims, "gid": "gid://shop/Account/8"})
    # Extend the expiry, keep the signature.
    extended = _encode({**claims, "exp": None})
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    for bad in (f"{forged}.{signature}", f"{extended}.{signature}", f"{payload}.{flipped}"):
        with pytest.raises(BadSignature, match="does not match"):
            SignedGlobalID.parse(bad, purpose="login")
    assert Account.store.calls == []


def test_another_secret_is_refused() -> None:
    token = str(SignedGlobalID.create(Account(7, "ann")))
    activejob.configure(secret="another-secret-of-enough-length")
    with pytest.raises(BadSignature):
        SignedGlobalID.parse(token)
    assert SignedGlobalID.parse(token, secret=SECRET).gid.model_id == "7"


@pytest.mark.parametrize("token", ["", "abc", "a.b.c", "..", "é.é", "gid://shop/Account/7"])
def test_malformed_tokens_are_refused(token: str) -> None:
    with pytest.raises(BadSignature):
        SignedGlobalID.parse(token)


def test_refusals_share_a_base_class() -> None:
    for cls in (BadSignature, ExpiredGlobalID, WrongPurpose):
        assert issubclass(cls, InvalidSignedGlobalID)
        assert issubclass(cls, InvalidGlobalID) and issubclass(cls, ValueError)


def test_a_secret_is_required_and_must_be_long_enough() -> None:
    activejob.configure(secret=None)
    with pytest.raises(ConfigurationError, match=r"activejob.configure\(secret=...\)"):
        SignedGlobalID.create(Account(7, "ann"))
    activejob.configure(secret="short")
    with pytest.raises(ConfigurationError, match="at least 16 bytes"):
        SignedGlobalID.create(Account(7, "ann"))
    activejob.configure(secret=SECRET.encode())
    assert SignedGlobalID.create(Account(7, "ann")).token


def test_locate_signed_with_only() -> None:
    register_model(Ticket)
    try:
        token = str(SignedGlobalID.create(Account(7, "ann"), purpose="p"))
        with pytest.raises(ModelNotAllowed):
            locate_signed(token, purpose="p", only=Ticket)
        assert Account.store.calls == []
    finally:
        unregister_model(Ticket)
