"""The dashboard: an ASGI (Starlette) app to see and operate stored jobs.

Closed by default: :func:`create_app` refuses to build an app without auth unless
told ``auth=False`` (for an app the host already protects). Every state change is a
POST carrying a CSRF token; every value shown is escaped. Needs the ``dashboard``
extra (``pip install 'activejob[dashboard]'``). See ``docs/dashboard.md``.

Example::

    from activejob.dashboard import create_app

    app = create_app("sqlite:///jobs.sqlite3", auth=("admin", "s3cret"))
    # uvicorn module:app, or Mount("/jobs", app=app) in a Starlette/FastAPI app
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from activejob.errors import ConfigurationError

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from activejob.dashboard.security import AuthCheck

__all__ = ["create_app"]


def create_app(
    adapter: Any = None,
    *,
    auth: tuple[str, str] | AuthCheck | Literal[False] | None = None,
    base_path: str = "",
    secret: str | None = None,
) -> Starlette:
    """The dashboard as a Starlette app on ``adapter``'s jobs.

    ``adapter`` is a backend URL, an adapter, a :class:`~activejob.storage.base.Storage`,
    or ``None`` for the configured adapter (looked up at the first request).
    ``auth`` is ``("user", "password")`` for HTTP basic auth, a callable
    ``(request) -> bool`` for the host application's own login (false answers 403),
    or ``False`` for no check at all; leaving it out raises ``ConfigurationError``. A
    plain callable runs on a worker thread, so it may query a database (Django's
    session and user); an ``async def`` one is awaited.
    ``base_path`` serves every route under a prefix (``"/jobs"``); mounting the app
    (``Mount("/jobs", app=...)``) needs none. ``secret`` signs the CSRF tokens: give
    the same one to every process serving the dashboard (default: random per process).

    Example::

        app = create_app("postgresql://localhost/app", auth=lambda request: request.user.is_staff)
    """
    from activejob.dashboard.app import build_app
    from activejob.dashboard.security import BasicAuth

    if auth is None:
        raise ConfigurationError(
            "create_app() needs auth: auth=('user', 'password'), a callable "
            "(request) -> bool, or auth=False for an app the host already protects"
        )
    check: Any
    if auth is False:
        check = None
    elif isinstance(auth, tuple):
        if len(auth) != 2 or not all(isinstance(part, str) for part in auth):
            raise ConfigurationError("auth takes a ('user', 'password') tuple of two strings")
        check = BasicAuth(auth[0], auth[1])
    elif callable(auth):
        check = auth
    else:
        raise ConfigurationError(
            f"auth takes ('user', 'password'), a callable or False, got {type(auth).__name__}"
        )
    return build_app(adapter, check, base_path=base_path, secret=secret)
