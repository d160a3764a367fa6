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

from activejob import _time
from activejob.storage.base import JobState
from activejob.storage.browse import SCAN_LIMIT, JobQuery, parse_time
from activejob.storage.bulk import has_filter

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
    def can_act(self) -> bool:
        """Whether retry/discard "all matching" may act on this listing: any filter
        is set (acting on every job of the store is refused)."""
        return has_filter(self.query)

    def action_fields(self) -> dict[str, str]:
        """The filters an "all matching" form sends, its times made absolute (ISO,
        UTC), so what is confirmed is what is acted on, however long the reader waits."""
        fields = {key: self.filters.get(key, "") for key in FIELDS}
        if self.query.state is not None:
            fields["state"] = JobState(self.query.state).value
        for key, value in (
            ("since", self.query.created_after),
            ("until", self.query.created_before),
        ):
            if value is not None:
                fields[key] = _time.from_timestamp(value).isoformat()
        return fields


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
