"""The chaos harness's own judgement: which reruns a kill or a server crash explains."""

from __future__ import annotations

from pathlib import Path

from tests.reliability.chaos_support import chaos

Run, Crash, explain = chaos.Run, chaos.Crash, chaos.explain


def test_a_rerun_after_its_process_was_killed_is_explained_by_the_kill() -> None:
    crash = Crash(killed={10: 5.0})
    assert explain([Run(10, 4.0), Run(11, 6.0)], crash) == "kill"


def test_a_rerun_while_the_first_process_lived_is_unexplained() -> None:
    assert explain([Run(10, 4.0), Run(11, 6.0)], Crash(killed={10: 7.0})) is None
    assert explain([Run(10, 4.0), Run(10, 6.0)], Crash()) is None


def test_a_claim_lost_in_the_server_crash_explains_a_rerun_only_where_claims_can_be_lost() -> None:
    crash = Crash(restart=(5.0, 6.0), claim_loss=1.0)
    assert explain([Run(10, 4.5), Run(10, 6.5)], crash) == "restart"
    assert explain([Run(10, 3.0), Run(10, 6.5)], crash) is None  # long before the crash
    assert explain([Run(10, 4.5), Run(10, 6.5)], Crash(restart=(5.0, 6.0))) is None


def test_the_ledger_reads_each_jobs_runs_in_start_order(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger"
    ledger.write_text("a 2 0 9.5\nb 3 0 1.0\na 1 0 2.0\n")
    runs = chaos.read_ledger(ledger)
    assert [run.pid for run in runs["a"]] == [1, 2]
    assert len(runs["b"]) == 1
