"""The storage contract: return values kept with succeeded jobs (``Result.return_value``,
read back as ``JobInfo.return_value``), which ``django.tasks``' ``get_result`` reads."""

from __future__ import annotations

import json

import pytest

from activejob.storage.base import JobFilter, JobState, Result, Storage
from activejob.storage.return_value import RETURN_VALUE_LIMIT
from activejob.testing.contract.base import ContractBase, new_job

S = JobState


class ReturnValues(ContractBase):
    """A succeeded job keeps the JSON text it was completed with; nothing else does."""

    def test_a_succeeded_job_keeps_its_return_value_beside_others_in_one_batch(
        self, storage: Storage
    ) -> None:
        ids = self.push(storage, *(new_job() for _ in range(4)))
        claimed = {c.job_id: c for c in storage.claim("w", ["*"], 4)}
        kept, plain, unicode, failed = (claimed[i] for i in ids)
        value = json.dumps({"total": 42, "items": [1, 2.5, None, "x"]})
        storage.complete(
            [
                Result(kept.id, S.SUCCEEDED, attempts=kept.attempts, return_value=value),
                Result(plain.id, S.SUCCEEDED, attempts=plain.attempts),
                Result(unicode.id, S.SUCCEEDED, return_value='"żółw — 🐢"'),
                Result(failed.id, S.FAILED, attempts=failed.attempts),
            ]
        )
        infos = [self.info(storage, job_id) for job_id in ids]
        assert [i.state for i in infos] == [S.SUCCEEDED, S.SUCCEEDED, S.SUCCEEDED, S.FAILED]
        assert json.loads(infos[0].return_value or "") == json.loads(value)
        assert infos[1].return_value is None and infos[3].return_value is None
        assert infos[2].return_value == '"żółw — 🐢"'
        listed = {i.job_id: i for i in storage.list(JobFilter(job_ids=ids))}
        assert listed[ids[0]].return_value == infos[0].return_value
        assert listed[ids[0]].to_dict()["return_value"] == infos[0].return_value

    def test_a_stale_result_keeps_no_return_value(self, storage: Storage) -> None:
        [job_id] = self.push(storage, new_job())
        [claimed] = storage.claim("w", ["*"], 1)
        # Another claim took over (the job was recovered and claimed again).
        storage.complete([Result(claimed.id, S.READY, attempts=claimed.attempts)])
        [again] = storage.claim("w2", ["*"], 1)
        storage.complete(
            [Result(claimed.id, S.SUCCEEDED, attempts=claimed.attempts, return_value="1")]
        )
        info = self.info(storage, job_id)
        assert info.state is S.RUNNING and info.return_value is None
        storage.complete([Result(again.id, S.SUCCEEDED, attempts=again.attempts)])
        assert self.info(storage, job_id).return_value is None

    def test_a_return_value_at_the_limit_is_kept_whole(self, storage: Storage) -> None:
        [job_id] = self.push(storage, new_job())
        [claimed] = storage.claim("w", ["*"], 1)
        value = '"' + "é" * ((RETURN_VALUE_LIMIT - 2) // 2) + '"'  # 2 bytes a character
        assert len(value.encode()) == RETURN_VALUE_LIMIT
        storage.complete([Result(claimed.id, S.SUCCEEDED, return_value=value)])
        assert self.info(storage, job_id).return_value == value

    def test_complete_refuses_a_return_value_it_must_not_keep(self, storage: Storage) -> None:
        self.push(storage, new_job())
        [claimed] = storage.claim("w", ["*"], 1)
        over = json.dumps("x" * RETURN_VALUE_LIMIT)
        with pytest.raises(ValueError, match="over RETURN_VALUE_LIMIT"):
            storage.complete([Result(claimed.id, S.SUCCEEDED, return_value=over)])
        with pytest.raises(ValueError, match="only a succeeded result"):
            storage.complete([Result(claimed.id, S.FAILED, return_value="1")])
        assert self.state(storage, claimed.job_id) is S.RUNNING  # nothing applied
