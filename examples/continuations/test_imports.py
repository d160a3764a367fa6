"""A continuation under test: the ``test:`` adapter runs every step to the end.
Run it from examples/continuations/ with ``pytest test_imports.py``."""

from pathlib import Path

from imports import ImportJob

from activejob.testing import TestAdapter, assert_performed_jobs, perform_enqueued_jobs


def test_every_row_is_imported(tmp_path: Path, activejob_test_adapter: TestAdapter) -> None:
    source, target = tmp_path / "export.txt", tmp_path / "imported.txt"
    source.write_text("row 1\nrow 2\nrow 3\n")

    ImportJob.perform_later(str(source), str(target))
    perform_enqueued_jobs()

    assert target.read_text() == "row 1\nrow 2\nrow 3\n"
    assert_performed_jobs(1)
