"""The jobs both web examples enqueue. A worker runs them:
``activejob worker --adapter sqlite:///jobs.sqlite3 --import jobs`` (from this folder)."""

from activejob import Job


class WelcomeEmailJob(Job):
    queue_as = "mailers"

    def perform(self, user_email: str) -> None:
        print(f"welcome, {user_email}")


class ResizeImageJob(Job):
    def perform(self, image_id: int, width: int) -> None:
        print(f"resizing image {image_id} to {width}px")
