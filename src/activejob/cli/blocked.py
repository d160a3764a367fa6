"""``activejob jobs blocked``: the concurrency keys blocked jobs wait for (flow:
concurrency), as the dashboard's blocked page shows them: per key, how many jobs wait,
how many of its slots are taken, and which jobs hold them.

The blocked jobs themselves are ``activejob jobs list --state blocked`` (its ERROR
column then names the key); ``activejob jobs discard JOB_ID`` discards one.

Example::

    activejob jobs blocked --json
"""

from __future__ import annotations

import argparse
from typing import Any

from activejob.cli.common import (
    OK,
    add_common_options,
    command,
    format_table,
    print_json,
    storage_from_args,
)
from activejob.storage.browse import COUNT_CAP, KEYS_SHOWN

__all__ = ["register"]


def register(actions: Any) -> None:
    """Add ``jobs blocked`` to the ``jobs`` subcommands."""
    parser = actions.add_parser("blocked", help="the concurrency keys blocked jobs wait for")
    add_common_options(parser)
    parser.add_argument(
        "--limit",
        type=int,
        default=KEYS_SHOWN,
        help=f"at most this many keys (default {KEYS_SHOWN})",
    )
    parser.set_defaults(func=blocked_keys)


@command("jobs blocked")
def blocked_keys(args: argparse.Namespace) -> int:
    """Print each key with its waiting jobs, taken slots and holders."""
    keys = storage_from_args(args).blocked_keys(args.limit)
    if args.json:
        print_json({"keys": [key.to_dict() for key in keys], "count_cap": COUNT_CAP})
        return OK
    rows = [
        [
            key.key,
            f"{key.waiting:,}{'+' if key.capped else ''}",
            f"{key.taken}" + ("" if key.limit is None else f" of {key.limit}"),
            ", ".join(key.holders) + (" ..." if key.taken > len(key.holders) else ""),
        ]
        for key in keys
    ]
    print(format_table(["KEY", "WAITING", "SLOTS TAKEN", "HELD BY"], rows))
    return OK
