"""The unique-job recipes of docs/flow-control.md: dedupe, debounce, one per day."""

from datetime import timedelta

from activejob import Job, unique


# Dedupe: at most one refresh of a feed waiting; a new one may queue once it starts.
@unique(until="started")
class RefreshFeedJob(Job):
    def perform(self, feed_id: int) -> None:
        print(f"refreshing feed {feed_id}")


# Debounce: each edit pushes the indexing 30 s later and carries the newest revision.
@unique(key=lambda document_id, **_: document_id, until="started", on_conflict="replace")
class IndexDocumentJob(Job):
    def perform(self, document_id: int, revision: int) -> None:
        print(f"indexing document {document_id} at revision {revision}")


# One per day: a second digest within 24 hours of the first is refused, loudly.
@unique(key="digest", within=timedelta(days=1), on_conflict="raise")
class DailyDigestJob(Job):
    def perform(self) -> None:
        print("sending the digest")
