"""``rq worker -c tests.bridges.rq_settings``: the bridge's preparation in RQ's main
process, before it forks a work horse per job."""

from activejob.adapters.rq import prepare_worker

prepare_worker()
