"""``activejob migrate``: create or upgrade the backend's schema.

Idempotent and safe to run from several machines at once. SQLite migrates by
itself on first use; PostgreSQL needs this once per release (or
``?auto_migrate=true`` on its URL).

Example::

    activejob migrate --adapter postgresql://app@db/app
"""

from __future__ import annotations

import argparse
from typing import Any

from activejob.cli.common import OK, add_common_options, command, print_json, storage_from_args

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add ``migrate``."""
    parser = subparsers.add_parser("migrate", help="create or upgrade the backend's schema")
    add_common_options(parser)
    parser.set_defaults(func=migrate)


@command("migrate")
def migrate(args: argparse.Namespace) -> int:
    """Apply pending migrations and say which."""
    storage = storage_from_args(args, create=True)
    apply = getattr(storage, "apply_migrations", None)
    if apply is None:
        storage.migrate()
        applied: list[str] = []
    else:
        applied = list(apply())
    if args.json:
        print_json({"applied": applied})
    elif applied:
        for name in applied:
            print(f"applied {name}")
    else:
        print("schema is up to date")
    return OK
