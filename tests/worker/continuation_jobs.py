"""Continuable jobs for the worker and CLI tests: each item a job does is one line
in a ledger file (``<item> <pid>``), so a test can tell that every item was done
exactly once and by which process."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

from activejob import Continuable, Job, Step

WAIT_LIMIT = 30.0
"""How long a job waits for its worker to stop before it goes on anyway (so a test
that never signals fails on its assertions instead of hanging)."""


def record(ledger: str, entry: object) -> None:
    with Path(ledger).open("a") as out:
        out.write(f"{entry} {os.getpid()}\n")


def ledger_lines(ledger: Path) -> list[tuple[str, int]]:
    """The ledger's ``(entry, pid)`` pairs, in order."""
    if not ledger.exists():
        return []
    pairs = []
    for line in ledger.read_text().splitlines():
        entry, pid = line.split()
        pairs.append((entry, int(pid)))
    return pairs


class LedgerJob(Continuable, Job):
    """``prepare``, then ``items`` 0..count-1 with an int cursor, then ``finish``.

    On its first run, after item ``pause_after`` it waits for the worker to stop
    (checking at each turn), so the interruption lands inside the ``items`` step."""

    def perform(self, ledger: str, count: int, pause_after: int) -> None:
        self.ledger, self.count, self.pause_after = ledger, count, pause_after
        self.step("prepare", self.prepare)
        self.step("items", self.items, start=0)
        self.step("finish", lambda: record(ledger, "finish"))

    def prepare(self) -> None:
        record(self.ledger, "prepare")

    def items(self, step: Step) -> None:
        for item in range(step.cursor, self.count):
            record(self.ledger, item)
            step.advance()
            if item == self.pause_after and not step.resumed:
                deadline = time.monotonic() + WAIT_LIMIT
                while not self.stop_requested() and time.monotonic() < deadline:
                    time.sleep(0.01)  # sleep-ok: the job's own pause, until its worker stops
                step.checkpoint()


class AsyncLedgerJob(Continuable, Job):
    """:class:`LedgerJob` with ``async def`` steps."""

    async def perform(self, ledger: str, count: int, pause_after: int) -> None:
        self.ledger, self.count, self.pause_after = ledger, count, pause_after
        await self.step("prepare", self.prepare)
        await self.step("items", self.items, start=0)
        self.step("finish", lambda: record(ledger, "finish"))

    async def prepare(self) -> None:
        record(self.ledger, "prepare")

    async def items(self, step: Step) -> None:
        for item in range(step.cursor, self.count):
            record(self.ledger, item)
            step.advance()
            if item == self.pause_after and not step.resumed:
                deadline = time.monotonic() + WAIT_LIMIT
                while not self.stop_requested() and time.monotonic() < deadline:
                    await asyncio.sleep(0.01)  # sleep-ok: the job's own pause
                step.checkpoint()


class FailsOnceAfterProgress(Continuable, Job):
    """Items 0..count-1; on its first run item ``fail_at`` raises after the items
    before it were saved: the error after progress resumes from the cursor."""

    def perform(self, ledger: str, count: int, fail_at: int) -> None:
        self.step("items", lambda step: self.items(step, ledger, count, fail_at), start=0)

    def items(self, step: Step, ledger: str, count: int, fail_at: int) -> None:
        for item in range(step.cursor, count):
            if item == fail_at and not step.resumed:
                raise ConnectionError(f"lost the connection at item {item}")
            record(ledger, item)
            step.advance()
