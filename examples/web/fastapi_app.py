"""FastAPI: configure activejob once at startup (the lifespan), enqueue from handlers.

Run it: ``uvicorn fastapi_app:app`` from this folder, and a worker beside it:
``activejob worker --adapter sqlite:///jobs.sqlite3 --import jobs``.
"""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from jobs import ResizeImageJob, WelcomeEmailJob

import activejob


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Once per process, before the first request; enqueueing opens the connection.
    activejob.configure(adapter=os.environ.get("ACTIVEJOB_ADAPTER", "sqlite:///jobs.sqlite3"))
    yield


app = FastAPI(lifespan=lifespan)


@app.post("/signup")
async def signup(email: str) -> dict[str, str]:
    # In an async handler, await aperform_later: the adapter's I/O runs off the loop.
    job = await WelcomeEmailJob.aperform_later(email)
    return {"job_id": job.job_id}


@app.post("/images/{image_id}/resize")
def resize(image_id: int, width: int = 800) -> dict[str, str]:
    # A plain def handler runs in FastAPI's thread pool: perform_later is fine here.
    job = ResizeImageJob.set(priority=10).perform_later(image_id, width)
    return {"job_id": job.job_id}
