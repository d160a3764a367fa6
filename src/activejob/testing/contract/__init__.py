"""The storage contract: one pytest suite every :class:`~activejob.storage.base.Storage`
must pass, whoever wrote it.

Subclass :class:`StorageContract` in a module pytest collects (the class name must
start with ``Test``) and implement :meth:`~StorageContract.make_storage`; every
``test_*`` method then runs against your backend::

    from activejob.testing.contract import StorageContract

    class TestMyStorage(StorageContract):
        def make_storage(self, request):
            storage = MyStorage(...)    # empty, migrated, private to this test
            storage.migrate()
            return storage

The suite covers states and transitions, priority and queue order with
wildcards, scheduled jobs, concurrent claims, attempts, every result state in
one batch, heartbeats and recovery (also of one known dead worker), paused
queues, retry/discard filters, listing, pruning and ``wait``, recurring tasks
(each run stored once however many schedulers race for it), unique keys, and rows written
straight into the store by an attacker or a buggy writer (for a backend that
implements ``corrupt``). Time is driven by a fake clock replacing
:func:`activejob._time.now`, so a backend must take every timestamp from it.
Nothing sleeps: waits block on conditions with deadlines.
"""

from __future__ import annotations

from activejob.testing.contract.base import FakeClock, new_job
from activejob.testing.contract.browsing import Browsing
from activejob.testing.contract.cancel import Cancelling
from activejob.testing.contract.concurrency import ConcurrencyLimits
from activejob.testing.contract.crashes import WorkerCrashes
from activejob.testing.contract.hostile import HostileRows
from activejob.testing.contract.jobs import PushingAndClaiming
from activejob.testing.contract.operating import Operating
from activejob.testing.contract.rate import RateLimits
from activejob.testing.contract.recurring import RecurringRuns
from activejob.testing.contract.recurring_flow import RecurringFlowControl
from activejob.testing.contract.results import ResultsAndRecovery
from activejob.testing.contract.return_values import ReturnValues
from activejob.testing.contract.unique import UniqueKeys
from activejob.testing.contract.waiting import WaitingAndSchema

__all__ = ["FakeClock", "StorageContract", "new_job"]


class StorageContract(
    PushingAndClaiming,
    ResultsAndRecovery,
    WorkerCrashes,
    Operating,
    RecurringRuns,
    ReturnValues,
    RateLimits,
    WaitingAndSchema,
    HostileRows,
    Cancelling,  # flow: cancellation
    UniqueKeys,  # flow: unique
    Browsing,
    ConcurrencyLimits,  # flow: concurrency
    RecurringFlowControl,  # flow control of recurring runs
):
    """The shared tests. Subclasses implement :meth:`make_storage`, and may implement
    :meth:`~HostileRows.corrupt` to run the hostile-row tests."""
