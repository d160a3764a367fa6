"""``activejob dashboard``: serve the dashboard (:mod:`activejob.dashboard`) with uvicorn.

The login is HTTP basic auth: ``ACTIVEJOB_DASHBOARD_USER`` (default ``admin``) and
``ACTIVEJOB_DASHBOARD_PASSWORD``; without a password one is made at random and
printed once, at start. It listens on 127.0.0.1 unless told ``--host``: put it
behind TLS before opening it to a network. Needs the ``dashboard`` extra.

Example::

    ACTIVEJOB_DASHBOARD_PASSWORD=s3cret activejob dashboard --adapter sqlite:///jobs.sqlite3
    activejob dashboard --adapter postgresql://localhost/app --host 0.0.0.0 --port 8080
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from typing import Any

from activejob.cli.common import OK, USAGE, add_common_options, command, storage_from_args

__all__ = ["DEFAULT_USER", "credentials", "register"]

DEFAULT_USER = "admin"
"""The login name when ``ACTIVEJOB_DASHBOARD_USER`` is not set."""


def register(subparsers: Any) -> None:
    """Add ``dashboard``."""
    parser = subparsers.add_parser("dashboard", help="serve the web dashboard")
    add_common_options(parser, json_output=False)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (8000)")
    parser.set_defaults(func=serve)


def credentials(environ: dict[str, str] | os._Environ[str]) -> tuple[str, str, bool]:
    """``(user, password, generated)`` from the environment; a random password when
    ``ACTIVEJOB_DASHBOARD_PASSWORD`` is unset or empty."""
    user = environ.get("ACTIVEJOB_DASHBOARD_USER") or DEFAULT_USER
    password = environ.get("ACTIVEJOB_DASHBOARD_PASSWORD") or ""
    if password:
        return user, password, False
    return user, secrets.token_urlsafe(18), True


@command("dashboard")
def serve(args: argparse.Namespace) -> int:
    """Serve the dashboard until interrupted."""
    try:
        import uvicorn

        from activejob.dashboard import create_app
    except ModuleNotFoundError as exc:
        sys.stderr.write(
            f"activejob dashboard: error: {exc.name} is not installed "
            "(pip install 'activejob[dashboard]')\n"
        )
        return USAGE
    storage = storage_from_args(args)
    user, password, generated = credentials(os.environ)
    app = create_app(storage, auth=(user, password))
    address = f"http://{args.host}:{args.port}/"
    print(f"activejob dashboard on {address} (jobs in {storage.describe()})")
    if generated:
        # Printed this once only: it lives in this process and nowhere else.
        print(
            f"log in as {user!r} with password {password} "
            "(set ACTIVEJOB_DASHBOARD_PASSWORD to choose one)"
        )
    sys.stdout.flush()
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return OK
