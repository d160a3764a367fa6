"""A real ``activejob dashboard`` process for the tests that drive it over HTTP (the
CLI's acceptance tests, the browser tests)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx2 as httpx

from tests.support import wait_for

__all__ = ["Served", "serve"]

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Served:
    """A running ``activejob dashboard`` and what it printed so far."""

    process: subprocess.Popen[str]
    url: str
    lines: list[str] = field(default_factory=list)

    def output(self) -> str:
        return "".join(self.lines)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def answering(url: str) -> bool:
    try:
        httpx.get(url, timeout=1.0)
    except httpx.TransportError:
        return False
    return True


@contextmanager
def serve(jobs_url: str, env: dict[str, str]) -> Iterator[Served]:
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ACTIVEJOB_")}
    environ["PYTHONPATH"] = str(ROOT / "src")
    environ.update(env)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "activejob",
            "dashboard",
            "--adapter",
            jobs_url,
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=environ,
        cwd=ROOT,
    )
    served = Served(process, f"http://127.0.0.1:{port}")

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            served.lines.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        wait_for(lambda: answering(served.url) or process.poll() is not None, timeout=30)
        assert process.poll() is None, served.output()
        yield served
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        reader.join(timeout=5)
