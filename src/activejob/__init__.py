"""activejob: background jobs for Python.

Declare a job once, enqueue it now or later, and pick the queue backend as an
operational choice::

    import activejob
    from activejob import Job, job

    class ReportJob(Job):
        queue_as = "reports"

        def perform(self, report_id: int) -> None: ...

    ReportJob.perform_later(42)
    ReportJob.set(wait=60).perform_later(43)

Public names live here; everything else is an implementation module.
"""

from __future__ import annotations

from activejob import serializers  # `import activejob` is enough for serializers.register
from activejob.config import Config, configure, get_config
from activejob.continuation import Continuable, Step
from activejob.errors import (  # flow: timeouts, cancel
    Abort,
    ActiveJobError,
    ConfigurationError,
    DeserializationError,
    DuplicateJobError,
    EnqueueError,
    JobCancelled,
    JobNotFound,
    JobTimeout,
    RecordNotFound,
    SerializationError,
    UnknownJobClassError,
)
from activejob.flow.cancel import cancel

# flow: concurrency
from activejob.flow.concurrency import ConcurrencyLimitReached, limits_concurrency
from activejob.flow.rate import rate_limit  # flow: rate limits
from activejob.flow.unique import unique
from activejob.job.base import Job
from activejob.job.callbacks import (
    after_discard,
    after_enqueue,
    after_perform,
    around_enqueue,
    around_perform,
    before_enqueue,
    before_perform,
)
from activejob.job.enqueuing import perform_all_later
from activejob.job.execution import Outcome, execute
from activejob.job.function import JobFunction, job
from activejob.job.options import ConfiguredJob
from activejob.job.rules import (
    RetryDecision,
    discard_on,
    polynomially_longer,
    rescue_from,
    retry_on,
)
from activejob.status import status
from activejob.transaction import in_transaction
from activejob.worker import Worker, WorkerOptions

__version__ = "0.1.0.dev0"

# -- import-time wiring, all of it, here ---------------------------------------------
# Lower modules never reach up to install themselves: importing any activejob module
# runs this file first, so by the time user code runs every hook below is in place.
from activejob import log as _log
from activejob.adapters import cache as _adapter_cache
from activejob.arguments import registry as _argument_registry
from activejob.config import use_adapter_cache as _use_adapter_cache
from activejob.globalid.serializer import GlobalIDSerializer as _GlobalIDSerializer

_log.install()  # log lines are a subscriber to the events (activejob.log.uninstall())
_argument_registry.add_builtin(_GlobalIDSerializer())  # records travel as GlobalIDs
_use_adapter_cache(_adapter_cache.check_adapter_setting, _adapter_cache.reset_adapters)

__all__ = [
    "Abort",
    "ActiveJobError",
    "ConcurrencyLimitReached",  # flow: concurrency
    "Config",
    "ConfigurationError",
    "ConfiguredJob",
    "Continuable",
    "DeserializationError",
    "DuplicateJobError",
    "EnqueueError",
    "Job",
    # flow: timeouts and cancellation
    "JobCancelled",
    "JobFunction",
    "JobNotFound",
    "JobTimeout",
    "Outcome",
    "RecordNotFound",
    "RetryDecision",
    "SerializationError",
    "Step",
    "UnknownJobClassError",
    "Worker",
    "WorkerOptions",
    "after_discard",
    "after_enqueue",
    "after_perform",
    "around_enqueue",
    "around_perform",
    "before_enqueue",
    "before_perform",
    "cancel",
    "configure",
    "discard_on",
    "execute",
    "get_config",
    "in_transaction",
    "job",
    "limits_concurrency",  # flow: concurrency
    "perform_all_later",
    "polynomially_longer",
    "rate_limit",  # flow: rate limits
    "rescue_from",
    "retry_on",
    "serializers",
    "status",
    "unique",
]
