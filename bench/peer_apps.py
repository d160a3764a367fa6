"""What ``bench/peers.py`` and each system's own worker load (``bench/`` on
``PYTHONPATH``): one job body, run as an activejob job and as each peer's task.

``PEER_SYSTEM`` (``activejob``, ``huey``, ``dramatiq``, ``celery``,
``procrastinate``), ``PEER_URL`` (the queue's server: a Redis URL, a SQLite file
path for Huey, a PostgreSQL URL), ``PEER_QUEUE`` (the queue, or key prefix) say
which app this module builds; ``PEER_REDIS_IO`` / ``PEER_PG_IO`` are the servers
the I/O bodies talk to.

A job is ``work(kind, n, arg)``:

- ``kind`` is ``noop``, ``sleep`` (``time.sleep(0.001)``), ``redis`` (one ``GET``
  on the thread's own connection), ``pg`` (one ``SELECT 1`` on the thread's own
  connection), or ``latency``;
- ``arg``, for every kind but ``latency``, is ``None`` or a file the job writes the
  time it finished to (the first and the last job of a batch: they time it);
  for ``latency``, ``"port:since"``: the job sends ``now - since`` in a UDP
  datagram to ``port`` on localhost.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from typing import Any

SYSTEM = os.environ.get("PEER_SYSTEM", "")
URL = os.environ.get("PEER_URL", "")
QUEUE = os.environ.get("PEER_QUEUE", "peers")
REDIS_IO = os.environ.get("PEER_REDIS_IO", "redis://127.0.0.1:6379/0")
PG_IO = os.environ.get("PEER_PG_IO", "postgresql://127.0.0.1:5432/test")

_local = threading.local()


def _redis() -> Any:
    client = getattr(_local, "redis", None)
    if client is None:
        import redis

        client = _local.redis = redis.Redis.from_url(REDIS_IO)
    return client


def _pg() -> Any:
    conn = getattr(_local, "pg", None)
    if conn is None:
        import psycopg

        conn = _local.pg = psycopg.connect(PG_IO, autocommit=True)
    return conn


def _send(arg: str) -> None:
    port, since = arg.split(":", 1)
    sender = getattr(_local, "udp", None)
    if sender is None:
        sender = _local.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sender.sendto(repr(time.time() - float(since)).encode(), ("127.0.0.1", int(port)))


def work(kind: str, n: int, arg: str | None = None) -> None:
    """The job body every system runs (see the module's docstring)."""
    if kind == "latency":
        assert arg is not None
        _send(arg)
        return
    if kind == "sleep":
        time.sleep(0.001)  # sleep-ok: the job body being measured
    elif kind == "redis":
        _redis().get("activejob-peers-io")
    elif kind == "pg":
        _pg().execute("SELECT 1").fetchone()
    if arg is not None:
        with open(arg, "w", encoding="utf-8") as out:
            out.write(repr(time.time()))


# -- the apps -----------------------------------------------------------------------

huey: Any = None
broker: Any = None
app: Any = None
task: Any = None
"""What ``enqueue`` calls: each system's task (or job class) wrapping :func:`work`."""

if SYSTEM == "activejob":
    from activejob import Job

    class PeerJob(Job):
        """:func:`work` as an activejob job."""

        queue_as = QUEUE

        def perform(self, kind: str, n: int, arg: str | None = None) -> None:
            work(kind, n, arg)

    task = PeerJob
    import activejob

    activejob.configure(adapter=URL)

elif SYSTEM == "huey":
    from huey import RedisHuey, SqliteHuey

    redis_url = URL.startswith("redis")
    huey = RedisHuey(QUEUE, url=URL) if redis_url else SqliteHuey(QUEUE, filename=URL)
    task = huey.task(name="work")(work)

elif SYSTEM == "dramatiq":
    import dramatiq
    from dramatiq.brokers.redis import RedisBroker

    broker = RedisBroker(url=URL, namespace=QUEUE)
    dramatiq.set_broker(broker)
    task = dramatiq.actor(work, broker=broker, actor_name="work", queue_name="peers")

elif SYSTEM == "celery":
    from celery import Celery

    app = Celery("peer_apps", broker=URL)
    app.conf.update(task_default_queue=QUEUE, broker_connection_retry_on_startup=True)
    task = app.task(name="work")(work)

elif SYSTEM == "procrastinate":
    import procrastinate

    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=URL))
    task = app.task(name="work", queue=QUEUE)(work)


def enqueue(kind: str, n: int, arg: str | None = None) -> None:
    """One job of ``kind``, the way a user of :data:`SYSTEM` enqueues one."""
    if SYSTEM == "activejob":
        task.perform_later(kind, n, arg)
    elif SYSTEM == "huey":
        task(kind, n, arg)
    elif SYSTEM == "dramatiq":
        task.send(kind, n, arg)
    elif SYSTEM == "celery":
        task.delay(kind, n, arg)
    elif SYSTEM == "procrastinate":
        task.defer(kind=kind, n=n, arg=arg)
    else:
        raise RuntimeError(f"PEER_SYSTEM={SYSTEM!r} is not a system peers.py knows")


def load(kinds: list[str], n: int, marks: str, warmup: int = 20) -> dict[str, float]:
    """After ``warmup`` untimed no-op jobs (connections, scripts, caches), enqueue
    ``n`` jobs of each of ``kinds`` one at a time, the first and the last of each
    writing their end time into ``marks/KIND/first`` and ``marks/KIND/last``; the
    enqueue rate of each batch."""
    for i in range(warmup):
        enqueue("noop", i)
    rates = {}
    last = n - 1
    for kind in kinds:
        started = time.perf_counter()
        for i in range(n):
            where = f"{marks}/{kind}/"
            enqueue(kind, i, where + "first" if i == 0 else where + "last" if i == last else None)
        rates[kind] = n / (time.perf_counter() - started)
    return rates


def latencies(samples: int, gap: float = 0.01) -> list[float]:
    """Seconds from enqueue to the job starting in the idle worker already running."""
    inbox = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    inbox.bind(("127.0.0.1", 0))
    inbox.settimeout(30)
    port = inbox.getsockname()[1]
    try:
        enqueue("latency", 0, f"{port}:{time.time()}")  # the worker's first job: untimed
        inbox.recv(64)
        delays = []
        for i in range(samples):
            time.sleep(gap)  # sleep-ok: let the worker go idle again between samples
            enqueue("latency", i, f"{port}:{time.time()}")
            delays.append(float(inbox.recv(64)))
        return delays
    finally:
        inbox.close()


def main() -> None:
    """``load KIND,KIND N MARKS`` or ``latency SAMPLES``: print the answer as JSON."""
    import json
    import sys

    if SYSTEM == "procrastinate":
        app.open()
    if sys.argv[1] == "load":
        print(json.dumps(load(sys.argv[2].split(","), int(sys.argv[3]), sys.argv[4])))
    elif sys.argv[1] == "latency":
        print(json.dumps(latencies(int(sys.argv[2]))))
    if SYSTEM == "celery":
        app.close()
