"""Chaos: at-least-once proven from outside, through kill -9 and a server restart.

    make chaos                                     # 10,000 jobs on each backend
    .venv/bin/python bench/chaos.py --jobs 2000 --backends sqlite,redis

For each backend (SQLite in a temporary file; a PRIVATE PostgreSQL made with
``initdb`` on a free port; a PRIVATE ``redis-server`` with ``appendonly yes``,
``appendfsync always``; a PRIVATE MariaDB made with ``mariadb-install-db``), N jobs
are enqueued into one queue; each job's body appends ``job_id pid executions
started_at`` to a ledger file outside the store
(see ``chaos_jobs.py``). Then 2-4 ``activejob worker`` processes (the real CLI)
work the queue while, every ~``--kill-every`` seconds, one of them is killed with
SIGKILL: either its worker child alone (its supervisor restarts it and hands it
the dead one's jobs) or the whole process group, supervisor and child (replaced
by a new ``activejob worker``; the dead one's jobs come back through heartbeat
recovery, ``--recover-after``). Once, when half the jobs are done, the server
restarts: PostgreSQL by ``pg_ctl restart -m immediate`` (a crash and recovery),
Redis by SIGKILL and a new ``redis-server`` on the same AOF, MariaDB by SIGKILL and
a new ``mariadbd`` on the same data folder (InnoDB's crash recovery), and SQLite,
which has no server, by a SIGKILL of every process that has the file open.

It then compares the ledger with the store and prints, per backend:

- ``lost``: enqueued jobs that did not succeed (missing, failed or discarded),
  or that succeeded with no run in the ledger;
- ``dupes``: jobs that ran more than once, and ``explained`` those of them where
  every run but the last was in a process killed afterwards, and each rerun
  started after that kill (a run in flight when its process died runs again:
  at-least-once); a rerun while the earlier run's process was alive is
  unexplained;
- ``stuck``: jobs still ready, running or scheduled when the run gives up.

It exits 1 if anything is lost or stuck or a duplicate is unexplained.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import itertools
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(ROOT / "src"), str(BENCH)]

import chaos_jobs  # noqa: E402
import counts  # noqa: E402
from chaos_jobs import QUEUE, AsyncLedgerJob, LedgerJob  # noqa: E402

import activejob  # noqa: E402
from activejob.adapters.cache import reset_adapters  # noqa: E402
from activejob.adapters.durable import storage_of  # noqa: E402
from activejob.storage.base import JobFilter, JobState, Storage  # noqa: E402

BACKENDS = ("sqlite", "postgresql", "redis", "mariadb")
"""The default backends; ``pgbouncer`` (PostgreSQL behind PgBouncer) may be asked for."""


class Unavailable(Exception):
    """A backend's server binaries are not on this machine."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``condition`` until it holds; fail loudly after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"chaos: timed out waiting for {what}")
        time.sleep(0.02)  # sleep-ok: the harness polls for its own end condition


# -- the servers ----------------------------------------------------------------------


class Server:
    """A backend the run may restart; ``url`` is the adapter URL."""

    url: str
    name: str
    claim_loss: float = 0.0
    """How many seconds of claims a crash of the server may forget (their jobs are
    ready again and run twice): PostgreSQL commits claims with ``synchronous_commit
    off`` (see its ``queries.sql``), so up to ~3 x ``wal_writer_delay``."""

    def start(self) -> None:
        """Start the server (and create what the URL names)."""

    def restart(self, fleet: Fleet) -> None:
        """Take the server down and bring it back, as a crash would."""
        raise NotImplementedError

    def close(self) -> None:
        """Stop the server and delete its files."""


class PrivatePostgres(Server):
    """A PostgreSQL cluster in a temporary folder, on a port of its own."""

    name = "postgresql"
    claim_loss = 1.0

    def __init__(self, home: Path) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        initdb = found[-1] if found else shutil.which("initdb")
        if initdb is None:
            raise Unavailable("initdb/pg_ctl not found (PostgreSQL server binaries)")
        self.pg_ctl = str(Path(initdb).with_name("pg_ctl"))
        self.home = home / "pg"
        self.home.mkdir()
        self.data = self.home / "data"
        self.port = free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:  # the server refuses to run as root
            shutil.chown(self.home, "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self._run(initdb, "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str) -> None:
        subprocess.run([*self.as_user, *command], check=True, capture_output=True, timeout=120)

    def _ctl(self, action: str, *extra: str) -> None:
        options = (
            f"-p {self.port} -k {self.home} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c max_connections=200"
        )
        self._run(
            self.pg_ctl, action, "-D", str(self.data), "-w", "-t", "60",
            "-l", str(self.home / "log"), "-o", options, *extra,
        )  # fmt: skip

    def start(self) -> None:
        self._ctl("start")

    def down(self) -> None:
        """Stop the server (fast: every connection cut) until :meth:`start`."""
        self._ctl("stop", "-m", "fast")

    def restart(self, fleet: Fleet) -> None:
        # Immediate: no checkpoint, every backend killed; the start runs crash recovery.
        self._ctl("restart", "-m", "immediate")

    def close(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError):
            self._ctl("stop", "-m", "immediate")


class BouncedPostgres(Server):
    """A :class:`PrivatePostgres` behind a PgBouncer of its own in transaction mode:
    every statement of the workers goes through PgBouncer (``LISTEN`` direct). The
    restart is the PostgreSQL server's, under PgBouncer, while jobs are in flight."""

    name = "pgbouncer"
    claim_loss = 1.0

    def __init__(self, home: Path) -> None:
        found = shutil.which("pgbouncer") or next(
            (p for p in ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer") if os.path.exists(p)), None
        )
        if found is None:
            raise Unavailable("pgbouncer is not installed (apt install pgbouncer)")
        self.postgres = PrivatePostgres(home)
        self.home = home / "pgbouncer"
        self.home.mkdir()
        self.port = free_port()
        (self.home / "users.txt").write_text('"postgres" ""\n')
        (self.home / "pgbouncer.ini").write_text(
            "[databases]\n"
            f"* = host=127.0.0.1 port={self.postgres.port}\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.port}\n"
            f"auth_type = trust\nauth_file = {self.home / 'users.txt'}\n"
            "pool_mode = transaction\ndefault_pool_size = 10\nmax_client_conn = 400\n"
            f"unix_socket_dir =\nlogfile = {self.home / 'pgbouncer.log'}\n"
            "ignore_startup_parameters = extra_float_digits,options\n"
        )
        self.command = [found, str(self.home / "pgbouncer.ini")]
        if os.geteuid() == 0:  # it refuses to run as root
            for item in [self.home, *self.home.iterdir()]:
                shutil.chown(item, "postgres")
            self.command[1:1] = ["-u", "postgres"]
        self.process: subprocess.Popen[bytes] | None = None
        direct = self.postgres.url
        self.url = (
            f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
            f"?prepare_threshold=none&listen_url={direct}"
        )

    def start(self) -> None:
        self.postgres.start()
        self.process = subprocess.Popen(
            self.command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        until(lambda: _accepts(self.port) or self.process.poll() is not None, 20, "pgbouncer")
        if self.process.poll() is not None:
            raise RuntimeError("pgbouncer did not start")

    def restart(self, fleet: Fleet) -> None:
        self.postgres.restart(fleet)

    def close(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
        self.postgres.close()


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class PrivateRedis(Server):
    """A ``redis-server`` of our own, every write in its AOF before it answers."""

    name = "redis"

    def __init__(self, home: Path) -> None:
        if shutil.which("redis-server") is None:
            raise Unavailable("redis-server is not installed")
        self.dir = home / "redis"
        self.dir.mkdir()
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0?prefix=chaos"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [
            "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
            "--dir", str(self.dir), "--appendonly", "yes", "--appendfsync", "always",
            "--save", "", "--daemonize", "no",
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        until(self._answers, 20, "redis-server to answer")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def restart(self, fleet: Fleet) -> None:
        self.close()
        self.start()

    def close(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=30)
            self.process = None


class PrivateMariaDB(Server):
    """A MariaDB server of our own (``mariadb-install-db`` into a temporary folder,
    ``mariadbd`` on a free port). Its restart is a crash: SIGKILL, then a new
    ``mariadbd`` on the same data folder, where InnoDB recovers from its redo log.
    ``innodb_flush_log_at_trx_commit=2`` writes the log at every commit without an
    fsync: a process crash (what the run does) loses nothing committed, as
    PostgreSQL's ``fsync=off`` here; only an OS crash could."""

    name = "mariadb"

    def __init__(self, home: Path) -> None:
        install = shutil.which("mariadb-install-db") or shutil.which("mysql_install_db")
        server = shutil.which("mariadbd") or shutil.which("mariadbd", path="/usr/sbin")
        if install is None or server is None:
            raise Unavailable("mariadb-install-db/mariadbd not found (MariaDB server binaries)")
        self.server = server
        self.home = home / "mariadb"
        self.home.mkdir()
        self.user = ["--user=mysql"] if os.geteuid() == 0 else []
        if os.geteuid() == 0:  # mariadbd refuses to run as root
            shutil.chown(self.home, "mysql")
        self.port = free_port()
        subprocess.run(
            [install, "--no-defaults", *self.user, f"--datadir={self.home / 'data'}",
             "--auth-root-authentication-method=normal", "--skip-test-db"],
            check=True, capture_output=True, timeout=180,
        )  # fmt: skip
        self.process: subprocess.Popen[bytes] | None = None
        self.url = f"mysql://root@127.0.0.1:{self.port}/chaos"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.server, "--no-defaults", *self.user, f"--datadir={self.home / 'data'}",
             f"--socket={self.home / 'sock'}", f"--pid-file={self.home / 'pid'}",
             f"--port={self.port}", "--bind-address=127.0.0.1", "--skip-networking=0",
             "--skip-name-resolve", f"--log-error={self.home / 'error.log'}",
             "--max-connections=300", "--innodb-flush-log-at-trx-commit=2"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        until(lambda: self._answers() or self.process.poll() is not None, 120, "mariadbd")
        if self.process.poll() is not None:
            raise RuntimeError(f"mariadbd did not start; see {self.home / 'error.log'}")

    def _answers(self) -> bool:
        import MySQLdb

        try:
            conn = MySQLdb.connect(host="127.0.0.1", port=self.port, user="root")
        except MySQLdb.Error:
            return False
        try:
            conn.cursor().execute("CREATE DATABASE IF NOT EXISTS chaos")
        finally:
            conn.close()
        return True

    def restart(self, fleet: Fleet) -> None:
        self.close()  # SIGKILL: no shutdown, InnoDB's crash recovery on the start
        self.start()

    def close(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=60)
            self.process = None


class SqliteFile(Server):
    """SQLite has no server: its "restart" is a SIGKILL of every worker process
    that has the file open, all at once."""

    name = "sqlite"

    def __init__(self, home: Path) -> None:
        self.path = home / "jobs.sqlite3"
        self.url = f"sqlite:///{self.path}"

    def restart(self, fleet: Fleet) -> None:
        holders = [pid for pid in fleet.all_pids() if _holds(pid, self.path)]
        if not holders:
            raise RuntimeError("chaos: no worker process has the SQLite file open")
        fleet.kill_pids(holders)


def _sockets(folder: str, names: list[str]) -> list[str]:
    return [n for n in names if n.startswith(".s.PGSQL") or n in ("data", "sock")]


def _holds(pid: int, path: Path) -> bool:
    """Whether process ``pid`` has ``path`` (or its -wal/-shm file) open."""
    with contextlib.suppress(OSError):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                if os.readlink(f"/proc/{pid}/fd/{fd}").startswith(str(path)):
                    return True
    return False


def server_for(backend: str, home: Path) -> Server:
    """The private server (or file) for ``backend``."""
    kinds: dict[str, Callable[[Path], Server]] = {
        "sqlite": SqliteFile,
        "postgresql": PrivatePostgres,
        "pgbouncer": BouncedPostgres,
        "redis": PrivateRedis,
        "mariadb": PrivateMariaDB,
    }
    return kinds[backend](home)


# -- the workers ----------------------------------------------------------------------


@dataclass
class WorkerFlags:
    """How each ``activejob worker`` of the fleet runs."""

    threads: int = 4
    processes: int = 1
    heartbeat_interval: float = 0.5
    recover_after: float = 3.0
    log_level: str = "WARNING"
    extra: tuple[str, ...] = ()

    def argv(self, url: str) -> list[str]:
        return [
            sys.executable, "-m", "activejob", "worker", "--adapter", url,
            "--import", chaos_jobs.__name__, "--queues", QUEUE,
            "--threads", str(self.threads), "--processes", str(self.processes),
            "--poll-interval", "0.2",
            "--heartbeat-interval", str(self.heartbeat_interval),
            "--recover-after", str(self.recover_after),
            # The chaos kills are not the jobs' fault: none may fail as poison.
            "--max-crashes", "1000",
            "--shutdown-timeout", "10", "--log-level", self.log_level, *self.extra,
        ]  # fmt: skip


class Fleet:
    """``size`` ``activejob worker`` commands, each in a process group of its own,
    killed at random and replaced; every pid it killed, with the time."""

    def __init__(self, url: str, size: int, flags: WorkerFlags, logs: Path) -> None:
        self.url, self.flags, self.logs = url, flags, logs
        self.slots: list[subprocess.Popen[bytes] | None] = [None] * size
        self.killed: dict[int, float] = {}
        """pid -> when it was killed."""
        self.kills = 0
        self.started = 0
        self.env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(BENCH)]))

    def start(self) -> None:
        for slot in range(len(self.slots)):
            self._start(slot)

    def _start(self, slot: int) -> None:
        self.started += 1
        with (self.logs / f"worker-{slot}-{self.started}.log").open("wb") as out:
            self.slots[slot] = subprocess.Popen(
                self.flags.argv(self.url), cwd=ROOT, env=self.env, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip

    def replace_exited(self) -> None:
        """Start a new worker in each slot whose worker exited (killed, or gave up)."""
        for slot, proc in enumerate(self.slots):
            if proc is not None and proc.poll() is not None:
                self._start(slot)

    def all_pids(self) -> list[int]:
        """Every live supervisor and worker child of the fleet."""
        pids: list[int] = []
        for proc in self.slots:
            if proc is not None and proc.poll() is None:
                pids += [proc.pid, *children(proc.pid)]
        return pids

    def kill_random(self, rng: random.Random) -> None:
        """SIGKILL one worker: its child alone, or the whole group (then replaced)."""
        live = [p for p in self.slots if p is not None and p.poll() is None]
        if not live:
            return
        proc = rng.choice(live)
        kids = children(proc.pid)
        self.kills += 1
        if kids and rng.random() < 0.5:
            self.kill_pids([rng.choice(kids)])  # the supervisor restarts it
            return
        now = time.time()
        for pid in [proc.pid, *kids]:
            self.killed[pid] = now
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        self.replace_exited()

    def kill_pids(self, pids: Sequence[int]) -> None:
        """SIGKILL exactly these processes (ours), noting when."""
        for pid in pids:
            self.killed[pid] = time.time()
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def stop(self) -> None:
        """SIGTERM every worker (each drains) and wait; SIGKILL what is left."""
        for proc in self.slots:
            if proc is not None and proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.slots:
            if proc is None:
                continue
            try:
                proc.wait(40)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            # A child left by a killed supervisor drains on its own; make sure.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)


def children(pid: int) -> list[int]:
    """The child processes of ``pid`` (from ``/proc``; Linux)."""
    kids: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError):
                text = Path(f"/proc/{pid}/task/{task}/children").read_text()
                kids += [int(k) for k in text.split()]
    return kids


# -- the ledger -----------------------------------------------------------------------


@dataclass
class Run:
    pid: int
    started_at: float


def read_ledger(path: Path) -> dict[str, list[Run]]:
    """Every run of every job, in the order each job's runs started."""
    runs: dict[str, list[Run]] = defaultdict(list)
    if path.exists():
        for line in path.read_text().splitlines():
            job_id, pid, _executions, started = line.split()
            runs[job_id].append(Run(int(pid), float(started)))
    for job_runs in runs.values():
        job_runs.sort(key=lambda run: run.started_at)
    return runs


@dataclass
class Crash:
    """What the run did to the backend: the pids it killed (and when), the server
    restart's window, and how much of its claims a server crash may forget."""

    killed: dict[int, float] = field(default_factory=dict)
    restart: tuple[float, float] | None = None
    claim_loss: float = 0.0

    def by_kill(self, run: Run, after: Run) -> bool:
        """``run``'s process was killed (mid-run) before ``after`` started."""
        return run.pid in self.killed and self.killed[run.pid] <= after.started_at

    def by_restart(self, run: Run, after: Run) -> bool:
        """``run``'s claim was among those a server crash forgot: it started just
        before the restart, and ``after`` after the restart began."""
        if self.restart is None or not self.claim_loss:
            return False
        began, ended = self.restart
        return began - self.claim_loss <= run.started_at <= ended and after.started_at >= began


def explain(runs: Sequence[Run], crash: Crash) -> str | None:
    """Why a job ran more than once: ``"kill"`` when every run but the last was
    in a process killed before the next run started (in flight when it died),
    ``"restart"`` when one was a claim the server's crash forgot; ``None`` when a
    rerun came while nothing explains it."""
    reasons = set()
    for run, after in itertools.pairwise(runs):
        if crash.by_kill(run, after):
            reasons.add("kill")
        elif crash.by_restart(run, after):
            reasons.add("restart")
        else:
            return None
    return "restart" if "restart" in reasons else "kill"


# -- one backend ----------------------------------------------------------------------


@dataclass
class Report:
    """What one backend's run found."""

    backend: str
    jobs: int
    kills: int = 0
    restarts: int = 0
    lost: int = 0
    duplicates: int = 0
    explained: int = 0
    by_restart: int = 0
    """Of the explained duplicates, those a claim forgotten by the server's crash explains."""
    stuck: int = 0
    seconds: float = 0.0
    restart_window: tuple[float, float] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.lost or self.stuck or self.duplicates - self.explained)

    def row(self) -> str:
        return (
            f"{self.backend:<11} {self.jobs:>7} {self.kills:>6} {self.restarts:>9} "
            f"{self.lost:>5} {self.duplicates:>6} {self.explained:>10} {self.by_restart:>11} "
            f"{self.stuck:>6} "
            f"{self.seconds:>8.1f}s  {'ok' if self.ok else 'FAIL'}"
        )


HEADER = (
    f"{'backend':<11} {'jobs':>7} {'kills':>6} {'restarts':>9} {'lost':>5} {'dupes':>6} "
    f"{'explained':>10} {'by-restart':>11} {'stuck':>6} {'wall':>9}"
)


@dataclass
class Chaos:
    """The knobs of a run."""

    jobs: int = 10_000
    workers: int = 3
    kill_every: float = 2.0
    restart_at: float = 0.5
    work: float = 0.02
    async_jobs: bool = False
    flags: WorkerFlags = field(default_factory=WorkerFlags)
    grace: float = 60.0
    """Seconds after the chaos stops for the last jobs to finish before they count stuck."""
    seed: int | None = None


def run_backend(backend: str, chaos: Chaos) -> Report:
    """One full chaos run on ``backend``; raises :class:`Unavailable` without its server."""
    keep = os.environ.get("CHAOS_KEEP")  # a folder to keep the ledger and logs in
    with tempfile.TemporaryDirectory(prefix=f"activejob-chaos-{backend}-", dir=keep) as tmp:
        home = Path(tmp)
        os.chmod(home, 0o755)  # the private PostgreSQL runs as another user
        server = server_for(backend, home)
        server.start()
        try:
            return _run(server, chaos, home)
        finally:
            reset_adapters(wait=True)
            server.close()
            if keep:
                shutil.copytree(home, Path(keep) / f"kept-{home.name}", ignore=_sockets)


def _run(server: Server, chaos: Chaos, home: Path) -> Report:
    rng = random.Random(chaos.seed)
    report = Report(server.name, chaos.jobs)
    activejob.configure(adapter=server.url)  # (re)configuring closes built storages
    storage: Storage = storage_of(server.url)
    storage.migrate()
    ledger = home / "ledger"
    job_class = AsyncLedgerJob if chaos.async_jobs else LedgerJob
    ids: list[str] = []
    for start in range(0, chaos.jobs, 2000):
        size = min(chaos.jobs, start + 2000) - start
        batch = [job_class(str(ledger), chaos.work) for _ in range(size)]
        activejob.perform_all_later(batch)
        ids += [job.job_id for job in batch]
    fleet = Fleet(server.url, chaos.workers, chaos.flags, home)
    began = time.monotonic()
    fleet.start()
    try:
        _unleash(server, fleet, storage, chaos, rng, report)
    finally:
        fleet.stop()
    report.seconds = time.monotonic() - began
    report.kills = fleet.kills
    crash = Crash(fleet.killed, report.restart_window, server.claim_loss)
    _account(storage, ids, read_ledger(ledger), crash, report)
    if not report.ok:
        report.notes += [f"worker logs: {home} (deleted); last lines:"]
        for path in sorted(home.glob("worker-*.log"))[-3:]:
            report.notes += path.read_text(errors="replace").splitlines()[-15:]
    storage.close()
    return report


def _unleash(
    server: Server, fleet: Fleet, storage: Storage, chaos: Chaos, rng: random.Random, report: Report
) -> None:
    """Kill and restart until every job succeeded. Once no job has finished for
    ``grace`` seconds the chaos stops, and the jobs get ``grace`` more to finish."""
    next_kill = time.monotonic() + chaos.kill_every * rng.uniform(0.5, 1.5)
    last, progressed = -1, time.monotonic()
    calm = False
    while True:
        done = _succeeded(storage, chaos.jobs)
        now = time.monotonic()
        if done is not None and done >= chaos.jobs:
            return
        if done is not None and done > last:
            last, progressed = done, now
        if now - progressed > chaos.grace:
            if calm:
                return
            calm, progressed = True, now
        if not calm:
            if not report.restarts and done is not None and done >= chaos.jobs * chaos.restart_at:
                began = time.time()
                server.restart(fleet)
                report.restart_window = (began, time.time())
                report.restarts += 1
            elif now >= next_kill:
                fleet.kill_random(rng)
                next_kill = now + chaos.kill_every * rng.uniform(0.5, 1.5)
        fleet.replace_exited()
        time.sleep(0.05)  # sleep-ok: the harness's own pace


def _succeeded(storage: Storage, up_to: int) -> int | None:
    """How many jobs of the queue succeeded, exact up to ``up_to`` (``None`` while
    the server is down)."""
    try:
        return counts.succeeded(storage, QUEUE, up_to)
    except Exception:  # the server is restarting: ask again later
        return None


def _account(
    storage: Storage,
    ids: Sequence[str],
    ledger: dict[str, list[Run]],
    crash: Crash,
    report: Report,
) -> None:
    states: dict[str, JobState] = {}
    for state in JobState:
        for info in _every(storage, state):
            states[info.job_id] = info.state
    unfinished = {JobState.READY, JobState.RUNNING, JobState.SCHEDULED}
    for job_id in ids:
        state = states.get(job_id)
        if state in unfinished:
            report.stuck += 1
        elif state is not JobState.SUCCEEDED or not ledger.get(job_id):
            report.lost += 1
            report.notes.append(f"lost: {job_id} state {state} runs {len(ledger.get(job_id, []))}")
        runs = ledger.get(job_id, [])
        if len(runs) > 1:
            report.duplicates += 1
            reason = explain(runs, crash)
            if reason is not None:
                report.explained += 1
                report.by_restart += reason == "restart"
            else:
                report.notes.append(f"unexplained duplicate: {job_id} runs {runs}")


def _every(storage: Storage, state: JobState) -> Iterator[Any]:
    offset = 0
    while True:
        page = storage.list(JobFilter(states=[state], queue_name=QUEUE, limit=5000, offset=offset))
        yield from page
        if len(page) < 5000:
            return
        offset += len(page)


# -- the command ----------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--workers", type=int, default=3, help="activejob worker commands (2-4)")
    parser.add_argument("--processes", type=int, default=1, help="--processes of each")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--kill-every", type=float, default=2.0, help="mean seconds between kills")
    parser.add_argument("--work", type=float, default=0.02, help="seconds each job sleeps")
    parser.add_argument("--recover-after", type=float, default=3.0)
    parser.add_argument("--heartbeat-interval", type=float, default=0.5)
    parser.add_argument("--async", dest="async_jobs", action="store_true", help="async def jobs")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--log-level", default="WARNING", help="the workers' log level")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else uuid.uuid4().int % 10**6
    chaos = Chaos(
        jobs=args.jobs,
        workers=args.workers,
        kill_every=args.kill_every,
        work=args.work,
        async_jobs=args.async_jobs,
        seed=seed,
        flags=WorkerFlags(
            threads=args.threads,
            processes=args.processes,
            heartbeat_interval=args.heartbeat_interval,
            recover_after=args.recover_after,
            log_level=args.log_level,
        ),
    )
    print(f"chaos: seed {seed}, {args.workers} workers x {args.processes} process(es) x "
          f"{args.threads} threads, a kill every ~{args.kill_every}s, jobs of {args.work}s"
          f"{' (async)' if args.async_jobs else ''}", flush=True)  # fmt: skip
    print(HEADER, flush=True)
    failed = False
    for backend in args.backends.split(","):
        try:
            report = run_backend(backend, chaos)
        except Unavailable as exc:
            print(f"{backend:<11} skipped: {exc}", flush=True)
            continue
        print(report.row(), flush=True)
        for note in report.notes[:40]:
            print(f"    {note}", flush=True)
        failed = failed or not report.ok
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
