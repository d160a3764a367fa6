"""Enqueue on commit inside ``transaction.atomic()`` (Rails 7.2's
``enqueue_after_transaction_commit``).

Inside an atomic block on the ``default`` database, a job on any adapter but
``django`` is held until the outermost block commits
(``transaction.on_commit``) and dropped if it rolls back, savepoints included: the
worker never sees a job for a row that does not exist (yet). On the ``django``
adapter no waiting is needed: the job is written in the same transaction.

The default is ``True`` (``settings.ACTIVEJOB["ENQUEUE_AFTER_TRANSACTION_COMMIT"]``);
a job class may say otherwise::

    class AuditJob(Job):
        enqueue_after_transaction_commit = False   # enqueued at once, even on rollback
"""

from __future__ import annotations

import functools

from django.db import DEFAULT_DB_ALIAS, connections  # type: ignore[import-untyped, unused-ignore]
from django.db import transaction as django_transaction  # type: ignore[import-untyped, unused-ignore]

from activejob.adapters.base import Adapter
from activejob.job.base import Job
from activejob.transaction import AfterCommit, waits_for_commit

__all__ = ["defer_until_commit"]


def defer_until_commit(job: Job, adapter: Adapter) -> AfterCommit | None:
    """``transaction.on_commit`` while an atomic block is open on the default database
    and ``job`` waits for commits; ``None`` otherwise (and always on the ``django``
    adapter, which joins the transaction instead)."""
    from activejob.contrib.django.adapter import DjangoAdapter

    if isinstance(adapter, DjangoAdapter) or not waits_for_commit(job):
        return None
    if not connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return None
    return functools.partial(django_transaction.on_commit, using=DEFAULT_DB_ALIAS)
