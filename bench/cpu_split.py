"""Where the CPU goes while ``activejob worker`` runs no-op jobs (Linux, local server).

For 1 and 2 worker processes: jobs per second, the machine's busy cores, and the
CPU of the worker processes and of the server's processes (by name, from
``/proc``), per job and as a share of the machine. It tells whether a figure
is bounded by the machine (busy near every core), by the server (its share near
one core, for single-threaded Redis) or by the worker.

    .venv/bin/python bench/cpu_split.py redis://127.0.0.1:6379/0
    .venv/bin/python bench/cpu_split.py postgresql://127.0.0.1:5432/test
    .venv/bin/python bench/cpu_split.py sqlite:////tmp/cpu.db --job sleep --threads 20 --processes 1

``--job sleep`` runs 1 ms-sleep jobs instead (``bench/run.py``'s ``--threads 20``
row). A worker process near 1.0 cores while the machine has cores to spare may be
held by its GIL, or by waits that are not CPU: ``py-spy record --gil`` on it tells
them apart (a process held by its GIL has a GIL holder in nearly every sample).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import workers
from bench_jobs import QUEUE, NoopJob, SleepJob

import activejob
from activejob.adapters.cache import reset_adapters
from activejob.adapters.durable import storage_of
from activejob.storage.base import Storage

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User and system CPU of one process so far (0 once it has gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def pids_named(name: str) -> list[int]:
    """Every process whose command name is ``name``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == name:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            children.setdefault(parent, []).append(int(entry.name))
    out, pending = [], [pid]
    while pending:
        current = pending.pop()
        out.append(current)
        pending += children.get(current, [])
    return out


JOBS = {"noop": NoopJob, "sleep": SleepJob}


def run(url: str, storage: Storage, n: int, processes: int, server: str,
        job: type[NoopJob] | type[SleepJob] = NoopJob, threads: int = 5) -> None:  # fmt: skip
    workers._empty(storage)
    storage.pause(QUEUE)
    for start in range(0, n, 5000):
        activejob.perform_all_later([job(i) for i in range(start, min(n, start + 5000))])
    with workers._started(url, processes, storage, threads=threads) as started:
        procs = descendants(started.proc.pid)
        servers = pids_named(server)
        before_workers = sum(cpu_seconds(p) for p in procs)
        before_server = sum(cpu_seconds(p) for p in servers)
        busy = workers.busy_cores()
        clock = time.perf_counter()
        storage.resume(QUEUE)
        workers.until(lambda: workers._succeeded(storage, n) >= n, 300, "jobs to finish")
        elapsed = time.perf_counter() - clock
        cores = busy()
        worker_cpu = sum(cpu_seconds(p) for p in procs) - before_workers
        server_cpu = sum(cpu_seconds(p) for p in servers) - before_server
    workers._empty(storage)
    on_server = (
        f"{server} {server_cpu / elapsed:.2f} cores, {server_cpu / n * 1e6:.0f} µs/job"
        if servers
        else server
    )
    print(
        f"{processes} process(es): {n / elapsed:8,.0f} jobs/s | busy cores "
        f"{cores if cores is not None else float('nan'):.2f} of {os.cpu_count()} | "
        f"workers {worker_cpu / elapsed:.2f} cores, {worker_cpu / n * 1e6:.0f} µs/job | "
        f"{on_server}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("url", help="a redis:// or postgresql:// (or sqlite:) URL")
    parser.add_argument("--server", help="the server's process name (default: by URL)")
    parser.add_argument("--jobs", type=int, default=40000)
    parser.add_argument("--job", choices=sorted(JOBS), default="noop")
    parser.add_argument("--threads", type=int, default=5)
    parser.add_argument("--processes", default="1,2,1,2", help="the runs, in order")
    args = parser.parse_args()
    url = args.url
    if url.startswith("redis"):
        prefix = f"ajcpu-{uuid.uuid4().hex[:6]}"
        url = f"{url}{'&' if '?' in url else '?'}prefix={prefix}"
    server = args.server or ("redis-server" if url.startswith("redis") else "postgres")
    if url.startswith("sqlite"):
        server = "(none: SQLite runs inside the worker)"
    load = os.getloadavg()[0]
    print(f"{args.job} jobs, --threads {args.threads}; load average {load:.2f}", flush=True)
    activejob.configure(adapter=url)
    storage: Storage = storage_of(url)
    storage.migrate()
    try:
        for processes in (int(p) for p in args.processes.split(",")):
            run(url, storage, args.jobs, processes, server, JOBS[args.job], args.threads)
    finally:
        reset_adapters(wait=True)


if __name__ == "__main__":
    main()
