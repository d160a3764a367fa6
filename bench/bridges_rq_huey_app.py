"""What the RQ workers of ``bridges_rq_huey.py`` import (``bench/`` on the path): our
no-op job beside RQ's own no-op function, so both rows run on one kind of worker."""

from __future__ import annotations

from activejob import Job


class BridgeNoopJob(Job):
    """Does nothing: what is measured is the bridge around it."""

    def perform(self, n: int) -> None:
        pass


def rq_noop(n: int) -> None:
    """RQ's own no-op function."""
