"""``rq worker -c bridges_rq_settings``, for the forking-worker row of
``bridges_rq_huey.py``: RQ imports it once, before it forks a work horse per job.
``prepare_worker()`` imports ``ACTIVEJOB_IMPORTS`` (``bridges_rq_huey_app``: our job
and RQ's own no-op function) and the bridge here, so both kinds of job find their
code in the forked process, as the docs tell an RQ user to set it up."""

from __future__ import annotations

from activejob.adapters.rq import prepare_worker

prepare_worker()
