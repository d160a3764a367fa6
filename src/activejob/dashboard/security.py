"""Who may use the dashboard, and proof that a form was sent from it.

:class:`AuthMiddleware` wraps the whole app, so no route, static files included,
answers without credentials: HTTP basic auth against one user and password
(compared in constant time), or the host application's own check, a callable
``(request) -> bool``. :class:`CsrfTokens` issues a signed double-submit token:
a random nonce and its HMAC in a cookie, the same value in every form; a POST is
refused unless both are present, equal and signed by this app's secret.

Example::

    app = AuthMiddleware(inner_app, BasicAuth("admin", "s3cret"))
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import inspect
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, cast

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from activejob.errors import ConfigurationError

__all__ = ["CSRF_COOKIE", "CSRF_FIELD", "AuthCheck", "AuthMiddleware", "BasicAuth", "CsrfTokens"]

CSRF_COOKIE = "activejob_csrf"
"""The cookie that holds the CSRF token."""
CSRF_FIELD = "csrf_token"
"""The form field every POST must carry, equal to the cookie."""

AuthCheck = Callable[[Request], bool] | Callable[[Request], Awaitable[bool]]
"""The host application's own check: true lets the request in, false answers 403.
A plain function runs on a worker thread (it may query a database); an ``async def``
is awaited."""


@dataclass(frozen=True)
class BasicAuth:
    """HTTP basic auth for one user.

    Example::

        BasicAuth("admin", os.environ["DASHBOARD_PASSWORD"])
    """

    user: str
    password: str
    realm: str = "activejob"

    def __post_init__(self) -> None:
        if not self.user or not self.password:
            raise ConfigurationError("dashboard basic auth needs a non-empty user and password")
        if ":" in self.user:
            raise ConfigurationError("a basic-auth user name cannot contain ':'")

    def allows(self, request: Request) -> bool:
        """Whether the request carries this user's credentials."""
        header = request.headers.get("authorization", "")
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic" or not encoded:
            return False
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        user, sep, password = decoded.partition(":")
        # Both compared, whatever the first gives, so the time taken says nothing.
        user_ok = hmac.compare_digest(user.encode(), self.user.encode())
        password_ok = hmac.compare_digest(password.encode(), self.password.encode())
        return bool(sep) and user_ok and password_ok


class AuthMiddleware:
    """Refuse every HTTP request the check does not allow: 401 with a basic-auth
    challenge, or 403 for a callable check that says no."""

    def __init__(self, app: ASGIApp, check: BasicAuth | AuthCheck) -> None:
        self.app = app
        self.check = check

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        response: Response | None = None
        if isinstance(self.check, BasicAuth):
            if not self.check.allows(request):
                response = PlainTextResponse(
                    "authentication required",
                    status_code=401,
                    headers={"WWW-Authenticate": f'Basic realm="{self.check.realm}"'},
                )
        elif not await self._allowed(request):
            response = PlainTextResponse("forbidden", status_code=403)
        if response is not None:
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _allowed(self, request: Request) -> bool:
        """The host's check: awaited if it is a coroutine function, else run on a
        worker thread, so a check that queries a database (Django's session and user)
        never blocks the event loop, nor meets Django's guard against sync calls in it."""
        check = cast("Callable[[Request], Any]", self.check)
        if inspect.iscoroutinefunction(check):
            return bool(await check(request))
        return bool(await run_in_threadpool(check, request))


class CsrfTokens:
    """Signed double-submit CSRF tokens: ``nonce.hmac(secret, nonce)``.

    Example::

        tokens = CsrfTokens(secret=None)      # a random secret for this process
        token = tokens.issue()
        tokens.valid(token, token)            # True
    """

    def __init__(self, secret: str | bytes | None = None) -> None:
        if secret is None:
            self._key = secrets.token_bytes(32)
        else:
            self._key = secret.encode() if isinstance(secret, str) else bytes(secret)
            if len(self._key) < 16:
                raise ConfigurationError("the dashboard secret needs at least 16 characters")

    def issue(self) -> str:
        """A fresh token."""
        nonce = secrets.token_urlsafe(24)
        return f"{nonce}.{self._sign(nonce)}"

    def signed(self, token: str | None) -> bool:
        """Whether ``token`` was issued with this secret."""
        if not token:
            return False
        nonce, _, signature = token.partition(".")
        return bool(nonce) and hmac.compare_digest(signature, self._sign(nonce))

    def valid(self, cookie: str | None, submitted: str | None) -> bool:
        """Whether a POST's form token matches its cookie and both are signed."""
        if not cookie or not submitted:
            return False
        return hmac.compare_digest(cookie, submitted) and self.signed(cookie)

    def _sign(self, nonce: str) -> str:
        return hmac.new(self._key, nonce.encode(), hashlib.sha256).hexdigest()
