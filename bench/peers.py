"""activejob beside its peers on the same servers, same jobs, same run.

    .venv/bin/pip install -r bench/requirements-peers.txt
    .venv/bin/python bench/peers.py                      # a few minutes
    .venv/bin/python bench/peers.py --jobs 500 --rounds 2 --servers redis

The peers: Huey (Redis and SQLite), Dramatiq (Redis), Celery (Redis) and
procrastinate (PostgreSQL), each run by its own worker command, with 5 threads
(or 5 concurrent jobs) in one process like ``activejob worker``'s default;
every system's settings and caveats are printed under the table.

Per round, for each system in turn (the order rotated every round, so the
machine's load of the moment is shared out):

- with no worker running, one batch of ``--jobs`` jobs of each kind is enqueued
  one call at a time (timed: the single-enqueue row), in this order: no-op, 1 ms
  sleep, one Redis ``GET`` on the job thread's own connection, one PostgreSQL
  ``SELECT 1`` on its own connection (``bench/peer_apps.py``);
- the system's worker starts and runs them (the queues are first in, first
  out); the first and the last job of each batch write the time they finished,
  and the batch's throughput is the jobs between them over that time, so
  start-up is not counted. Twice: with per-job log lines off for everyone
  (activejob ``--log-level WARNING``, Huey ``-q``, procrastinate ``--log-level
  warning``; Dramatiq's and Celery's defaults log no line per job), then with
  each system at its default (activejob and Huey and procrastinate: INFO, a line
  or two per job). Output goes to a file;
- idle enqueue-to-start: the worker idle, a job enqueued every 10 ms or so, from
  the enqueue call to the job's body (it reports over UDP); p50 of ``--samples``.

Each cell is the median of the rounds (and its min-max); the ratio is ours over
the best peer on that server. Targets (issue 12): worker throughput >= 2x the
fastest peer (no-op jobs, logs off and default), single enqueue >= 1.2x, idle
enqueue-to-start p50 <= the best peer's.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(ROOT / "src"), str(BENCH)]

KINDS = ["noop", "sleep", "redis", "pg"]
KIND_TEXT = {"noop": "no-op", "sleep": "1 ms sleep", "redis": "1 Redis GET", "pg": "1 PG query"}
THREADS = 5


@dataclass
class System:
    """One system on one server: how to run its worker, and what to print about it."""

    name: str
    server: str
    url: str
    queue: str
    settings: str
    caveat: str = ""

    @property
    def ours(self) -> bool:
        return self.name == "activejob"

    def env(self) -> dict[str, str]:
        return {"PEER_SYSTEM": self.name, "PEER_URL": self.url, "PEER_QUEUE": self.queue}

    def worker(self, logs: str, latency: bool = False) -> list[str]:
        """The worker command line; ``logs`` is ``off`` or ``default``."""
        off = logs == "off"
        if self.name == "activejob":
            return ["-m", "activejob", "worker", "--adapter", self.url, "--import", "peer_apps",
                    "--queues", self.queue, "--threads", str(THREADS),
                    "--log-level", "WARNING" if off else "INFO"]  # fmt: skip
        if self.name == "huey":
            argv = ["-m", "huey.bin.huey_consumer", "peer_apps.huey", "-w", str(THREADS),
                    "-k", "thread", *(["-q"] if off else [])]  # fmt: skip
            if latency and self.server == "sqlite":
                argv += ["-d", "0.01", "-b", "1", "-m", "0.01"]
            return argv
        if self.name == "dramatiq":
            return ["-m", "dramatiq", "peer_apps", "--processes", "1", "--threads", str(THREADS)]
        if self.name == "celery":
            return ["-m", "celery", "-A", "peer_apps", "worker", "-P", "threads",
                    "-c", str(THREADS), "-Q", self.queue]  # fmt: skip
        if self.name == "procrastinate":
            return ["-m", "procrastinate", "--app", "peer_apps.app",
                    *(["--log-level", "warning"] if off else []), "worker",
                    "-q", self.queue, "-c", str(THREADS)]  # fmt: skip
        raise ValueError(self.name)


@dataclass
class Results:
    """Every figure of one system, one list of per-round values per measure."""

    values: dict[str, list[float]] = field(default_factory=dict)

    def add(self, measure: str, value: float) -> None:
        self.values.setdefault(measure, []).append(value)


def _env(system: System, io: dict[str, str]) -> dict[str, str]:
    path = os.pathsep.join([str(BENCH), str(ROOT / "src")])
    return {**os.environ, "PYTHONPATH": path, **io, **system.env()}


@contextmanager
def running(system: System, logs: str, io: dict[str, str], latency: bool = False) -> Iterator[Path]:
    """The system's own worker, in its own process group, until the block ends."""
    fd, name = tempfile.mkstemp(prefix=f"aj-peers-{system.name}-", suffix=".log")
    log = Path(name)
    with os.fdopen(fd, "wb") as out:
        proc = subprocess.Popen([sys.executable, *system.worker(logs, latency)], cwd=BENCH,
                                env=_env(system, io), stdout=out, stderr=out,
                                start_new_session=True)  # fmt: skip
    try:
        yield log
    finally:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # children that outlived their parent
        log.unlink()


def client(system: System, io: dict[str, str], *argv: str) -> object:
    """Run ``bench/peer_apps.py`` with ``argv`` as the system's client; its JSON answer."""
    # Imported, not run as __main__: the job classes keep the module name workers import.
    code = "import peer_apps; peer_apps.main()"
    done = subprocess.run([sys.executable, "-c", code, *argv], cwd=BENCH,
                          env=_env(system, io), capture_output=True, text=True,
                          timeout=600)  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"{system.name} client {argv} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def wait_for(path: Path, proc_log: Path, timeout: float) -> float:
    deadline = time.monotonic() + timeout
    while not (path.exists() and path.read_text()):
        if time.monotonic() > deadline:
            tail = proc_log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"benchmark stuck waiting for {path}:\n{tail}")
        time.sleep(0.01)  # sleep-ok: polling a marker file with a deadline
    return float(path.read_text())


def throughput(system: System, kinds: list[str], n: int, logs: str, io: dict[str, str],
               results: Results) -> None:  # fmt: skip
    """Load a batch of each kind, then let the system's worker run them all."""
    with tempfile.TemporaryDirectory(prefix="aj-peers-") as tmp:
        for kind in kinds:
            os.mkdir(f"{tmp}/{kind}")
        rates = client(system, io, "load", ",".join(kinds), str(n), tmp)
        assert isinstance(rates, dict)
        for rate in rates.values():
            results.add("enqueue", rate)
        with running(system, logs, io) as log:
            for kind in kinds:
                first = wait_for(Path(f"{tmp}/{kind}/first"), log, 60)
                last = wait_for(Path(f"{tmp}/{kind}/last"), log, 300)
                results.add(f"{kind} {logs}", (n - 1) / max(last - first, 1e-9))


def idle_latency(system: System, samples: int, io: dict[str, str], results: Results) -> None:
    with running(system, "default", io, latency=True):
        delays = client(system, io, "latency", str(samples))
    assert isinstance(delays, list)
    results.add("idle p50", statistics.median(delays) * 1000)


# -- the servers ----------------------------------------------------------------------


def redis_systems(server: str, prefix: str) -> list[System]:
    joiner = "&" if "?" in server else "?"
    return [
        System(
            "activejob",
            "redis",
            f"{server}{joiner}prefix={prefix}-aj",
            "peers",
            "activejob worker --threads 5 (1 process)",
        ),
        System(
            "huey",
            "redis",
            server,
            f"{prefix}-huey",
            "huey_consumer -w 5 -k thread (RedisHuey, blocking BRPOP)",
            "Huey keeps no record of a finished task (no result for a None return)",
        ),
        System(
            "dramatiq",
            "redis",
            server,
            f"{prefix}-dq",
            "dramatiq --processes 1 --threads 5 (RedisBroker, default middleware)",
            "per-message log lines are DEBUG: its default logs none",
        ),
        System(
            "celery",
            "redis",
            server,
            f"{prefix}-celery",
            "celery worker -P threads -c 5 (Redis transport, no result backend)",
            "default -l WARNING logs no line per task; default pool is prefork",
        ),
    ]


def sqlite_systems(tmp: str) -> list[System]:
    return [
        System(
            "activejob",
            "sqlite",
            f"sqlite:///{tmp}/activejob.sqlite3",
            "peers",
            "activejob worker --threads 5 (1 process)",
        ),
        System(
            "huey",
            "sqlite",
            f"{tmp}/huey.sqlite3",
            "peers",
            "huey_consumer -w 5 -k thread (SqliteHuey)",
            "polls: default -d 0.1 s backing off to 10 s; the latency row runs"
            " -d 0.01 -b 1 -m 0.01 (a 10 ms poll) to be measurable",
        ),
    ]


def pg_systems(server: str, prefix: str) -> list[System]:
    parts = urlsplit(server)

    def db(name: str) -> str:
        return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))

    return [
        System(
            "activejob",
            "postgresql",
            db(f"{prefix}_aj"),
            "peers",
            "activejob worker --threads 5 (1 process)",
        ),
        System(
            "procrastinate",
            "postgresql",
            db(f"{prefix}_pc"),
            "peers",
            "procrastinate worker -c 5 (PsycopgConnector, LISTEN/NOTIFY)",
            "sync tasks run in asyncio.to_thread; finished jobs stay in its table",
        ),
    ]


def prepare(systems: list[System], pg_server: str, io: dict[str, str]) -> None:
    """Create what each system's store needs (databases, schemas, tables)."""
    for system in systems:
        if system.server == "postgresql":
            _pg_database(pg_server, urlsplit(system.url).path[1:], drop=False)
        if system.name == "activejob":
            from activejob.adapters.durable import storage_of

            storage_of(system.url).migrate()  # closed by reset_adapters in clean()
        elif system.name == "procrastinate":
            subprocess.run([sys.executable, "-m", "procrastinate", "--app", "peer_apps.app",
                            "schema", "--apply"], cwd=BENCH, env=_env(system, io),
                           check=True, capture_output=True)  # fmt: skip


def clean(systems: list[System], pg_server: str, redis_server: str, prefix: str) -> None:
    from activejob.adapters.cache import reset_adapters

    reset_adapters(wait=True)
    for system in systems:
        if system.server == "postgresql":
            _pg_database(pg_server, urlsplit(system.url).path[1:], drop=True)
    if any(s.server == "redis" for s in systems):
        import redis

        with redis.Redis.from_url(redis_server) as r:
            keys = list(r.scan_iter(match=f"*{prefix}*", count=1000))
            for i in range(0, len(keys), 500):
                r.delete(*keys[i : i + 500])


def _pg_database(server: str, name: str, drop: bool) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(server, autocommit=True) as admin:
        ident = sql.Identifier(name)
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))
        if not drop:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(ident))


def _reset_store(system: System) -> None:
    """Finished jobs from earlier rounds out of the way: every round starts alike."""
    if system.name == "activejob":
        from activejob.adapters.durable import storage_of
        from activejob.storage.base import JobFilter

        storage = storage_of(system.url)
        storage.discard(JobFilter(queue_name=system.queue))
        storage.prune(0)
    elif system.name == "procrastinate":
        import psycopg

        with psycopg.connect(system.url, autocommit=True) as conn:
            conn.execute("TRUNCATE procrastinate_jobs CASCADE")


# -- the table ------------------------------------------------------------------------


def cell(values: list[float] | None, digits: int) -> str:
    if not values:
        return ""
    mid = statistics.median(values)
    if len(values) == 1:
        return f"{mid:,.{digits}f}"
    return f"{mid:,.{digits}f} ({min(values):,.{digits}f}-{max(values):,.{digits}f})"


def table(server: str, systems: list[System], results: dict[str, Results], kinds: list[str],
          markdown: bool) -> None:  # fmt: skip
    measures: list[tuple[str, str, str, float | None]] = [
        ("enqueue", "single enqueue, jobs/s", "rate", 1.2)
    ]
    for kind in kinds:
        target = 2.0 if kind == "noop" else None
        measures.append((f"{kind} off", f"worker, {KIND_TEXT[kind]}, logs off, jobs/s", "rate",
                         target))  # fmt: skip
        measures.append((f"{kind} default", f"worker, {KIND_TEXT[kind]}, default logs, jobs/s",
                         "rate", target))  # fmt: skip
    measures.append(("idle p50", "idle enqueue-to-start p50, ms", "ms", 1.0))
    names = [s.name for s in systems]
    header = [f"{server}", *names, "ours / best peer", "target"]
    lines = []
    for key, text, kind, target in measures:
        got = {s.name: results[s.name].values.get(key) for s in systems}
        mids = {n: statistics.median(v) for n, v in got.items() if v}
        peers = {n: v for n, v in mids.items() if n != "activejob"}
        ratio_text, target_text = "", ""
        if "activejob" in mids and peers:
            if kind == "ms":
                best = min(peers.values())
                ratio = mids["activejob"] / best
                met = mids["activejob"] <= best
                target_text = f"<= best peer {'met' if met else 'MISSED'}"
            else:
                best = max(peers.values())
                ratio = mids["activejob"] / best
                met = ratio >= (target or 0)
                target_text = f">= {target:g}x {'met' if met else 'MISSED'}" if target else ""
            ratio_text = f"{ratio:.2f}"
        digits = 2 if kind == "ms" else 0
        lines.append([text, *[cell(got[n], digits) for n in names], ratio_text, target_text])
    widths = [max(len(r[i]) for r in [header, *lines]) for i in range(len(header))]

    def fmt(cells: list[str]) -> str:
        padded = [c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in
                  enumerate(zip(cells, widths, strict=True))]  # fmt: skip
        return "| " + " | ".join(padded) + " |" if markdown else "  ".join(padded)

    print(fmt(header))
    if markdown:
        print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for line in lines:
        print(fmt(line))
    print()
    for s in systems:
        print(f"- {s.name}: {s.settings}" + (f"; {s.caveat}" if s.caveat else ""))
    print()


def versions() -> str:
    from importlib.metadata import version

    found = []
    for name in ["activejob", "huey", "dramatiq", "celery", "procrastinate", "redis", "psycopg"]:
        try:
            found.append(f"{name} {version(name)}")
        except Exception:
            found.append(f"{name} missing")
    return ", ".join(found)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--servers", default="redis,sqlite,postgresql")
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--jobs", type=int, default=1000, help="jobs per batch of each kind")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--samples", type=int, default=100, help="idle latency samples")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--redis", default=os.environ.get("ACTIVEJOB_TEST_REDIS_URL",
                                                          "redis://127.0.0.1:6379/0"))  # fmt: skip
    parser.add_argument("--postgresql", default=os.environ.get(
        "ACTIVEJOB_TEST_POSTGRESQL_URL", "postgresql://127.0.0.1:5432/test"))  # fmt: skip
    args = parser.parse_args()
    kinds = [k for k in args.kinds.split(",") if k]
    servers = [s for s in args.servers.split(",") if s]
    io = {"PEER_REDIS_IO": args.redis, "PEER_PG_IO": args.postgresql}
    prefix = f"ajpeers_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    import platform

    print(f"Python {platform.python_version()}, {os.cpu_count()} cores; {versions()}")
    print(f"load average {os.getloadavg()[0]:.2f} at start; {args.jobs} jobs a batch,"
          f" {args.rounds} rounds, {args.samples} latency samples")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="aj-peers-sqlite-") as tmp:
        by_server: dict[str, list[System]] = {}
        if "redis" in servers:
            by_server["redis"] = redis_systems(args.redis, prefix)
        if "sqlite" in servers:
            by_server["sqlite"] = sqlite_systems(tmp)
        if "postgresql" in servers:
            by_server["postgresql"] = pg_systems(args.postgresql, prefix)
        every = [s for systems in by_server.values() for s in systems]
        results = {f"{s.server}/{s.name}": Results() for s in every}
        try:
            prepare(every, args.postgresql, io)
            for r in range(args.rounds):
                for systems in by_server.values():
                    turn = r % len(systems)
                    for system in systems[turn:] + systems[:turn]:
                        found = results[f"{system.server}/{system.name}"]
                        for logs in ("off", "default"):
                            _reset_store(system)
                            throughput(system, kinds, args.jobs, logs, io, found)
                        idle_latency(system, args.samples, io, found)
                print(f"round {r + 1} done, load average {os.getloadavg()[0]:.2f}",
                      file=sys.stderr)  # fmt: skip
        finally:
            clean(every, args.postgresql, args.redis, prefix)
        print(f"load average {os.getloadavg()[0]:.2f} at the end\n")
        for server, systems in by_server.items():
            table(server, systems, {s.name: results[f"{server}/{s.name}"] for s in systems},
                  kinds, args.markdown)  # fmt: skip


if __name__ == "__main__":
    main()
