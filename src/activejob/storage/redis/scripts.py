"""The Lua scripts, kept as data in ``.lua`` files beside this module.

Each script is its own file preceded by the parts of ``_lib.lua`` (shared helpers and
the key layout) it uses, run with ``EVALSHA`` and loaded on ``NOSCRIPT`` (a restarted
Redis has forgotten it). Only the helpers a script calls are included: Lua builds every
``local function`` on each call, and that is measurable at Redis speed. Every script
takes the key prefix and the caller's clock as its first two arguments; see
``_lib.lua``.

Example::

    scripts = Scripts(client)
    sids = scripts.run("push", [prefix, now, "0", *job_fields])
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from importlib import resources
from typing import Any

import redis
from redis.exceptions import NoScriptError

NAMES = (
    "push",
    "claim",
    "complete",
    "recover",
    "unregister",
    "peek",
    "retry",
    "discard",
    "prune",
    "get",
    "list",
    "queues",
)

Args = Sequence[str | int | float]


_DEFINES = re.compile(r"local function (\w+)")


def source(name: str) -> str:
    """The full text of script ``name``: the helpers it needs, then its own file."""
    files = resources.files(__package__)
    preamble, helpers = _split_lib(files.joinpath("_lib.lua").read_text())
    body = files.joinpath(f"{name}.lua").read_text()
    needed: set[str] = set()
    pending = [body]
    while pending:
        text = pending.pop()
        for helper, block in helpers.items():
            if helper not in needed and re.search(rf"\b{helper}\(", text):
                needed.add(helper)
                pending.append(block)
    kept = [block for helper, block in helpers.items() if helper in needed]
    return "".join([preamble, *kept, body])


def _split_lib(text: str) -> tuple[str, dict[str, str]]:
    """The lib's preamble, and each ``local function`` with the comment above it, in order."""
    preamble: list[str] = []
    blocks: list[list[str]] = []
    comment: list[str] = []
    for line in text.splitlines(keepends=True):
        if line.startswith("--"):
            comment.append(line)
            continue
        if line.startswith("local function "):
            blocks.append([*comment, line])
        elif blocks:
            blocks[-1] += [*comment, line]
        else:
            preamble += [*comment, line]
        comment = []
    if blocks:
        blocks[-1] += comment
    helpers = {}
    for block in blocks:
        head = next(line for line in block if line.startswith("local function "))
        match = _DEFINES.match(head)
        assert match is not None
        helpers[match.group(1)] = "".join(block)
    return "".join(preamble), helpers


class Scripts:
    """Runs the scripts on one client, each in one round trip."""

    def __init__(self, client: redis.Redis) -> None:
        self._client = client
        self._text = {name: source(name) for name in NAMES}
        self._sha = {
            name: hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()
            for name, text in self._text.items()
        }

    def load_all(self) -> None:
        """Load every script into the server now (a compile error surfaces here)."""
        pipe = self._client.pipeline(transaction=False)
        for text in self._text.values():
            pipe.script_load(text)
        pipe.execute()

    def run(self, name: str, args: Args) -> Any:
        """Run script ``name`` with ``args``; returns its reply."""
        try:
            return self._client.evalsha(self._sha[name], 0, *args)
        except NoScriptError:
            self._client.script_load(self._text[name])
            return self._client.evalsha(self._sha[name], 0, *args)

    def run_many(self, name: str, calls: Sequence[Args]) -> list[Any]:
        """Run script ``name`` once per argument list, all in one pipelined round trip."""
        for attempt in (1, 2):
            pipe = self._client.pipeline(transaction=False)
            for args in calls:
                pipe.evalsha(self._sha[name], 0, *args)
            try:
                return pipe.execute()
            except NoScriptError:
                # Every call in the pipeline is this script, so none of them ran.
                if attempt == 2:
                    raise
                self._client.script_load(self._text[name])
        raise AssertionError("unreachable")
