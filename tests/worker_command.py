"""``python -m activejob worker`` in a process of its own, as an operator starts it,
its output in a file: for the tests that kill it, stop it or read what it printed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


class WorkerCommand:
    """The worker command on ``url`` with ``flags``, started at once from the
    repository's root (``src`` and the tests importable), stdout and stderr in ``output``."""

    def __init__(self, output: Path, url: str, *flags: str) -> None:
        self.output = output
        command = [sys.executable, "-m", "activejob", "worker", "--adapter", url, *flags]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]))
        with self.output.open("w") as out:
            self.proc = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
            )

    def stop(self) -> int:
        """SIGTERM (if still running), then its exit code; killed, with its output as
        the failure, if it does not end within 20 s."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError(self.output.read_text()) from None
