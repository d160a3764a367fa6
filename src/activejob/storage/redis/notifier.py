"""Waking idle workers without polling: one Pub/Sub subscription per storage.

Every script that makes a job claimable publishes on ``<prefix>notify:<queue>``. A
listener thread holds a pattern subscription to all of them for as long as the
storage lives. A waiter calls :meth:`Notifier.listen` before it looks for work and
:meth:`Notifier.wait` after, so a message published in between is not lost: it
sets the flag that the wait then finds.

Pub/Sub rather than a list that waiters ``BLPOP``: a token popped by a worker that
does not serve its queue would wake nobody who does, and a list per queue cannot
express ``"*"`` or ``"mail*"``; a pattern subscription can, and every waiter whose
queues match hears every message.

Example::

    notifier = Notifier(client, "activejob:")
    notifier.listen(["default"])
    ...                                       # look for work; none found
    notifier.wait(["default"], timeout=5.0)   # True when "default" may have work
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Sequence
from typing import Any

import redis

from activejob.storage.redis.connection import TRANSIENT, Backoff

logger = logging.getLogger("activejob.redis")

_GLOB_SPECIALS = "\\*?[]^"


def _glob_escape(text: str) -> str:
    return "".join("\\" + ch if ch in _GLOB_SPECIALS else ch for ch in text)


def matches(entries: Sequence[str], queue: str) -> bool:
    """Whether ``queue`` is one of ``entries`` (names, or prefixes ending in ``*``)."""
    for entry in entries:
        if entry.endswith("*"):
            if queue.startswith(entry[:-1]):
                return True
        elif entry == queue:
            return True
    return False


class Notifier:
    """Blocks callers until a queue they wait on is announced, or a timeout."""

    def __init__(self, client: redis.Redis, key_prefix: str) -> None:
        self._client: Any = client  # redis-py leaves pubsub() untyped
        self._channel_prefix = key_prefix + "notify:"
        self._cond = threading.Condition()
        # One flag per distinct queue list a caller waits on, kept between waits so
        # that an announcement made while the caller was claiming is remembered.
        self._pending: dict[tuple[str, ...], bool] = {}
        self._stopping = False
        self._closed = threading.Event()
        self._subscribed = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()

    def listen(self, queues: Sequence[str]) -> None:
        """Start tracking announcements for ``queues``, forgetting earlier ones.

        Call it before looking for work, then :meth:`wait`: whatever is announced
        after this call wakes that wait.
        """
        self._start()
        with self._cond:
            self._pending[tuple(queues)] = False

    def wait(self, queues: Sequence[str], timeout: float) -> bool:
        """Block until one of ``queues`` is announced (since :meth:`listen`),
        :meth:`wake_all` is called, or ``timeout`` passes; ``False`` on timeout."""
        key = tuple(queues)
        with self._cond:
            signalled = self._cond.wait_for(
                lambda: self._pending.get(key, True) or self._stopping, timeout=max(0.0, timeout)
            )
            self._pending[key] = False
            return bool(signalled)

    def wake_all(self) -> None:
        """Wake every caller blocked in :meth:`wait`, now and from now on."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()

    def close(self) -> None:
        """Stop listening."""
        self.wake_all()
        self._closed.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=2.0)

    def _start(self) -> None:
        if self._thread is not None and self._pid == os.getpid():
            return
        with self._cond:
            if self._pid != os.getpid():
                # A forked child has the flags but not the listener thread.
                self._pid, self._thread = os.getpid(), None
                self._subscribed.clear()
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._listen, name="activejob-redis-notifier", daemon=True
                )
                self._thread.start()
        # Until the subscription is confirmed, announcements could be missed; waiting
        # here is bounded, and after a failure the listener raises every flag anyway.
        self._subscribed.wait(timeout=1.0)

    def _announce(self, queue: str | None) -> None:
        with self._cond:
            for key in self._pending:
                if queue is None or matches(key, queue):
                    self._pending[key] = True
            self._cond.notify_all()

    def _listen(self) -> None:
        backoff = Backoff(first=0.05, cap=2.0)
        while not self._closed.is_set():
            pubsub = self._client.pubsub()
            try:
                pubsub.psubscribe(_glob_escape(self._channel_prefix) + "*")
                self._read(pubsub, backoff)
            except TRANSIENT as exc:
                logger.warning("lost the Redis notification channel (%s); reconnecting", exc)
            except Exception:
                logger.exception("Redis notification listener failed; restarting it")
            finally:
                self._subscribed.clear()
                with contextlib.suppress(Exception):  # a broken connection has nothing to release
                    pubsub.close()
            # Whatever was announced while disconnected is unknown: make waiters look.
            self._announce(None)
            self._closed.wait(backoff.next())

    def _read(self, pubsub: Any, backoff: Backoff) -> None:
        while not self._closed.is_set():
            message = pubsub.get_message(timeout=0.2)
            if message is None:
                continue
            kind = message["type"]
            if kind == "psubscribe":
                backoff.attempt = 0
                # Wake those who listened before (they may have missed something while
                # unsubscribed), then let new listeners in: they miss nothing from here.
                self._announce(None)
                self._subscribed.set()
            elif kind == "pmessage":
                channel = message["channel"]
                self._announce(channel[len(self._channel_prefix) :])
