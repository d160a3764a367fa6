"""A long import that survives a deploy: each row is imported once, even when the
worker running it is stopped halfway (see docs/continuations.md)."""

import time
from pathlib import Path

from activejob import Continuable, Job, Step


class ImportJob(Continuable, Job):
    def perform(self, source: str, target: str) -> None:
        self.source, self.target = Path(source), Path(target)
        self.step("header", self.check_header)
        self.step("rows", self.import_rows, start=0)
        self.step("report", self.report)

    def check_header(self) -> None:
        if not self.source.read_text().startswith("row"):
            raise ValueError(f"{self.source} is not an export")

    def import_rows(self, step: Step) -> None:
        rows = self.source.read_text().splitlines()
        for index in range(step.cursor, len(rows)):  # from the saved cursor on resume
            time.sleep(0.005)  # the real work: a request, a database write...
            with self.target.open("a") as out:
                out.write(rows[index] + "\n")
            step.advance()  # saves the cursor, then stops here if the worker is stopping

    def report(self) -> None:
        count = len(self.target.read_text().splitlines())
        print(f"imported {count} rows")
