"""The core's own cost per job, next to a bare JSON round trip of the same payload.

Per job: build the job, ``serialize()``, ``json.dumps``, ``json.loads``, then
``run()`` it (deserialise, count the execution, callbacks, a no-op ``perform``).
The baseline is ``json.loads(json.dumps(payload))`` of the very same payload: the
least any JSON job system must do. Run: ``python bench/core.py``.
"""

from __future__ import annotations

import json
import time
from typing import Any

from activejob import Job, after_perform, before_perform
from activejob.job.execution import run


class NoopJob(Job):
    queue_as = "bench"

    @before_perform
    def before(self) -> None:
        pass

    @after_perform
    def after(self) -> None:
        pass

    def perform(self, account_id: int, name: str, options: dict[str, Any]) -> None:
        pass


ARGS = (42, "report", {"format": "pdf", "pages": 3})


def _best_of(fn: Any, n: int, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn(n)
        best = min(best, time.perf_counter() - started)
    return best / n


def core_per_job(n: int) -> None:
    for _ in range(n):
        payload = NoopJob(*ARGS).serialize()
        outcome = run(json.loads(json.dumps(payload)))
        assert outcome.kind == "succeeded"


def json_per_job(n: int, payload: dict[str, Any] = NoopJob(*ARGS).serialize()) -> None:  # noqa: B008
    for _ in range(n):
        json.loads(json.dumps(payload))


def measure(n: int = 20_000) -> list[dict[str, Any]]:
    """Rows for the benchmark table: microseconds per job, ours and the baseline."""
    ours = _best_of(core_per_job, n)
    bare = _best_of(json_per_job, n)
    return [
        {
            "measure": "core cost per job (serialize+JSON+deserialize+run no-op)",
            "ours": ours * 1e6,
            "raw": bare * 1e6,
            "unit": "µs/job",
            "ratio": ours / bare,
            "target": "≤ 5×",
        }
    ]


if __name__ == "__main__":
    for row in measure():
        print(
            f"{row['measure']}: {row['ours']:.1f} {row['unit']} vs bare JSON "
            f"{row['raw']:.1f} {row['unit']} = {row['ratio']:.2f}× (target {row['target']})"
        )
