"""A job listing's filters, from the query string to a
:class:`~activejob.storage.browse.JobQuery` and back into links.

Filters: ``state``, ``queue``, ``class``, ``error`` (error class), ``text`` (in the
payload), ``since``/``until`` (creation time: ``90m``, ``2h``, ``3d`` ago, or an ISO
date or time, UTC unless it says otherwise) and ``before``, the cursor of keyset
pagination (a storage id: the page lists older jobs).

Example::

    listing = parse({"state": "failed", "since": "2h"}, fixed_state=None)
    listing.query.created_after   # now - 7200
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

from activejob.storage.base import JobFilter, JobState
from activejob.storage.browse import SCAN_LIMIT, JobQuery, parse_time

__all__ = ["FIELDS", "Listing", "parse", "parse_time"]

FIELDS = ("state", "queue", "class", "error", "text", "since", "until")
"""The filters a listing keeps in its links, in the form's order."""
PAGE_SIZE = 50
SCAN_WINDOW = SCAN_LIMIT
"""Jobs a filtered page reads at most (see :mod:`activejob.storage.browse`)."""


@dataclass
class Listing:
    """A parsed listing: the query to run and the filters as given."""

    query: JobQuery
    filters: dict[str, str] = field(default_factory=dict)

    def link(self, **changes: str) -> str:
        """The query string of this listing with ``changes`` (an empty value drops one)."""
        kept = {key: value for key, value in {**self.filters, **changes}.items() if value}
        return urlencode(kept)

    @property
    def bulk_filter(self) -> JobFilter | None:
        """The :class:`JobFilter` that retry/discard "all matching" act on, or ``None``
        when a filter they cannot express (error, text, time) is set, or none is."""
        if any(self.filters.get(key) for key in ("error", "text", "since", "until")):
            return None
        query = self.query
        if query.state is None and query.queue_name is None and query.job_class is None:
            return None
        return JobFilter(
            states=None if query.state is None else [query.state],
            queue_name=query.queue_name,
            job_class=query.job_class,
            limit=None,
        )


def parse(params: Mapping[str, str], *, fixed_state: str | None) -> Listing:
    """The listing ``params`` ask for; ``ValueError`` for an unknown state, a bad
    time or a bad cursor."""
    given = {key: (params.get(key) or "").strip() for key in FIELDS}
    if fixed_state is not None:
        given["state"] = fixed_state
    try:
        state = JobState(given["state"]) if given["state"] else None
    except ValueError:
        raise ValueError(f"unknown state {given['state']!r}") from None
    before_text = (params.get("before") or "").strip()
    if before_text and not before_text.isdigit():
        raise ValueError(f"bad cursor {before_text!r}")
    query = JobQuery(
        state=state,
        queue_name=given["queue"] or None,
        job_class=given["class"] or None,
        error_class=given["error"] or None,
        text=given["text"] or None,
        created_after=parse_time(given["since"]) if given["since"] else None,
        created_before=parse_time(given["until"]) if given["until"] else None,
        before=int(before_text) if before_text else None,
        limit=PAGE_SIZE,
        scan=SCAN_WINDOW,
    )
    filters = {key: value for key, value in given.items() if value}
    if fixed_state is not None:
        filters.pop("state", None)
    return Listing(query, filters)
