"""A Starlette application whose own login protects the dashboard: its authentication
middleware sets ``request.user``, and the dashboard lets in the staff only.

Run it with ``uvicorn starlette_app:app``; send ``Authorization: Bearer <STAFF_TOKEN>``.
"""

import os
import secrets

from starlette.applications import Starlette
from starlette.authentication import (
    AuthCredentials,
    AuthenticationBackend,
    BaseUser,
    SimpleUser,
)
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.routing import Mount

from activejob.dashboard import create_app


class StaffTokens(AuthenticationBackend):
    """The application's login: here, one bearer token for the staff."""

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
        scheme, _, token = conn.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and secrets.compare_digest(token, os.environ["STAFF_TOKEN"]):
            return AuthCredentials(["staff"]), SimpleUser("staff")
        return None


def is_staff(request: Request) -> bool:
    return "staff" in request.auth.scopes


dashboard = create_app(os.environ.get("ACTIVEJOB_ADAPTER", "sqlite:///jobs.sqlite3"), auth=is_staff)

app = Starlette(
    routes=[Mount("/admin/jobs", app=dashboard)],
    middleware=[Middleware(AuthenticationMiddleware, backend=StaffTokens())],
)
