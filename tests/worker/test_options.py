"""Worker settings are checked once, with messages that say what to change."""

from __future__ import annotations

import pytest

from activejob import ConfigurationError
from activejob.worker import Worker, WorkerOptions
from activejob.worker.options import parse_queues


def test_queue_lists_are_parsed_in_order() -> None:
    assert parse_queues("critical, default,mail*,*") == ("critical", "default", "mail*", "*")
    assert Worker(queues="a,b").options.queues == ("a", "b")
    assert WorkerOptions.from_dict(WorkerOptions(queues=("x", "y*")).to_dict()).queues == (
        "x",
        "y*",
    )


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        ({"queues": ("",)}, "no queue names"),
        ({"queues": ("a*b",)}, "may only end"),
        ({"threads": 0}, "threads must be at least 1"),
        ({"recover_after": 5.0, "heartbeat_interval": 5.0}, "must be longer than heartbeat"),
        ({"max_crashes": -1}, "max_crashes"),
        ({"poll_interval": 0}, "poll_interval must be positive"),
    ],
)
def test_impossible_settings_are_refused(settings: dict[str, object], words: str) -> None:
    with pytest.raises(ConfigurationError, match=words):
        WorkerOptions(**settings)  # type: ignore[arg-type]


def test_a_backend_without_storage_cannot_be_worked() -> None:
    with pytest.raises(ConfigurationError, match="keeps no jobs"):
        Worker("async:").run(burst=True)


def test_several_processes_need_an_adapter_url() -> None:
    from activejob.adapters.inline import InlineAdapter

    with pytest.raises(ConfigurationError, match="adapter URL"):
        Worker(InlineAdapter(), processes=2).run()
