"""Enqueueing a job defined in ``__main__`` to a durable backend warns, once per
class: a worker is another process and can never import the script's classes."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import activejob
from activejob import Job
from activejob.adapters import durable
from tests.backends import redis_support

# Fixtures shared by the Redis tests.
prefix = redis_support.prefix
redis_server_url = redis_support.redis_server_url
redis_url = redis_support.redis_url


class ImportableJob(Job):
    def perform(self, n: int) -> None:
        pass


def _main_job(name: str) -> type[Job]:
    """A job class as a script run with ``python script.py`` defines it."""

    def perform(self: Job, n: int) -> None:
        pass

    return type(name, (Job,), {"__module__": "__main__", "__qualname__": name, "perform": perform})


@pytest.fixture(params=["sqlite", "postgresql", "mysql", "redis"])
def durable_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    if request.param == "postgresql":
        return str(request.getfixturevalue("pg_url"))
    if request.param == "mysql":
        return str(request.getfixturevalue("mysql_url"))
    return str(request.getfixturevalue("redis_url"))


@pytest.fixture(autouse=True)
def forget_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each test sees the first enqueue of a class in this process.
    monkeypatch.setattr(durable, "_warned_main", set(), raising=False)


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "activejob" and r.levelno == logging.WARNING and "__main__" in r.getMessage()
    ]


def test_a_main_job_warns_once_per_class(
    durable_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="activejob")
    script_job = _main_job("ScriptJob")
    other_job = _main_job("OtherScriptJob")
    activejob.configure(adapter="test:")
    script_job.perform_later(0)  # runs in this process: nothing to warn about
    assert _warnings(caplog) == []
    activejob.configure(adapter=durable_url)
    script_job.perform_later(1)
    script_job.perform_later(2)
    script_job.set(wait=3600).perform_later(3)
    ImportableJob.perform_later(4)  # importable: no warning
    activejob.perform_all_later([script_job(5), other_job(6), other_job(7)])
    lines = _warnings(caplog)
    assert len(lines) == 2, lines
    first, second = lines
    assert first.startswith("ScriptJob is defined in __main__")
    assert "a worker cannot import it" in first
    assert "Define the job in an importable module" in first and "--import MODULE" in first
    assert second.startswith("OtherScriptJob is defined in __main__")


def test_a_script_enqueueing_its_own_job_is_warned(tmp_path: Path) -> None:
    script = tmp_path / "enqueue.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import logging
            import activejob
            from activejob import Job, job

            logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")

            class ReportJob(Job):
                def perform(self, n):
                    pass

            @job
            def send_mail(to):
                pass

            activejob.configure(adapter="sqlite:///{tmp_path / "jobs.sqlite3"}")
            ReportJob.perform_later(1)
            ReportJob.perform_later(2)
            send_mail.perform_later("a@example.com")
            """
        )
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path, timeout=60
    )
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if "__main__" in line]
    assert len(lines) == 2, done.stderr
    assert lines[0].startswith("WARNING ReportJob is defined in __main__")
    assert lines[1].startswith("WARNING send_mail is defined in __main__")
