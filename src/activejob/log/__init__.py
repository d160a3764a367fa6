"""Log lines for job events, in the spirit of Active Job's, under the ``activejob`` logger.

A subscriber to :mod:`activejob.events`, installed when activejob is imported.
Like any library, activejob only emits records; the application decides where
they go (``logging.basicConfig(level=logging.INFO)`` shows them)::

    Enqueued myapp.jobs.ReportJob (Job ID: 0b6c...) to async(reports) with arguments: 42
    Performing myapp.jobs.ReportJob (Job ID: 0b6c...) from async(reports) enqueued at ...
    Performed myapp.jobs.ReportJob (Job ID: 0b6c...) from async(reports) in 12.35ms

Every record carries structured fields in ``extra`` (``job_class``, ``job_id``,
``queue_name``, ``duration_ms``, ...; see ``docs/observability.md``). A job
class with ``log_arguments = False`` keeps its arguments out of both. Turn the
lines off with :func:`uninstall`, or with the usual ``logging`` controls
(``logging.getLogger("activejob").setLevel(logging.WARNING)``).

The package: :mod:`~activejob.log.lines` (each event's line),
:mod:`~activejob.log.records` (the records), :mod:`~activejob.log.text` (the
pieces of text).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from activejob import events
from activejob.log.lines import GATES, HANDLERS, job_line_level
from activejob.log.records import logger

__all__ = ["install", "installed", "job_lines_at", "logger", "uninstall"]

_installed = False


@contextmanager
def job_lines_at(level: int) -> Iterator[None]:
    """Log the per-job ``Performing ...`` and ``Performed ...`` lines of the jobs
    performed in this block at ``level`` instead of INFO; failures, retries and
    discards keep their levels.

    A bridge runs its jobs inside this at the level its foreign worker logs its own
    per-message lines (Dramatiq's are DEBUG), so that worker's default level shows
    as much for a bridged job as for its own task.

    Example::

        with activejob.log.job_lines_at(logging.DEBUG):
            activejob.execute(payload)
    """
    token = job_line_level.set(level)
    try:
        yield
    finally:
        job_line_level.reset(token)


def install() -> None:
    """Log job events (done on import; calling it again changes nothing).

    Example::

        activejob.log.install()
    """
    global _installed
    for name, handler in HANDLERS.items():
        events.unsubscribe(name, handler)
        events.subscribe(name, handler, when=GATES.get(name))
    _installed = True


def uninstall() -> None:
    """Stop logging job events.

    Example::

        activejob.log.uninstall()
    """
    global _installed
    for name, handler in HANDLERS.items():
        events.unsubscribe(name, handler)
    _installed = False


def installed() -> bool:
    """Whether job events are being logged.

    Example::

        assert activejob.log.installed()
    """
    return _installed
