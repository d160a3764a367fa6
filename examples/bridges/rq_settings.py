"""Settings for `rq worker -c rq_settings`, imported once before RQ forks a work horse
per job: the jobs (and the activejob adapter their retries go through) come with it."""

from rq_jobs import REDIS_URL, ReceiptJob  # noqa: F401

QUEUES = ["default"]
