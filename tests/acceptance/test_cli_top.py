"""``activejob top`` in a real pseudo-terminal (the standard library's ``pty``)
against a real SQLite store: it draws the queues and workers, redraws when a new
queue appears, and quits on ``q``; without a terminal it says what to use instead."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

from activejob.storage.sql.sqlite import SQLiteStorage
from activejob.testing.contract import new_job
from tests.acceptance.test_cli_jobs import activejob_cli

ROOT = Path(__file__).resolve().parents[2]


class Terminal:
    """``activejob top`` on the slave side of a pty of 120x40; the screen as read."""

    def __init__(self, url: str) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        environ = {k: v for k, v in os.environ.items() if not k.startswith("ACTIVEJOB_")}
        environ.update(PYTHONPATH=str(ROOT / "src"), TERM="xterm")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "activejob", "top", "--adapter", url, "--interval", "0.2"],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=environ,
            cwd=ROOT,
            close_fds=True,
        )
        os.close(slave)
        self.master = master
        self.seen = b""

    def wait_for(self, text: str, timeout: float = 20.0) -> None:
        """Read the terminal until ``text`` has been drawn (or fail with the screen)."""
        deadline = time.monotonic() + timeout
        while text.encode() not in self.seen:
            left = deadline - time.monotonic()
            assert left > 0, f"{text!r} never drawn; the terminal got {self.seen[-2000:]!r}"
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    self.seen += os.read(self.master, 65536)
                except OSError:  # the child closed the terminal
                    message = f"top ended before drawing {text!r}: {self.seen[-2000:]!r}"
                    raise AssertionError(message) from None

    def close(self) -> int:
        try:
            return self.process.wait(timeout=20)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            os.close(self.master)


def test_top_draws_queues_and_workers_live_and_quits_on_q(tmp_path: Path) -> None:
    storage = SQLiteStorage(tmp_path / "jobs.sqlite3")
    storage.migrate()
    storage.push([new_job("mailers"), new_job("mailers"), new_job("billing", run_at=4102444800.0)])
    storage.heartbeat("box-7:4242:abcd", {"hostname": "box-7", "pid": 4242})
    terminal = Terminal(f"sqlite:///{tmp_path / 'jobs.sqlite3'}")
    try:
        terminal.wait_for("activejob top")
        terminal.wait_for("mailers")
        terminal.wait_for("billing")
        terminal.wait_for("box-7:4242:abcd")
        terminal.wait_for("q quits")
        # A queue that appears while top runs is drawn at the next redraw.
        storage.push([new_job("zz-late-queue")])
        terminal.wait_for("zz-late-queue")
        os.write(terminal.master, b"q")
        assert terminal.close() == 0
    finally:
        if terminal.process.poll() is None:
            terminal.process.kill()
        storage.close()


def test_top_without_a_terminal_names_the_commands_for_scripts(tmp_path: Path) -> None:
    result = activejob_cli("top", "--adapter", f"sqlite:///{tmp_path / 'jobs.sqlite3'}")
    assert result.returncode == 2
    assert "needs a terminal" in result.stderr and "queues list --json" in result.stderr
