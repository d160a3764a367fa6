"""SIGTERM and SIGINT for workers and supervisors: drain first, stop at once second.

SIGTERM or a first SIGINT asks for a drain; a second SIGINT asks to stop at once.

The kernel may deliver a signal to any thread, and a main thread blocked on a
lock would not notice it: Python runs handlers only in the main thread, between
bytecodes. So the main thread waits in :meth:`SignalRouter.pause`, a ``select``
on a socket that ``signal.set_wakeup_fd`` writes to whichever thread received
the signal (and that :meth:`SignalRouter.wake` writes to from other threads).
The handler itself only puts the signal number on a :class:`queue.SimpleQueue`
(whose ``put`` is safe in a signal handler); a small thread acts on it, so no
lock is ever taken inside a handler.

Example::

    with SignalRouter(on_drain=worker.stop, on_kill=lambda: os._exit(130)) as router:
        while not done.is_set():
            router.pause(None)      # returns when woken, so handlers run promptly
"""

from __future__ import annotations

import contextlib
import queue
import select
import signal
import socket
import threading
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any

__all__ = ["SignalRouter"]

_STOP_ROUTER = -1


class SignalRouter:
    """Route SIGTERM/SIGINT to ``on_drain`` (first) and ``on_kill`` (second SIGINT).

    Installs handlers only in the main thread; elsewhere only :meth:`pause` and
    :meth:`wake` work, and the caller stops the worker itself.
    """

    def __init__(self, on_drain: Callable[[], None], on_kill: Callable[[], None]) -> None:
        self.on_drain = on_drain
        self.on_kill = on_kill
        self._signals: queue.SimpleQueue[int] = queue.SimpleQueue()
        self._previous: dict[int, Any] = {}
        self._previous_fd: int | None = None
        self._thread: threading.Thread | None = None
        self._interrupts = 0
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)

    def __enter__(self) -> SignalRouter:
        if threading.current_thread() is not threading.main_thread():
            return self
        self._thread = threading.Thread(target=self._route, name="activejob-signals", daemon=True)
        self._thread.start()
        self._previous_fd = signal.set_wakeup_fd(self._wake_w.fileno(), warn_on_full_buffer=False)
        for signum in (signal.SIGTERM, signal.SIGINT):
            self._previous[signum] = signal.signal(signum, self._handle)
        # A child process holds these signals until now (see worker/child.py).
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous.clear()
        if self._previous_fd is not None:
            signal.set_wakeup_fd(self._previous_fd)
            self._previous_fd = None
        if self._thread is not None:
            self._signals.put(_STOP_ROUTER)
            self._thread.join(1.0)
        self._wake_r.close()
        self._wake_w.close()

    def pause(self, timeout: float | None) -> None:
        """Block until a signal arrives, :meth:`wake` is called, or ``timeout`` passes."""
        select.select([self._wake_r], [], [], timeout)
        with contextlib.suppress(BlockingIOError, InterruptedError):
            while self._wake_r.recv(4096):
                pass

    def wake(self) -> None:
        """Make a :meth:`pause` return (from any thread)."""
        with contextlib.suppress(BlockingIOError, OSError):
            self._wake_w.send(b"\0")

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self._signals.put(signum)

    def _route(self) -> None:
        while True:
            signum = self._signals.get()
            if signum == _STOP_ROUTER:
                return
            if signum == signal.SIGINT:
                self._interrupts += 1
                if self._interrupts >= 2:
                    self.on_kill()
                    continue
            self.on_drain()
