"""Redis idle enqueue-to-start and single enqueue: the hand-off on and off, beside Huey.

    .venv/bin/python bench/redis_handoff.py --samples 300 --rounds 5

Three systems with the workers of ``bench/peers.py`` (5 threads, default log level,
output to a file), all idle at once, sample by sample in turn (the order rotated
every sample, so the machine's load of the moment is shared out):

- ``hand-off``: activejob as it ships; an idle fetcher is handed each new job already
  claimed and starts it on the thread that woke (``storage/redis/handoff.py``);
- ``handoff=0``: activejob with ``?handoff=0`` in the URL: the fetcher waits on
  Pub/Sub, then claims, then hands the job to a job thread (the path before);
- ``huey``: ``RedisHuey``, its consumer's threads blocked in ``BRPOP``.

A sample is one job, 10 ms after the last, timed from the enqueue call to the job's
body (it reports over UDP). Then, with the workers stopped, ``--rounds`` rounds of
``--jobs`` single enqueues per system (the order rotated every round). Prints the
p50 (and p10-p90) of the delays, the median (min-max) of the enqueue rates, the ratio
to Huey, and the load average.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent / "src"), str(BENCH)]

import peers  # noqa: E402  (the line above makes bench/ importable)


def systems(server: str, prefix: str) -> dict[str, peers.System]:
    ours, huey = peers.redis_systems(server, prefix)[:2]
    off = peers.System(ours.name, ours.server, ours.url.replace("-aj", "-off") + "&handoff=0",
                       ours.queue, ours.settings + ", ?handoff=0")  # fmt: skip
    return {"hand-off": ours, "handoff=0": off, "huey": huey}


def enqueuers(found: dict[str, peers.System], port: int) -> dict[str, Callable[[str], None]]:
    """One enqueue function per system, each the way its users enqueue a job."""
    os.environ.update(PEER_SYSTEM="activejob", PEER_URL=found["hand-off"].url,
                      PEER_QUEUE=found["hand-off"].queue)  # fmt: skip
    import peer_apps
    from huey import RedisHuey

    from activejob.adapters.cache import resolve_adapter

    adapters = {label: resolve_adapter(found[label].url) for label in ("hand-off", "handoff=0")}
    huey_app = RedisHuey(found["huey"].queue, url=found["huey"].url)
    huey_task = huey_app.task(name="work")(peer_apps.work)

    def ours(label: str) -> Callable[[str], None]:
        def enqueue(arg: str) -> None:
            peer_apps.PeerJob.queue_adapter = adapters[label]
            peer_apps.PeerJob.perform_later("latency", 0, arg)

        return enqueue

    return {"hand-off": ours("hand-off"), "handoff=0": ours("handoff=0"),
            "huey": lambda arg: huey_task("latency", 0, arg)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--samples", type=int, default=300, help="latency samples per system")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of single enqueues")
    parser.add_argument("--jobs", type=int, default=500, help="single enqueues per round")
    parser.add_argument("--redis", default=os.environ.get("ACTIVEJOB_TEST_REDIS_URL",
                                                          "redis://127.0.0.1:6379/0"))  # fmt: skip
    args = parser.parse_args()
    prefix = f"ajhandoff_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    found = systems(args.redis, prefix)
    labels = list(found)
    io = {"PEER_REDIS_IO": args.redis, "PEER_PG_IO": ""}
    inbox = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    inbox.bind(("127.0.0.1", 0))
    inbox.settimeout(30)
    port = inbox.getsockname()[1]
    load_start = os.getloadavg()[0]
    delays: dict[str, list[float]] = {label: [] for label in labels}
    rates: dict[str, list[float]] = {label: [] for label in labels}
    workers = []
    try:
        peers.prepare(list(found.values()), "", io)
        send = enqueuers(found, port)
        for label in labels:
            argv = [sys.executable, *found[label].worker("default", latency=True)]
            env = peers._env(found[label], io)
            workers.append(subprocess.Popen(argv, cwd=BENCH, env=env, stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL))  # fmt: skip

        def sample(label: str) -> float:
            send[label](f"{port}:{time.time()}")
            return float(inbox.recv(64)) * 1000

        for label in labels:  # each worker's first jobs: untimed (imports, connections)
            sample(label)
            sample(label)
        for i in range(args.samples):
            turn = i % len(labels)
            for label in labels[turn:] + labels[:turn]:
                time.sleep(0.01)  # sleep-ok: every worker goes idle again between samples
                delays[label].append(sample(label))
        load_mid = os.getloadavg()[0]
        for proc in workers:
            proc.terminate()
        for proc in workers:
            proc.wait(30)
        for r in range(args.rounds):
            turn = r % len(labels)
            for label in labels[turn:] + labels[:turn]:
                started = time.perf_counter()
                for _ in range(args.jobs):
                    send[label]("0:0")
                rates[label].append(args.jobs / (time.perf_counter() - started))
    finally:
        for proc in workers:
            if proc.poll() is None:
                proc.kill()
        peers.clean(list(found.values()), "", args.redis, prefix)
    load = f"{load_start:.2f} at start, {load_mid:.2f} after the latency samples, "
    print(f"load average {load}{os.getloadavg()[0]:.2f} at the end")
    print(f"{args.samples} latency samples per system; {args.rounds} rounds of {args.jobs} "
          "single enqueues\n")  # fmt: skip
    print("| measure | " + " | ".join(labels) + " | hand-off / huey | handoff=0 / huey |")
    print("|---|" + "---|" * (len(labels) + 2))
    p50 = {label: statistics.median(delays[label]) for label in labels}
    spread = {label: statistics.quantiles(delays[label], n=10) for label in labels}
    cells = [f"{p50[x]:.2f} ({spread[x][0]:.2f}-{spread[x][-1]:.2f})" for x in labels]
    ratios = f"{p50['hand-off'] / p50['huey']:.2f} | {p50['handoff=0'] / p50['huey']:.2f}"
    print("| idle enqueue-to-start p50 (p10-p90), ms | " + " | ".join(cells) + f" | {ratios} |")
    med = {label: statistics.median(rates[label]) for label in labels}
    cells = [f"{med[x]:,.0f} ({min(rates[x]):,.0f}-{max(rates[x]):,.0f})" for x in labels]
    ratios = f"{med['hand-off'] / med['huey']:.2f} | {med['handoff=0'] / med['huey']:.2f}"
    print("| single enqueue, jobs/s | " + " | ".join(cells) + f" | {ratios} |")


if __name__ == "__main__":
    main()
