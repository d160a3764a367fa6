"""A job module that notes each import, for the RQ forking-worker test: with
``prepare_worker()`` in the ``-c`` settings module RQ's main process imports it once
and every work horse inherits it; without, each work horse imports it again."""

from __future__ import annotations

import os

from activejob import Job

if os.environ.get("AJ_RQ_IMPORTS_LOG"):
    with open(os.environ["AJ_RQ_IMPORTS_LOG"], "a", encoding="utf-8") as log:
        log.write(f"imported {os.getpid()}\n")


class CountedJob(Job):
    """Writes the id of the process it ran in."""

    def perform(self) -> None:
        with open(os.environ["AJ_RQ_IMPORTS_LOG"], "a", encoding="utf-8") as log:
            log.write(f"ran {os.getpid()}\n")
