"""A foreign system's real worker as a subprocess, for the bridge tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

from tests.services import service_url

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def redis_db_url(db: int) -> str:
    """The test Redis with database ``db`` (skips, or fails under CI, without a server)."""
    parts = urlsplit(service_url("redis"))
    return parts._replace(path=f"/{db}").geturl()


class WorkerProcess:
    """``command`` run from ``cwd`` (the repository root) with ``env`` added; its
    output in ``log``."""

    def __init__(
        self, command: Sequence[str], env: dict[str, str], log: Path, cwd: Path = ROOT
    ) -> None:
        self.log = log
        self._file = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            list(command),
            cwd=cwd,
            env={**os.environ, "PYTHONPATH": str(ROOT), **env},
            stdout=self._file,
            stderr=subprocess.STDOUT,
        )

    def alive(self) -> bool:
        return self.process.poll() is None

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        """SIGINT (a warm shutdown for both rq and huey), then kill after 10 s."""
        if self.alive():
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._file.close()
