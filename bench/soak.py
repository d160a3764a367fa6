"""Soak: many no-op jobs through ONE ``activejob worker`` on each durable backend,
watched from outside for leaks and slowdowns.

    make soak                                        # 1,000,000 jobs per backend
    .venv/bin/python bench/soak.py --jobs 100000 --backends sqlite

Each backend is private to the run (an SQLite file; a PostgreSQL cluster made with
``initdb``; a ``redis-server`` with AOF, ``appendfsync always``; a MariaDB server
made with ``mariadb-install-db``: see ``chaos.py``).
All N jobs are enqueued first (``perform_all_later``, 5,000 a call), then one
worker command (one process, ``--threads 5``) runs them: the store goes from N
ready jobs to N finished ones. Each job appends one byte to a counter file, so
the harness reads the progress from the file's size and never loads the server it
measures. Five times a second it samples the worker process's RSS (``VmRSS`` in
``/proc/PID/status``), its open file descriptors (``/proc/PID/fd``) and the
counter. It prints:

- RSS and fds: their medians from 20 % to 50 % of the jobs (the first 20 % are the
  warm-up: connection pools and page caches fill) and in the second half: ``flat``
  when RSS stays within 10 % and no descriptor is added; and the medians of each
  tenth, to show the curve;
- the jobs per second of the second tenth of the run and of the last tenth;
- the store's size when empty (after ``migrate``), and after the run once the
  finished jobs are pruned (``storage.prune(0)``): SQLite's used pages
  (``page_count - freelist_count``), PostgreSQL's job rows and the relation's
  size after a plain ``VACUUM`` (space is reused, not returned to the OS),
  MariaDB's job rows and InnoDB's data and index length, Redis's ``used_memory``
  and key count.

It exits 1 if the median RSS grows more than 10 % or fds grow at all, the
last tenth is more than 10 % slower than the second, or the store is not back to
its baseline (SQLite pages within 10 %, no job rows or job keys left).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(ROOT / "src"), str(BENCH)]

import chaos  # noqa: E402
import counts  # noqa: E402
from chaos_jobs import SoakJob  # noqa: E402

import activejob  # noqa: E402
from activejob.adapters.cache import reset_adapters  # noqa: E402
from activejob.adapters.durable import storage_of  # noqa: E402
from activejob.storage.base import Storage  # noqa: E402

QUEUE = SoakJob.queue_as


@dataclass
class Sample:
    at: float
    succeeded: int
    rss_kb: int
    fds: int


@dataclass
class Soak:
    backend: str
    jobs: int
    samples: list[Sample] = field(default_factory=list)
    size_before: str = ""
    size_after: str = ""
    enqueue_seconds: float = 0.0
    back_to_baseline: bool = False
    seconds: float = 0.0

    def _between(self, lo: float, hi: float) -> list[Sample]:
        return [s for s in self.samples if lo * self.jobs <= s.succeeded <= hi * self.jobs]

    def _when(self, done: float) -> float:
        """When ``done`` jobs had succeeded, interpolated between samples."""
        before = self.samples[0]
        for s in self.samples:
            if s.succeeded >= done:
                if s.succeeded == before.succeeded:
                    return s.at
                share = (done - before.succeeded) / (s.succeeded - before.succeeded)
                return before.at + share * (s.at - before.at)
            before = s
        return self.samples[-1].at

    def _tenth_rate(self, tenth: int) -> float:
        lo, hi = self.jobs * tenth / 10, self.jobs * (tenth + 1) / 10
        return (hi - lo) / max(self._when(hi) - self._when(lo), 1e-9)

    def by_tenth(self) -> str:
        """The median RSS (MiB) and fds of each tenth of the run, and its jobs per second."""
        tenths = [self._between(k / 10, (k + 1) / 10) for k in range(10)]
        rss = " ".join(f"{_median([s.rss_kb for s in t]) / 1024:.1f}" if t else "-" for t in tenths)
        fds = " ".join(f"{_median([s.fds for s in t]):g}" if t else "-" for t in tenths)
        rates = " ".join(f"{self._tenth_rate(k):.0f}" for k in range(10))
        return f"medians by tenth: rss MiB {rss}; fds {fds}; jobs/s {rates}"

    def verdict(self) -> tuple[str, bool]:
        # Warm-up: the first 20 % (connection pools and page caches fill). Medians,
        # not maxima: a batch's objects or a descriptor open for a moment come and
        # go, a leak raises the middle of the range. The second half's median must
        # stay within 10 % of that from 20 % to 50 % (fds: not one more).
        reference, after = self._between(0.2, 0.5), self._between(0.5, 1.0)
        warm_rss, late_rss = (
            _median([s.rss_kb for s in reference]),
            _median([s.rss_kb for s in after]),
        )
        warm_fds, late_fds = _median([s.fds for s in reference]), _median([s.fds for s in after])
        rss_flat = late_rss <= warm_rss * 1.10
        fds_flat = late_fds <= warm_fds
        second, last = self._tenth_rate(1), self._tenth_rate(9)
        fast = last >= second * 0.90
        ok = rss_flat and fds_flat and fast and self.back_to_baseline
        text = (
            f"{self.backend:<11} {self.jobs:>9} enqueued in {self.enqueue_seconds:.0f}s, "
            f"run in {self.seconds:.0f}s: "
            f"rss {warm_rss / 1024:.1f}->{late_rss / 1024:.1f} MiB "
            f"({'flat' if rss_flat else 'GROWS'}), "
            f"fds {warm_fds:g}->{late_fds:g} ({'flat' if fds_flat else 'GROWS'}), "
            f"jobs/s 2nd tenth {second:.0f} last {last:.0f} ({'ok' if fast else 'SLOWER'}), "
            f"store {self.size_before} -> {self.size_after} "
            f"({'baseline' if self.back_to_baseline else 'NOT BACK'})  {'ok' if ok else 'FAIL'}"
        )
        return text, ok


def _median(values: list[int]) -> float:
    return float(statistics.median(values))


def store_size(server: chaos.Server, storage: Storage) -> tuple[str, tuple[int, ...]]:
    """A description of the store's size, and the numbers compared with the baseline."""
    if isinstance(server, chaos.SqliteFile):
        with sqlite3.connect(server.path) as conn:
            pages = conn.execute("PRAGMA page_count").fetchone()[0]
            free = conn.execute("PRAGMA freelist_count").fetchone()[0]
            size = conn.execute("PRAGMA page_size").fetchone()[0]
        return f"{(pages - free) * size / 1024:.0f} KiB used", (pages - free,)
    if isinstance(server, chaos.PrivatePostgres):
        import psycopg

        with psycopg.connect(server.url.split("?")[0], autocommit=True) as conn:
            conn.execute("VACUUM activejob_jobs")
            rows = conn.execute("SELECT count(*) FROM activejob_jobs").fetchone()
            size = conn.execute("SELECT pg_total_relation_size('activejob_jobs')").fetchone()
        assert rows is not None and size is not None
        return f"{rows[0]} rows, {size[0] / 1024:.0f} KiB", (rows[0],)
    if isinstance(server, chaos.PrivateMariaDB):
        return _mariadb_size(server)
    import redis

    client = redis.Redis(port=server.port)  # type: ignore[attr-defined]
    try:
        memory = int(client.info("memory")["used_memory"])
        keys = len(list(client.scan_iter(match="*job*", count=1000)))
    finally:
        client.close()
    return f"{memory / 1024:.0f} KiB, {keys} job keys", (keys,)


def _mariadb_size(server: chaos.PrivateMariaDB) -> tuple[str, tuple[int, ...]]:
    import MySQLdb

    conn = MySQLdb.connect(host="127.0.0.1", port=server.port, user="root", db="chaos")
    try:
        cursor = conn.cursor()
        cursor.execute("SELECT count(*) FROM activejob_jobs")
        (rows,) = cursor.fetchone()
        cursor.execute("ANALYZE TABLE activejob_jobs")
        cursor.fetchall()
        cursor.execute(
            "SELECT data_length + index_length FROM information_schema.tables"
            " WHERE table_schema = 'chaos' AND table_name = 'activejob_jobs'"
        )
        (size,) = cursor.fetchone()
    finally:
        conn.close()
    return f"{rows} rows, {int(size) / 1024:.0f} KiB", (int(rows),)


def sample(pid: int, succeeded: int) -> Sample:
    rss = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1])
    return Sample(time.monotonic(), succeeded, rss, len(os.listdir(f"/proc/{pid}/fd")))


def with_options(url: str, options: Sequence[str]) -> str:
    """``url`` with ``key=value`` settings added to its query."""
    for option in options:
        url += ("&" if "?" in url else "?") + option
    return url


def soak_backend(backend: str, jobs: int, threads: int, options: Sequence[str] = ()) -> Soak:
    with tempfile.TemporaryDirectory(prefix=f"activejob-soak-{backend}-") as tmp:
        home = Path(tmp)
        os.chmod(home, 0o755)
        server = chaos.server_for(backend, home)
        server.url = with_options(server.url, options)
        server.start()
        try:
            return _soak(server, home, jobs, threads)
        finally:
            reset_adapters(wait=True)
            server.close()


def _soak(server: chaos.Server, home: Path, jobs: int, threads: int) -> Soak:
    activejob.configure(adapter=server.url)
    storage: Storage = storage_of(server.url)
    storage.migrate()
    result = Soak(server.name, jobs)
    result.size_before, baseline = store_size(server, storage)
    counter = home / "counter"
    began = time.monotonic()
    for start in range(0, jobs, 5000):
        n = min(5000, jobs - start)
        activejob.perform_all_later([SoakJob(str(counter)) for _ in range(n)])
    result.enqueue_seconds = time.monotonic() - began
    flags = chaos.WorkerFlags(threads=threads, recover_after=60, heartbeat_interval=5)
    argv = [*flags.argv(server.url), "--queues", QUEUE]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(BENCH)]))
    with (home / "worker.log").open("wb") as out:
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        chaos.until(lambda: bool(chaos.children(proc.pid)), 60, "the worker process")
        child = chaos.children(proc.pid)[0]
        began = time.monotonic()
        done = 0
        while done < jobs:
            if proc.poll() is not None:
                raise RuntimeError((home / "worker.log").read_text()[-3000:])
            done = counter.stat().st_size if counter.exists() else 0
            result.samples.append(sample(child, done))
            time.sleep(0.2)  # sleep-ok: the sampling period
        result.seconds = time.monotonic() - began
        chaos.until(
            lambda: counts.succeeded(storage, QUEUE, jobs) == jobs, 60, "the last results recorded"
        )
    finally:
        proc.terminate()
        proc.wait(60)
    storage.prune(0)
    result.size_after, after = store_size(server, storage)
    if isinstance(server, chaos.SqliteFile):
        result.back_to_baseline = after[0] <= baseline[0] * 1.10
    else:
        result.back_to_baseline = after[0] <= baseline[0]
    storage.close()
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=1_000_000)
    parser.add_argument("--backends", default=",".join(chaos.BACKENDS))
    parser.add_argument("--threads", type=int, default=5)
    parser.add_argument("--samples", metavar="DIR", help="write each backend's samples as CSV")
    parser.add_argument(
        "--url-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a setting added to each backend's URL (e.g. vacuum_dead_rows=0); repeatable",
    )
    args = parser.parse_args(argv)
    failed = False
    for backend in args.backends.split(","):
        try:
            result = soak_backend(backend, args.jobs, args.threads, args.url_option)
        except chaos.Unavailable as exc:
            print(f"{backend:<11} skipped: {exc}", flush=True)
            continue
        text, ok = result.verdict()
        print(text, flush=True)
        print(f"{'':<11} {result.by_tenth()}", flush=True)
        if args.samples:
            rows = [f"{s.at:.3f},{s.succeeded},{s.rss_kb},{s.fds}" for s in result.samples]
            path = Path(args.samples) / f"soak-{backend}.csv"
            path.write_text("monotonic,succeeded,rss_kb,fds\n" + "\n".join(rows) + "\n")
        failed = failed or not ok
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
