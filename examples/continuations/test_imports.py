"""A continuation under test: the ``test:`` adapter runs every step to the end,
and ``interrupt_job_during_step`` stops it as a deploy would.
Run it from examples/continuations/ with ``pytest test_imports.py``."""

from pathlib import Path

from imports import ImportJob

from activejob.testing import (
    TestAdapter,
    assert_performed_jobs,
    interrupt_job_during_step,
    perform_enqueued_jobs,
)


def test_every_row_is_imported(tmp_path: Path, activejob_test_adapter: TestAdapter) -> None:
    source, target = tmp_path / "export.txt", tmp_path / "imported.txt"
    source.write_text("row 1\nrow 2\nrow 3\n")

    ImportJob.perform_later(str(source), str(target))
    perform_enqueued_jobs()

    assert target.read_text() == "row 1\nrow 2\nrow 3\n"
    assert_performed_jobs(1)


def test_an_interrupted_import_resumes_at_its_cursor(
    tmp_path: Path, activejob_test_adapter: TestAdapter
) -> None:
    source, target = tmp_path / "export.txt", tmp_path / "imported.txt"
    source.write_text("row 1\nrow 2\nrow 3\n")
    ImportJob.perform_later(str(source), str(target))

    with interrupt_job_during_step(ImportJob, "rows", cursor=2):
        perform_enqueued_jobs()  # two rows, then stopped: enqueued again
    assert target.read_text() == "row 1\nrow 2\n"

    perform_enqueued_jobs()  # resumes at row 3
    assert target.read_text() == "row 1\nrow 2\nrow 3\n"
