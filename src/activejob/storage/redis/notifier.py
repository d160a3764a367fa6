"""Waking idle workers without polling: one Pub/Sub subscription per storage.

Every script that makes a job claimable publishes on ``<prefix>notify:<queue>``. A
listener thread holds a pattern subscription to all of them for as long as the
storage lives. A waiter calls :meth:`Notifier.listen` before it looks for work and
:meth:`Notifier.wait` after, so a message published in between is not lost: the
wait finds it newer than the thread's mark.

Pub/Sub rather than a list that waiters ``BLPOP``: a token popped by a worker that
does not serve its queue would wake nobody who does, and a list per queue cannot
express ``"*"`` or ``"mail*"``; a pattern subscription can, and every waiter whose
queues match hears every message.

Example::

    notifier = Notifier(client, "activejob:")
    notifier.listen()
    ...                                       # look for work; none found
    notifier.wait(QueueSelector.parse(["default"]), timeout=5.0)  # True: may have work
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from typing import Any

import redis

from activejob.storage.redis.connection import TRANSIENT, Backoff
from activejob.storage.selector import QueueSelector
from activejob.storage.signal import WakeSignal

logger = logging.getLogger("activejob.redis")

_GLOB_SPECIALS = "\\*?[]^"


def _glob_escape(text: str) -> str:
    return "".join("\\" + ch if ch in _GLOB_SPECIALS else ch for ch in text)


class Notifier:
    """Blocks callers until a queue they wait on is announced, or a timeout.

    What each thread has heard is kept by a :class:`~activejob.storage.signal.WakeSignal`
    (a generation per thread), so several threads waiting on the same queues all
    wake, and :meth:`wake_all` wakes those waiting now without disabling later waits.
    """

    def __init__(self, client: redis.Redis, key_prefix: str) -> None:
        self._client: Any = client  # redis-py leaves pubsub() untyped
        self._channel_prefix = key_prefix + "notify:"
        self._signal = WakeSignal()
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._subscribed = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()

    def listen(self, *, keep: bool = False) -> None:
        """Start tracking announcements for this thread, forgetting earlier ones
        (with ``keep``, only if it has listened or waited before: see
        :meth:`WakeSignal.mark`).

        Call it before looking for work, then :meth:`wait`: whatever is announced
        after this call wakes that wait.
        """
        self._start()
        self._signal.mark(keep=keep)

    def mark(self) -> None:
        """Remember this thread's place (as :meth:`listen` does, without starting the
        listener): what is announced from now on wakes its next wait."""
        self._signal.mark()

    def wait(self, selector: QueueSelector, timeout: float) -> bool:
        """Block until a queue ``selector`` matches is announced (since this thread's
        :meth:`listen`), :meth:`wake_all` is called, or ``timeout`` passes;
        ``False`` on timeout."""
        return self._signal.wait(selector, max(0.0, timeout))

    def heard(self, selector: QueueSelector) -> bool:
        """Whether a queue ``selector`` matches was announced (or :meth:`wake_all`
        called) since this thread last looked, without blocking; listening goes on
        from here (as after :meth:`listen` with ``keep``, unless this call starts the
        listener: what it announces on subscribing is for earlier listeners)."""
        starting = self._thread is None or self._pid != os.getpid()
        self.listen(keep=not starting)
        return self._signal.wait(selector, 0.0)

    def wake_all(self) -> None:
        """Wake every caller blocked in :meth:`wait` (and any that listened before)."""
        self._signal.notify(None)

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
        with self._lock:
            if self._pid != os.getpid():
                # A forked child has the signal but not the listener thread.
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
        self._signal.notify(queue)

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
