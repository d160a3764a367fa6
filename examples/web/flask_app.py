"""Flask: configure activejob in the app factory, enqueue from views.

Run it: ``flask --app flask_app run`` from this folder, and a worker beside it:
``activejob worker --adapter sqlite:///jobs.sqlite3 --import jobs``.
"""

import os

from flask import Flask, request
from jobs import ResizeImageJob, WelcomeEmailJob

import activejob


def create_app(adapter: str | None = None) -> Flask:
    app = Flask(__name__)
    app.config["ACTIVEJOB_ADAPTER"] = adapter or os.environ.get(
        "ACTIVEJOB_ADAPTER", "sqlite:///jobs.sqlite3"
    )
    # Once per process, in the factory; nothing connects until the first enqueue.
    activejob.configure(adapter=app.config["ACTIVEJOB_ADAPTER"])

    @app.post("/signup")
    def signup() -> dict[str, str]:
        job = WelcomeEmailJob.perform_later(request.form["email"])
        return {"job_id": job.job_id}

    @app.post("/images/<int:image_id>/resize")
    async def resize(image_id: int) -> dict[str, str]:
        # Flask runs async views too (pip install 'flask[async]'): await aperform_later.
        job = await ResizeImageJob.set(priority=10).aperform_later(image_id, 800)
        return {"job_id": job.job_id}

    return app
