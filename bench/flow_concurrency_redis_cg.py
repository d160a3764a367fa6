"""Redis limited claims, before/after, by the server's instructions: the
claim-50/complete-50 loop of ``flow_concurrency.claim_rate`` (1 slot per key over
100 keys, and the same loop unlimited) against a private ``redis-server`` run under
``valgrind --tool=callgrind``, for each source tree. Instructions are counted from
the first claim to the last completion (callgrind_control --zero, then --dump), so
the push is left out; other clients' load on a shared machine does not move them,
where wall time does (about 2% apart from run to run).

    .venv/bin/python bench/flow_concurrency_redis_cg.py before=/path/to/main after=.

Needs ``valgrind`` and ``redis-server`` on PATH; ``--n`` jobs per loop (1000).
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import subprocess
import sys
import tempfile
import time

CHILD = r"""
import os, subprocess, sys
tree, n, port, mode, pid = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
sys.path[:0] = [tree + "/src", tree + "/bench"]
import flow_concurrency as f
import activejob
from activejob.adapters.durable import storage_of
from activejob.storage.base import JobState, Result
url = f"redis://127.0.0.1:{port}/0?prefix=cg-{os.getpid()}"
activejob.configure(adapter=url)
storage = storage_of(url)
storage.migrate()
for count, measured in ((200, False), (n, True)):  # the first loop loads the scripts
    for start in range(0, count, 1000):
        storage.push(f._jobs(count, mode == "limited")[start : start + 1000])
    if measured:
        subprocess.run(["callgrind_control", "--zero", pid], check=True, capture_output=True)
    while claimed := storage.claim("bench-flow", [f.QUEUE], 50):
        storage.complete([Result(c.id, JobState.SUCCEEDED, attempts=c.attempts) for c in claimed])
    if measured:
        subprocess.run(["callgrind_control", "--dump", pid], check=True, capture_output=True)
    f._empty(storage)
"""


def instructions(tree: str, mode: str, n: int, port: int) -> int:
    """Server instructions of one measured loop (``mode``: plain or limited)."""
    import redis

    with tempfile.TemporaryDirectory(prefix="activejob-cg-") as folder:
        server = subprocess.Popen(
            [
                "valgrind", "--tool=callgrind", f"--callgrind-out-file={folder}/cg.%p",
                "redis-server", "--port", str(port), "--save", "", "--appendonly", "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            client = redis.Redis(port=port)
            deadline = time.monotonic() + 60
            while True:
                try:
                    client.ping()
                    break
                except redis.ConnectionError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)  # sleep-ok: redis-server starting under valgrind
            command = [sys.executable, "-c", CHILD, tree, str(n), str(port), mode, str(server.pid)]
            subprocess.run(command, check=True)
            dump = glob.glob(f"{folder}/cg.*.1")[0]
            with open(dump) as text:
                found = re.search(r"^(?:summary|totals): (\d+)", text.read(), re.M)
            if found is None:
                raise RuntimeError(f"no totals in {dump}")
            return int(found.group(1))
        finally:
            server.terminate()
            server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("trees", nargs="+", help="name=path of a source tree")
    parser.add_argument("--n", type=int, default=1000, help="jobs per loop")
    parser.add_argument("--port", type=int, default=6390 + os.getpid() % 50)
    args = parser.parse_args()
    for spec in args.trees:
        name, tree = spec.split("=", 1)
        plain = instructions(tree, "plain", args.n, args.port) / args.n
        limited = instructions(tree, "limited", args.n, args.port) / args.n
        print(
            f"{name:8s} unlimited {plain / 1000:6.1f}k  limited {limited / 1000:6.1f}k "
            f"instructions/job  limited/unlimited {limited / plain:.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
