"""SQL as data: named queries and numbered migrations read from ``.sql`` files.

Each dialect package (``activejob.storage.sql.sqlite``, ``...postgresql``) holds
``queries.sql``, where every query follows a ``-- name: <name>`` line, and its
schema migrations ``NNNN_<what>.sql``, applied in order and recorded in the
``activejob_migrations`` table. Parameters use the driver's named style
(``:name`` for sqlite3, ``%(name)s`` for psycopg), never string formatting.

Example::

    sql = load_dialect("activejob.storage.sql.sqlite")
    sql.queries["claim_any"]          # the query text
    [m.name for m in sql.migrations]  # ['0001_initial']
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

__all__ = ["Dialect", "Migration", "load_dialect", "parse_queries"]

_NAME = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$", re.MULTILINE)
_MIGRATION = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    """One schema step: ``version`` 1, 2, ... and its script."""

    version: int
    name: str
    script: str


class Queries(Mapping[str, str]):
    """Query texts by name; an unknown name says which dialect lacks it."""

    def __init__(self, dialect: str, texts: dict[str, str]) -> None:
        self.dialect = dialect
        self._texts = texts

    def __getitem__(self, name: str) -> str:
        try:
            return self._texts[name]
        except KeyError:
            raise KeyError(f"no query named {name!r} in the {self.dialect} queries.sql") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._texts)

    def __len__(self) -> int:
        return len(self._texts)


@dataclass(frozen=True)
class Dialect:
    """Everything a dialect package keeps as SQL files."""

    queries: Queries
    migrations: tuple[Migration, ...]

    @property
    def latest_version(self) -> int:
        """The schema version after every migration."""
        return self.migrations[-1].version if self.migrations else 0


def parse_queries(text: str) -> dict[str, str]:
    """Split a ``queries.sql`` text into ``{name: sql}``.

    Example::

        parse_queries("-- name: one\\nSELECT 1;")  # {'one': 'SELECT 1'}
    """
    parts = _NAME.split(text)
    queries: dict[str, str] = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        if name in queries:
            raise ValueError(f"query {name!r} is defined twice")
        queries[name] = _statement(body)
    return queries


def _statement(body: str) -> str:
    """A query's text without the comment lines after it (they introduce the next
    query), and without its final ``;``: MySQL would take text after it for a second
    statement."""
    lines = body.strip().splitlines()
    while lines and (not lines[-1].strip() or lines[-1].lstrip().startswith("--")):
        lines.pop()
    return "\n".join(lines).strip().rstrip(";").strip()


@cache
def load_dialect(package: str) -> Dialect:
    """Read a dialect package's ``queries.sql`` and migrations (once per process)."""
    root = resources.files(package)
    queries = Queries(package.rsplit(".", 1)[-1], parse_queries((root / "queries.sql").read_text()))
    migrations = []
    for entry in root.iterdir():
        match = _MIGRATION.match(entry.name)
        if match:
            migrations.append(Migration(int(match[1]), entry.name[:-4], entry.read_text()))
    migrations.sort(key=lambda m: m.version)
    for expected, migration in enumerate(migrations, start=1):
        if migration.version != expected:
            raise ValueError(f"{package}: migration {migration.name} should be number {expected}")
    return Dialect(queries, tuple(migrations))
