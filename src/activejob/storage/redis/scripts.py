"""The Lua scripts, kept as data in ``.lua`` files beside this module.

Each script is its own file preceded by the parts of ``_lib.lua`` (shared helpers and
the key layout) it uses, run with ``EVALSHA`` and loaded on ``NOSCRIPT`` (a restarted
Redis has forgotten it), on a connection of the calling thread's own (see
:class:`Scripts`). Only the helpers a script calls are included: Lua builds every
``local function`` on each call, and that is measurable at Redis speed. Every script
takes the key prefix and the caller's clock as its first two arguments; see
``_lib.lua``.

Example::

    scripts = Scripts(client)
    sids = scripts.run("push", [prefix, now, "0", *job_fields])
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import weakref
from collections.abc import Callable, Sequence
from importlib import resources
from typing import Any

import redis
from redis.exceptions import NoScriptError

try:  # redis-py's hiredis extra (ours requires it); without it, redis-py's packer
    import hiredis

    _hiredis_pack: Any = getattr(hiredis, "pack_command", None)  # hiredis >= 2.1
except ImportError:  # pragma: no cover - an install without the extra
    _hiredis_pack = None

NAMES = (
    "push",
    "claim",
    "complete",
    "recover",
    "recover_worker",
    "unregister",
    "peek",
    "retry",
    "discard",
    "prune",
    "get",
    "list",
    "queues",
    "recurring_enqueue",
    "store_return_values",  # results: return values (django.tasks)
    "cancel",  # flow: cancellation
    "cancel_requests",
    "push_unique",  # flow: unique
    "browse",
    "run_now",
    "idle",  # hand-off to idle fetchers (handoff.py)
    "unidle",
    "resume",
    "push_unlimited",  # push for batches without concurrency limits (see VARIANTS)
)

VARIANTS = {"push_unlimited": ("push", "-- flow: concurrency")}
"""Scripts made from another's file without the lines of code that end with a
marker, and so without the helpers only those lines call. Lua makes every
``local function`` of a script again on each call: ``push`` for jobs that declare no
concurrency limit skips the twelve helpers of that feature, about 4 µs of Redis
time per call (a sixth of a single push) on the benchmark machine."""

Args = Sequence[str | int | float]


_DEFINES = re.compile(r"local function (\w+)")


def source(name: str) -> str:
    """The full text of script ``name``: the helpers it needs, then its own file."""
    files = resources.files(__package__)
    preamble, helpers = _split_lib(files.joinpath("_lib.lua").read_text())
    base, marker = VARIANTS.get(name, (name, ""))
    body = files.joinpath(f"{base}.lua").read_text()
    if marker:
        lines = body.splitlines(keepends=True)
        kept = [line for line in lines if not line.rstrip().endswith(marker)]
        if len(kept) == len(lines):
            raise AssertionError(f"{base}.lua has no line ending with {marker!r} for {name}")
        body = "".join(kept)
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


Packer = Callable[[Any, tuple[str | int | float, ...]], list[bytes]]


def _packer(connection_kwargs: dict[str, Any]) -> Packer:
    """How :class:`Scripts` packs a command for a connection made with
    ``connection_kwargs``: with ``hiredis.pack_command`` when it packs exactly what
    redis-py would (UTF-8, the default encoding; numbers as ``repr``), else by the
    connection's own packer.

    redis-py's ``send_command`` encodes each argument in Python before handing the
    list to hiredis, about 0.8 µs an argument: a single push has 11, and this is
    most of the client CPU it spends on top of the round trip. A text UTF-8 cannot
    encode (a lone surrogate) goes through redis-py's encoder, which replaces it
    (``encoding_errors``) as before.
    """
    encoding = str(connection_kwargs.get("encoding", "utf-8")).lower().replace("_", "-")
    hiredis_pack = _hiredis_pack
    if hiredis_pack is None or encoding not in ("utf-8", "utf8"):
        return lambda connection, command: list(connection.pack_command(*command))

    def pack(connection: Any, command: tuple[str | int | float, ...]) -> list[bytes]:
        try:
            return [hiredis_pack(command)]
        except UnicodeEncodeError:
            return list(connection.pack_command(*command))

    return pack


class _Lane(threading.local):
    """One thread's own connection, and the process it was made in."""

    connection: Any = None
    pid = 0


class Scripts:
    """Runs the scripts on one client, each in one round trip.

    :meth:`run` sends on a connection of the calling thread's own, made with the
    pool's settings, instead of checking one out of the pool for each call: a
    checkout polls the socket first (one more system call per command) and redis-py's
    command path records metrics around it, which together cost a single enqueue
    about 30% of its client CPU on the benchmark machine. The command is packed by
    hiredis in one C call (see :func:`_packer`). Like a checkout, each
    call first replaces a connection the server has closed. Such a connection is never
    left with a reply half read (redis-py disconnects it on any error, and the next
    call connects again); it closes when its thread ends, or on :meth:`close`.
    With ``own_connections=False`` (a URL that caps ``max_connections``), every call
    checks a connection out of the pool, so that the cap holds.
    """

    def __init__(self, client: redis.Redis, *, own_connections: bool = True) -> None:
        self._client = client
        self._text = {name: source(name) for name in NAMES}
        self._sha = {
            name: hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()
            for name, text in self._text.items()
        }
        self._own_connections = own_connections
        self._pack = _packer(client.connection_pool.connection_kwargs)
        self._lane = _Lane()
        self._lock = threading.Lock()
        self._opened: weakref.WeakSet[Any] = weakref.WeakSet()

    def load_all(self) -> None:
        """Load every script into the server now (a compile error surfaces here)."""
        pipe = self._client.pipeline(transaction=False)
        for text in self._text.values():
            pipe.script_load(text)
        pipe.execute()

    def run(self, name: str, args: Args) -> Any:
        """Run script ``name`` with ``args``; returns its reply."""
        try:
            return self._evalsha(self._sha[name], args)
        except NoScriptError:
            self._client.script_load(self._text[name])
            return self._evalsha(self._sha[name], args)

    def close(self) -> None:
        """Close the connections threads made for themselves."""
        with self._lock:
            opened, self._opened = list(self._opened), weakref.WeakSet()
        for connection in opened:
            connection.disconnect()

    def _evalsha(self, sha: str, args: Args) -> Any:
        if not self._own_connections:
            return self._client.evalsha(sha, 0, *args)
        connection = self._connection()
        connection.send_packed_command(self._pack(connection, ("EVALSHA", sha, 0, *args)))
        return connection.read_response()

    def _connection(self) -> Any:
        lane = self._lane
        if lane.connection is None or lane.pid != os.getpid():
            # A forked child never touches its parent's socket: it makes its own.
            pool = self._client.connection_pool
            lane.connection = pool.connection_class(**pool.connection_kwargs)
            lane.pid = os.getpid()
            with self._lock:
                self._opened.add(lane.connection)
        connection = lane.connection
        if getattr(connection, "_sock", None) is None:  # redis-py's socket, once connected
            connection.connect()  # (a no-op while connected, but through its retry wrapper)
        # As the pool does on checkout: a connection the server closed (a restart, its
        # idle timeout) reads as readable, and is replaced before the command is sent,
        # so a call that must not be retried is not lost to a stale socket.
        try:
            if connection.can_read():
                raise redis.ConnectionError("unexpected data on an idle connection")
        except (redis.ConnectionError, redis.TimeoutError, OSError):
            connection.disconnect()
            connection.connect()
        return connection

    def block(self, timeout: float, *command: str | float) -> Any:
        """Send a blocking command (``BLPOP key timeout``) on this thread's own
        connection, as :meth:`run` does, and wait up to ``timeout`` seconds more than
        the server should take for its reply (then the connection is dropped)."""
        if not self._own_connections:
            client: Any = self._client  # redis-py leaves execute_command untyped
            return client.execute_command(*command)
        connection = self._connection()
        connection.send_packed_command(self._pack(connection, command))
        return connection.read_response(timeout=timeout)

    def run_atomically(self, calls: Sequence[tuple[str, Args]]) -> list[Any]:
        """Run several scripts as one MULTI/EXEC, so no other client sees one applied
        without the others; returns their replies. Each script travels as its text
        (``EVAL``): a script missing from the server's cache could otherwise fail alone
        inside the transaction while the others ran."""
        pipe = self._client.pipeline(transaction=True)
        for name, args in calls:
            pipe.eval(self._text[name], 0, *args)
        return list(pipe.execute())

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
