"""``activejob worker`` on MariaDB/MySQL as a user runs it: the same real supervisor,
worker processes and signals as ``test_worker_cli`` (its tests, collected again here
with a MariaDB database of this session, emptied per test, as the backend)."""

from __future__ import annotations

import pytest

import activejob
from tests.acceptance.test_worker_cli import (
    storage,
    test_a_job_that_keeps_killing_its_worker_is_failed_as_poison,
    test_a_second_sigint_stops_at_once,
    test_burst_with_two_processes_runs_every_job_once,
    test_kill_9_mid_job_releases_it_and_it_runs_again,
    test_queues_flag_serves_queues_in_order_with_wildcards_and_no_others,
    test_sigterm_drains,
    workers,
)
from tests.backends.conftest import mysql_truncate

pytestmark = pytest.mark.mysql

__all__ = [
    "storage",
    "test_a_job_that_keeps_killing_its_worker_is_failed_as_poison",
    "test_a_second_sigint_stops_at_once",
    "test_burst_with_two_processes_runs_every_job_once",
    "test_kill_9_mid_job_releases_it_and_it_runs_again",
    "test_queues_flag_serves_queues_in_order_with_wildcards_and_no_others",
    "test_sigterm_drains",
    "workers",
]


@pytest.fixture
def url(mysql_cli_database: str) -> str:
    """The session's MariaDB database, emptied, configured as the default adapter."""
    mysql_truncate(mysql_cli_database)
    activejob.configure(adapter=mysql_cli_database)
    return mysql_cli_database
