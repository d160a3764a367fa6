"""An ordinary activejob job beside the tasks (autodiscovered as ``jobs.py``)."""

from activejob import Job


class PlainJob(Job):
    def perform(self) -> None:
        return None
