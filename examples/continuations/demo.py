"""Stop a worker in the middle of a long job, start another: the job resumes where
it stopped. Run it from examples/continuations/ with ``python demo.py``."""

import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from imports import ImportJob

import activejob

ROWS = 300


def worker(url: str, *flags: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "activejob", "worker", "--adapter", url, "--import", "imports"]
    return subprocess.Popen([*command, *flags], stderr=subprocess.DEVNULL)


def wait_until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("the worker did not get going in time")
        time.sleep(0.02)


with tempfile.TemporaryDirectory() as folder:
    url = f"sqlite:///{folder}/jobs.sqlite3"
    activejob.configure(adapter=url)
    source, target = Path(folder, "export.txt"), Path(folder, "imported.txt")
    source.write_text("".join(f"row {n}\n" for n in range(ROWS)))
    job = ImportJob.perform_later(str(source), str(target))

    first = worker(url)
    wait_until(lambda: target.exists() and len(target.read_text().splitlines()) >= 50)
    first.send_signal(signal.SIGTERM)  # a deploy
    first.wait()
    progress = activejob.status(job).payload["continuation"]
    print(f"stopped at step {progress['current']!r}, cursor {progress['cursor']}")

    second = worker(url, "--burst")  # the new release picks the job up
    second.wait()
    counts = Counter(target.read_text().splitlines())
    print("state:", activejob.status(job).state.value)
    print("every row once:", len(counts) == ROWS and set(counts.values()) == {1})
