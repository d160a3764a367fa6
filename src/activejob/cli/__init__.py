"""The ``activejob`` command (also ``python -m activejob``).

Each subcommand lives in ``activejob.cli.<name>`` and exposes
``register(subparsers)``, which adds its parser and sets ``func``: a callable
taking the parsed arguments and returning the exit status. Exit status: 0 done,
1 the operation failed (server down, unknown job), 2 bad usage or configuration.

Example::

    activejob jobs list --state failed --adapter sqlite:///jobs.sqlite3
    activejob queues pause mailers
    activejob recurring list
    activejob workers --json
    activejob migrate --adapter postgresql://localhost/app
    activejob dashboard --adapter sqlite:///jobs.sqlite3
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["COMMANDS", "main"]

COMMANDS = ("worker", "workers", "jobs", "queues", "recurring", "migrate", "dashboard", "top")
"""Subcommands, each the module ``activejob.cli.<name>``."""


def build_parser() -> argparse.ArgumentParser:
    """The ``activejob`` parser with every available subcommand."""
    from activejob import __version__

    parser = argparse.ArgumentParser(
        prog="activejob", description="Run and operate activejob background jobs."
    )
    parser.add_argument("--version", action="version", version=f"activejob {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"activejob.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"activejob.cli.{name}":
                continue  # this command is not part of this installation
            _broken(subparsers, name, exc)
            continue
        except Exception as exc:
            _broken(subparsers, name, exc)
            continue
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``activejob`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return 2
    return int(func(args))


def _broken(subparsers: Any, name: str, error: BaseException) -> None:
    """A command whose module fails to import still parses, and reports why."""
    parser = subparsers.add_parser(name, help=f"(unavailable: {error})")
    parser.add_argument("rest", nargs=argparse.REMAINDER)

    def fail(args: argparse.Namespace) -> int:
        sys.stderr.write(f"activejob {name}: unavailable: {type(error).__name__}: {error}\n")
        return 2

    parser.set_defaults(func=fail)
