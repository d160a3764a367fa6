"""Registering recurring tasks in code and in a TOML file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from activejob import recurring
from activejob.errors import ConfigurationError
from tests.recurring.jobs import CleanupJob, poll_feeds


@pytest.fixture(autouse=True)
def no_tasks() -> Iterator[None]:
    recurring.clear()
    yield
    recurring.clear()


def test_register_a_job_class_and_an_at_job_function() -> None:
    nightly = recurring.register(
        "nightly-cleanup", CleanupJob, schedule="0 3 * * *", args=(30,),
        kwargs={"dry_run": True}, queue="low", priority=5, timezone="Europe/Berlin",
    )  # fmt: skip
    feeds = recurring.register("poll-feeds", poll_feeds, schedule="every 5 minutes")
    assert [t.key for t in recurring.tasks()] == ["nightly-cleanup", "poll-feeds"]
    assert nightly.timezone == "Europe/Berlin" and nightly.catch_up == "latest"
    job = nightly.build_job(1_767_236_400)
    assert isinstance(job, CleanupJob)
    assert (job.arguments, job.kwargs) == ((30,), {"dry_run": True})
    assert (job.queue_name, job.priority) == ("low", 5)
    assert job.metadata["recurring"] == {
        "key": "nightly-cleanup",
        "run_at": "2026-01-01T03:00:00+00:00",
    }
    assert feeds.job_class is poll_feeds.job_class
    assert feeds.build_job().queue_name == "feeds"
    spec = nightly.spec()
    assert (spec.schedule, spec.queue_name, spec.priority) == ("0 3 * * *", "low", 5)
    assert json.loads(spec.payload)["arguments"] == [30]


def test_registering_a_key_again_replaces_it() -> None:
    recurring.register("k", CleanupJob, schedule="@daily", args=(1,))
    recurring.register("k", CleanupJob, schedule="@hourly", args=(2,))
    [task] = recurring.tasks()
    assert task.schedule.text == "@hourly" and task.args == (2,)
    recurring.unregister("k")
    assert recurring.tasks() == []


@pytest.mark.parametrize(
    ("job", "options", "message"),
    [
        (print, {}, "Job subclass or an @job function"),
        (CleanupJob, {"args": (object(),)}, "object"),
        (CleanupJob, {"args": "30"}, "args must be a list"),
        (CleanupJob, {"priority": "high"}, "priority must be an int"),
        (CleanupJob, {"catch_up": "all"}, "catch_up"),
        (CleanupJob, {"timezone": "Nowhere/Land"}, "unknown time zone"),
    ],
)
def test_bad_tasks_are_refused_at_register(job: object, options: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ConfigurationError, match=message):
        recurring.register("bad", job, schedule="@daily", **options)
    assert recurring.tasks() == []


def test_a_toml_file_defines_one_table_per_task(tmp_path: Path) -> None:
    path = tmp_path / "schedule.toml"
    path.write_text(
        """
[nightly-cleanup]
job = "tests.recurring.jobs:CleanupJob"
schedule = "0 3 * * *"
args = [30]
kwargs = { dry_run = true }
queue = "low"
priority = 5
timezone = "Europe/Berlin"
catch_up = "none"

[poll-feeds]
job = "tests.recurring.jobs.poll_feeds"
schedule = "every 5 minutes"
"""
    )
    tasks = recurring.load_file(path)
    assert [t.key for t in tasks] == ["nightly-cleanup", "poll-feeds"]
    assert [t.key for t in recurring.tasks()] == ["nightly-cleanup", "poll-feeds"]
    nightly, feeds = recurring.tasks()
    assert nightly.job_class is CleanupJob and nightly.args == (30,)
    assert dict(nightly.kwargs) == {"dry_run": True} and nightly.catch_up == "none"
    assert (nightly.queue, nightly.priority, nightly.timezone) == ("low", 5, "Europe/Berlin")
    assert feeds.job_class is poll_feeds.job_class


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[a]\nschedule = '@daily'", "needs job"),
        ("[a]\njob = 'tests.recurring.jobs:CleanupJob'", "needs schedule"),
        ("[a]\njob = 'tests.recurring.jobs:Nope'\nschedule = '@daily'", "has no Nope"),
        ("[a]\njob = 'no_such_module:Job'\nschedule = '@daily'", "cannot import"),
        ("[a]\njob = 'tests.recurring.jobs:CleanupJob'\nschedule = 'sometimes'", "bad schedule"),
        ("[a]\njob = 'tests.recurring.jobs:CleanupJob'\nschedule = '@daily'\nqueu = 'x'",
         "unknown field"),
        ("a = 1", "must be a table"),
        ("[a", "not valid TOML"),
    ],
)  # fmt: skip
def test_a_bad_toml_file_names_the_file_the_task_and_the_fault(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "schedule.toml"
    path.write_text(text)
    with pytest.raises(ConfigurationError, match=message) as caught:
        recurring.load_file(path)
    assert str(path) in str(caught.value)
    assert recurring.tasks() == []


def test_a_missing_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read"):
        recurring.load_file(tmp_path / "missing.toml")
