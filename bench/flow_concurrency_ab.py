"""MariaDB limited claims, before/after: the claim-50/complete-50 loop of
``flow_concurrency.claim_rate`` (1 slot per key over 100 keys, against the same loop
unlimited) for two source trees, interleaved round by round (A, B, B, A, ...), each
run in a fresh process and database. Beside jobs/s, CPU per job: this process's
(``time.process_time``) and the server's, read from ``/proc`` for the server
threads of this database's connections (``information_schema.processlist.tid``:
MariaDB on this machine only; 0 elsewhere), which other clients' load does not
move, on a shared machine where wall time does.

    .venv/bin/python bench/flow_concurrency_ab.py --rounds 8 --n 3000 \\
        before=/path/to/main/checkout after=.

``--statements TREE`` prints the wall time per batch of every named query instead.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from typing import Any

CHILD = r"""
import collections, json, os, subprocess, sys, time
tree, db, n, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
sys.path[:0] = [tree + "/src", tree + "/bench"]
import MySQLdb
host = os.environ.get("MYSQL_HOST", "127.0.0.1")
admin = MySQLdb.connect(host=host, user="root", autocommit=True)
admin.cursor().execute(f"DROP DATABASE IF EXISTS {db}")
admin.cursor().execute(f"CREATE DATABASE {db}")
import flow_concurrency as f
import activejob
from activejob.adapters.durable import storage_of
from activejob.storage.sql.mysql.storage import MySQLStorage
url = f"mysql://root@{host}:3306/{db}"
activejob.configure(adapter=url)
storage = storage_of(url)
storage.migrate()
pid = subprocess.run(["pgrep", "-o", "mariadbd"], capture_output=True, text=True).stdout.strip()

def server_cpu():
    # CPU seconds of the server threads serving this database's connections.
    cursor = admin.cursor()
    cursor.execute("SELECT tid FROM information_schema.processlist WHERE db = %s", (db,))
    ticks = 0
    for (tid,) in cursor.fetchall():
        try:
            fields = open(f"/proc/{pid}/task/{tid}/stat").read().rsplit(")", 1)[1].split()
        except (OSError, ValueError):
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")

stats = collections.defaultdict(lambda: [0, 0.0])
if mode == "statements":
    run = MySQLStorage._run
    def timed(self, conn, name, params=None):
        started = time.perf_counter()
        cursor = run(self, conn, name, params)
        stats[name][0] += 1
        stats[name][1] += time.perf_counter() - started
        return cursor
    MySQLStorage._run = timed

def loop(limited):
    for start in range(0, n, 1000):
        storage.push(f._jobs(n, limited)[start : start + 1000])
    stats.clear()
    done = 0
    cpu, server, wall = time.process_time(), server_cpu(), time.perf_counter()
    while claimed := storage.claim("bench-flow", [f.QUEUE], 50):
        done_state = f.JobState.SUCCEEDED
        storage.complete([f.Result(c.id, done_state, attempts=c.attempts) for c in claimed])
        done += len(claimed)
    wall = time.perf_counter() - wall
    row = {"rate": n / wall, "cpu": (time.process_time() - cpu) / n * 1e6,
           "server": (server_cpu() - server) / n * 1e6,
           "statements": {k: [c / (n / 50), t * 1000 / (n / 50)] for k, (c, t) in stats.items()},
           "wall_per_batch": wall * 1000 / (n / 50)}
    assert done == n, (done, n)
    f._empty(storage)
    return row

loop(True)  # warm up
print(json.dumps({"plain": loop(False), "limited": loop(True)}))
"""


def run_child(tree: str, db: str, n: int, mode: str) -> dict[str, dict[str, Any]]:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, os.path.abspath(tree), db, str(n), mode],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode:
        raise SystemExit(proc.stderr)
    result: dict[str, dict[str, Any]] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def statements(tree: str, n: int) -> None:
    out = run_child(tree, "activejob_bench_ab_statements", n, "statements")
    for kind in ("plain", "limited"):
        row = out[kind]
        print(f"{kind}: wall {row['wall_per_batch']:.2f} ms per batch of 50")
        timings = row["statements"]
        for name, (count, ms) in sorted(timings.items(), key=lambda kv: -kv[1][1]):
            print(f"   {name:32s} {count:5.1f}/batch {ms:7.3f} ms/batch")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--n", type=int, default=2000, help="jobs per loop")
    parser.add_argument("--statements", metavar="TREE", help="per-query times for one tree")
    parser.add_argument("trees", nargs="*", help="NAME=PATH, two of them")
    args = parser.parse_args()
    if args.statements:
        statements(args.statements, args.n)
        return
    trees = [tree.split("=", 1) for tree in args.trees]
    rows: dict[str, list[dict[str, float]]] = {name: [] for name, _ in trees}
    print("load average before:", os.getloadavg())
    for r in range(args.rounds):
        for name, path in trees if r % 2 == 0 else trees[::-1]:
            out = run_child(path, f"activejob_bench_ab_{name}", args.n, "rates")
            plain, limited = out["plain"], out["limited"]
            row = {
                "plain": plain["rate"],
                "limited": limited["rate"],
                "cpu_plain": plain["cpu"] + plain["server"],
                "cpu_limited": limited["cpu"] + limited["server"],
                "server_plain": plain["server"],
                "server_limited": limited["server"],
            }
            row["ratio"] = row["limited"] / row["plain"]
            row["cpu_ratio"] = row["cpu_plain"] / row["cpu_limited"]
            rows[name].append(row)
            print(
                f"round {r} {name:8s} plain {row['plain']:6.0f}/s limited {row['limited']:6.0f}/s "
                f"ratio {row['ratio']:.2f}  CPU us/job (ours+server) {row['cpu_plain']:.0f} / "
                f"{row['cpu_limited']:.0f}  CPU ratio {row['cpu_ratio']:.2f}",
                flush=True,
            )
    print("load average after:", os.getloadavg())
    for name, found in rows.items():
        for key in found[0]:
            values = [row[key] for row in found]
            print(
                f"{name:8s} {key:15s} median {statistics.median(values):9.2f}  "
                f"min {min(values):9.2f}  max {max(values):9.2f}"
            )


if __name__ == "__main__":
    main()
