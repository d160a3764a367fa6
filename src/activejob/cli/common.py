"""What the ``activejob`` subcommands share: ``--adapter``, ``--import``, ``--json``,
finding the storage, and printing tables.

Example::

    def register(subparsers):
        parser = subparsers.add_parser("thing")
        add_common_options(parser)
        parser.set_defaults(func=run)

    def run(args):
        storage = storage_from_args(args)
        ...
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timezone
from typing import Any

from activejob.adapters.cache import reset_adapters
from activejob.adapters.durable import storage_of
from activejob.errors import ActiveJobError, ConfigurationError
from activejob.job.registry import import_modules
from activejob.storage.base import Storage, StorageError, StorageUnavailable

__all__ = [
    "Action",
    "add_actions",
    "add_common_options",
    "check_adapter_url",
    "command",
    "format_table",
    "format_time",
    "import_job_modules",
    "job_modules",
    "print_json",
    "print_listing",
    "report_done",
    "storage_from_args",
]

OK, FAILED, USAGE = 0, 1, 2


def add_common_options(parser: argparse.ArgumentParser, *, json_output: bool = True) -> None:
    """``--adapter URL``, ``--import MODULE`` (repeatable) and, optionally, ``--json``."""
    parser.add_argument(
        "--adapter",
        metavar="URL",
        help="backend URL (default: ACTIVEJOB_ADAPTER, else the configured adapter)",
    )
    parser.add_argument(
        "--import",
        dest="imports",
        action="append",
        default=[],
        metavar="MODULE",
        help="import a module that defines jobs or configures activejob "
        "(repeatable; also ACTIVEJOB_IMPORTS=a,b)",
    )
    if json_output:
        parser.add_argument("--json", action="store_true", help="print JSON for machines")


def job_modules(flags: Sequence[str]) -> list[str]:
    """Modules named by ``--import`` flags, then by ``ACTIVEJOB_IMPORTS`` (comma-separated),
    without duplicates. A file path instead of a module name raises
    ``ConfigurationError`` with the module name to use."""
    from_env = os.environ.get("ACTIVEJOB_IMPORTS", "")
    for name in flags:
        _check_module_name(name, "--import takes a module name: did you mean --import {}?")
    env_names = [part.strip() for part in from_env.split(",")]
    for name in env_names:
        _check_module_name(name, "ACTIVEJOB_IMPORTS takes module names: did you mean {}?")
    names = [*flags, *env_names]
    return list(dict.fromkeys(name for name in names if name))


def _check_module_name(name: str, message: str) -> None:
    if name.endswith(".py") or "/" in name or os.sep in name:
        path = name.removesuffix(".py").replace(os.sep, "/").strip("/")
        module = ".".join(part for part in path.split("/") if part not in ("", "."))
        raise ConfigurationError(message.format(module or "MODULE"))


def check_adapter_url(url: str | None) -> None:
    """Refuse a bare file path given as ``--adapter``, with the URL it probably meant.

    Example::

        check_adapter_url("jobs.sqlite3")  # ConfigurationError: ... sqlite:///jobs.sqlite3?
    """
    if not url or ":" in url:
        return
    suffixes = (".sqlite3", ".sqlite", ".db")
    if url.endswith(suffixes) or "/" in url or os.sep in url or os.path.isfile(url):
        raise ConfigurationError(
            f"--adapter takes a URL, not a file path: did you mean sqlite:///{url}?"
        )


def import_job_modules(flags: Sequence[str]) -> list[str]:
    """Import the modules :func:`job_modules` names (the working directory is on the
    path, as for ``python -m``); a module that fails raises ``ConfigurationError``."""
    names = job_modules(flags)
    import_modules(names)
    return names


def storage_from_args(args: argparse.Namespace, *, create: bool = False) -> Storage:
    """The storage of the adapter ``--adapter`` names (after ``--import``), else of the
    configured adapter. Unless ``create``, a SQLite file that does not exist raises
    ``StorageError`` instead of being created empty."""
    check_adapter_url(getattr(args, "adapter", None))
    import_job_modules(getattr(args, "imports", []) or [])
    storage = storage_of(getattr(args, "adapter", None) or None)
    if not create:
        _refuse_missing_database(storage)
    return storage


def _refuse_missing_database(storage: Storage) -> None:
    # Opening a SQLite file creates it: a typo in the path, or the default
    # sqlite:///activejob.sqlite3 run in the wrong folder, would show an empty store.
    if not storage.exists():
        where = getattr(storage, "path", None) or storage.describe()
        raise StorageError(f"no such database: {where} (`activejob migrate` creates it)")


def command(name: str) -> Callable[[Callable[[argparse.Namespace], int]], Callable[..., int]]:
    """Decorate a subcommand: errors become a message on stderr and an exit status."""

    def decorate(func: Callable[[argparse.Namespace], int]) -> Callable[..., int]:
        @functools.wraps(func)
        def run(args: argparse.Namespace) -> int:
            try:
                return func(args)
            except (ConfigurationError, ValueError) as exc:
                _error(name, exc)
                return USAGE
            except StorageUnavailable as exc:
                _error(name, exc, hint="is the database server running?" if exc.unreachable else "")
                return FAILED
            except ActiveJobError as exc:
                _error(name, exc)
                return FAILED
            finally:
                reset_adapters(wait=True)

        return run

    return decorate


Action = tuple[str, Callable[[argparse.Namespace], int], str]
"""A subcommand: its name, the function that runs it and its help text."""


def add_actions(actions: Any, specs: Iterable[Action], argument: str) -> None:
    """Subcommands that each take the common options and one positional ``argument``
    (``queues pause QUEUE``, ``recurring run KEY``).

    Example::

        add_actions(actions, [("pause", pause_queue, "stop claiming")], "queue")
    """
    for name, func, help_text in specs:
        action = actions.add_parser(name, help=help_text)
        add_common_options(action)
        action.add_argument(argument)
        action.set_defaults(func=func)


def print_listing(
    args: argparse.Namespace,
    records: Any,
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
) -> int:
    """Print a listing as ``records`` in JSON under ``--json``, else as a table.

    Example::

        return print_listing(args, [q.to_dict() for q in queues], ["QUEUE"], [[q.name]])
    """
    if args.json:
        print_json(records)
    else:
        print(format_table(headers, rows))
    return OK


def report_done(args: argparse.Namespace, done: str, field: str, noun: str) -> None:
    """Say an action was done to ``args.<field>``: ``{field: value, done: true}`` under
    ``--json``, else one line such as ``paused queue mailers``."""
    value = getattr(args, field)
    if args.json:
        print_json({field: value, done: True})
    else:
        print(f"{done} {noun} {value}")


def _error(name: str, exc: BaseException, *, hint: str = "") -> None:
    message = f"activejob {name}: error: {exc}"
    if hint:
        message += f" ({hint})"
    sys.stderr.write(message + "\n")


def print_json(value: Any) -> None:
    """Print ``value`` as indented JSON (datetimes as ISO 8601)."""
    sys.stdout.write(json.dumps(value, indent=2, default=_json_default) + "\n")


def _json_default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "value"):
        return value.value
    return str(value)


def format_time(moment: datetime | None) -> str:
    """A time for people, in UTC and saying so (``--json`` keeps ISO 8601).

    Example::

        format_time(info.run_at)  # '2026-12-02 14:03:11 UTC'
    """
    if moment is None:
        return ""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def format_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """Plain columns aligned with spaces, a header line first.

    Example::

        format_table(["ID", "STATE"], [["1", "ready"]])  # 'ID  STATE\\n1   ready'
    """
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    return "\n".join(lines)
