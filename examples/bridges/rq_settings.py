"""Settings for `rq worker -c rq_settings`, imported once before RQ forks a work horse
per job: the jobs (and the activejob adapter their retries go through) come with it,
and prepare_worker() readies the bridge here, so that no work horse does it again."""

from rq_jobs import REDIS_URL, ReceiptJob  # noqa: F401

from activejob.adapters.rq import prepare_worker

prepare_worker()

QUEUES = ["default"]
