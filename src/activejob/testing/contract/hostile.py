"""The storage contract: rows written straight into the store, as an attacker or a buggy
old version would. One bad row costs that one job, never a claim, a listing or an
operator's command.

A backend opts in by implementing :meth:`HostileRows.corrupt` with its raw driver;
without it these tests are skipped.
"""

from __future__ import annotations

import pytest

from activejob.storage.base import ErrorInfo, JobFilter, JobState, Result, Storage
from activejob.testing.contract.base import ContractBase, new_job

S = JobState

DEEP = "[" * 100_000
"""A payload nested far deeper than Python's recursion limit."""
POISON_PAYLOADS = {
    "nested_too_deeply": DEEP,
    "not_json": '{"job_class": ',
    "not_an_object": '"just a string"',
}


class HostileRows(ContractBase):
    """Payloads nested too deeply or not JSON, and columns of the wrong type."""

    def corrupt(self, storage: Storage, job_id: str, column: str, value: object) -> bool:
        """Write ``value`` into ``column`` (``payload``, ``priority``, ``attempts``,
        ``run_at``, ``queue_name``; ``None`` removes the value, ``bytes`` are written
        as text, unchecked) of the stored job ``job_id`` with the raw driver;
        ``False`` when the store refuses the value (a typed, checked or NOT NULL
        column, a text type that must be UTF-8)."""
        pytest.skip("this backend's contract does not write hostile rows")

    @pytest.mark.parametrize("kind", sorted(POISON_PAYLOADS))
    def test_a_poison_payload_is_listed_shown_claimed_and_discarded(
        self, storage: Storage, kind: str
    ) -> None:
        good, bad = self.push(storage, new_job("q"), new_job("q"))
        assert self.corrupt(storage, bad, "payload", POISON_PAYLOADS[kind])
        listed = {info.job_id: info for info in storage.list(JobFilter())}
        assert sorted(listed) == sorted([good, bad])
        assert listed[good].payload["job_id"] == good
        shown = storage.get(bad)
        assert shown is not None and shown.state is S.READY
        assert set(shown.payload) == {"unreadable_payload", "reason"}
        assert len(shown.payload["unreadable_payload"]) < 300
        claimed = {c.job_id: c for c in storage.claim("w", ["q"], 10)}
        assert sorted(claimed) == sorted([good, bad])
        assert claimed[bad].payload == POISON_PAYLOADS[kind]
        error = ErrorInfo("activejob.errors.DeserializationError", "unreadable", "")
        storage.complete(
            [
                Result(claimed[good].id, S.SUCCEEDED, attempts=claimed[good].attempts),
                Result(claimed[bad].id, S.FAILED, error=error, attempts=claimed[bad].attempts),
            ]
        )
        assert self.state(storage, good) is S.SUCCEEDED
        assert [i.job_id for i in storage.list(JobFilter(states=[S.FAILED]))] == [bad]
        assert storage.discard(JobFilter(job_ids=[bad])) == 1
        assert self.state(storage, bad) is S.DISCARDED

    def test_a_ready_poison_payload_can_be_discarded_unrun(self, storage: Storage) -> None:
        [bad] = self.push(storage, new_job("q"))
        assert self.corrupt(storage, bad, "payload", DEEP)
        assert storage.discard(JobFilter(queue_name="q")) == 1
        assert self.state(storage, bad) is S.DISCARDED
        assert storage.claim("w", ["*"], 10) == []

    def test_a_priority_that_is_not_an_integer_costs_only_its_job(self, storage: Storage) -> None:
        good, bad, later = self.push(
            storage, new_job("q"), new_job("q", priority=5), new_job("q", priority=9)
        )
        if not self.corrupt(storage, bad, "priority", "high"):
            # The schema refused it: the row is as it was and claims go on.
            assert [c.job_id for c in storage.claim("w", ["*"], 10)] == [good, bad, later]
            return
        listed = {info.job_id: info for info in storage.list(JobFilter())}
        assert sorted(listed) == sorted([good, bad, later])
        shown = listed[bad]
        assert shown.priority == 0 and shown.error is not None
        assert shown.error.exception_class == "activejob.errors.DeserializationError"
        assert "priority 'high' is not an integer" in shown.error.message
        claimed = {c.job_id: c for c in storage.claim("w", ["q"], 10)}
        assert sorted(claimed) == sorted([good, bad, later])
        assert claimed[good].defect is None and claimed[later].defect is None
        defect = claimed[bad].defect
        assert defect is not None and "priority 'high' is not an integer" in defect

    @pytest.mark.parametrize(("column", "value"), [("attempts", "many"), ("run_at", "soon")])
    def test_other_columns_of_the_wrong_type_are_refused_or_listed(
        self, storage: Storage, column: str, value: str
    ) -> None:
        good, bad = self.push(storage, new_job("q"), new_job("q"))
        if not self.corrupt(storage, bad, column, value):
            return
        listed = {info.job_id: info for info in storage.list(JobFilter())}
        assert sorted(listed) == sorted([good, bad])
        error = listed[bad].error
        assert error is not None and f"{column} '{value}'" in error.message
        assert storage.discard(JobFilter(job_ids=[bad])) == 1
        assert [c.job_id for c in storage.claim("w", ["*"], 10)] == [good]

    def test_a_missing_queue_name_is_refused_or_costs_only_its_job(self, storage: Storage) -> None:
        good, bad = self.push(storage, new_job("q"), new_job("q"))
        if not self.corrupt(storage, bad, "queue_name", None):
            return
        listed = {info.job_id: info for info in storage.list(JobFilter())}
        assert sorted(listed) == sorted([good, bad])
        claimed = {c.job_id: c for c in storage.claim("w", ["q"], 10)}
        assert claimed[good].defect is None
        if bad in claimed:  # with its queue found again, or failed for the defect
            assert claimed[bad].queue_name == "q" or "queue" in (claimed[bad].defect or "")
        storage.complete([Result(c.id, S.FAILED, attempts=c.attempts) for c in claimed.values()])
        assert storage.claim("w", ["*"], 10) == []
        assert storage.discard(JobFilter(job_ids=[bad])) == 1

    def test_text_that_is_not_utf8_costs_only_its_job(self, storage: Storage) -> None:
        good, bad, other = self.push(storage, new_job("q"), new_job("q"), new_job("q"))
        if not self.corrupt(storage, bad, "payload", b'{"job_class": "\xff\xfe"}'):
            return
        listed = {info.job_id: info for info in storage.list(JobFilter())}
        assert sorted(listed) == sorted([good, bad, other])
        shown = storage.get(bad)
        assert shown is not None and shown.state is S.READY
        claimed = {c.job_id: c for c in storage.claim("w", ["q"], 10)}
        assert sorted(claimed) == sorted([good, bad, other])
        assert claimed[good].defect is None and claimed[other].defect is None
        defect = claimed[bad].defect
        assert defect is not None and "payload" in defect and "UTF-8" in defect
        assert [q.name for q in storage.queues()] == ["q"]
