"""``manage.py activejob worker | jobs | queues | recurring | workers | migrate``: the
``activejob`` command with the adapter and imports from ``settings.ACTIVEJOB``.

Example::

    python manage.py activejob worker --queues default,mailers
    python manage.py activejob jobs list --state failed
"""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import (  # type: ignore[import-untyped, unused-ignore]
    BaseCommand,
    CommandError,
)

from activejob.cli import COMMANDS, main
from activejob.contrib.django.apps import adapter_setting

__all__ = ["Command"]

_TAKES_ADAPTER = frozenset(COMMANDS)


class Command(BaseCommand):  # type: ignore[misc, unused-ignore]
    """Runs ``activejob.cli.main`` with ``--adapter`` and ``--import`` from settings."""

    help = "Run an activejob command (worker, jobs, queues, recurring, workers, migrate)."

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> Any:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.add_argument("args", nargs=argparse.REMAINDER)
        return parser

    def run_from_argv(self, argv: list[str]) -> None:
        # Everything after "activejob" belongs to our CLI, options included: Django's
        # parser would claim --help, --verbosity and friends.
        status = main(self.argv_for(argv[2:]))
        if status:
            raise SystemExit(status)

    def handle(self, *args: str, **options: Any) -> None:  # call_command() path
        status = main(self.argv_for(list(args)))
        if status:
            raise CommandError(f"activejob {' '.join(args)} exited with status {status}")

    @staticmethod
    def argv_for(args: list[str]) -> list[str]:
        """``args`` with the settings' adapter (unless given) and the boot import added
        at the end, after a subcommand's action."""
        if not args or args[0] not in _TAKES_ADAPTER or args[0] in ("-h", "--help"):
            return args
        extra: list[str] = []
        if not any(a == "--adapter" or a.startswith("--adapter=") for a in args):
            extra += ["--adapter", adapter_setting()]
        # The boot module sets Django up in every worker process; the app's ready()
        # then imports the jobs modules and settings.ACTIVEJOB["IMPORTS"].
        extra += ["--import", "activejob.contrib.django.boot"]
        return [*args, *extra]
