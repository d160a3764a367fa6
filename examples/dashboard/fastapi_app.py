"""A FastAPI application with the activejob dashboard mounted at /jobs.

Run it with ``uvicorn fastapi_app:app``; the dashboard asks for the user ``admin``
and the password in ``DASHBOARD_PASSWORD``.
"""

import os

from fastapi import FastAPI

from activejob.dashboard import create_app

app = FastAPI()
app.mount(
    "/jobs",
    create_app(
        os.environ.get("ACTIVEJOB_ADAPTER", "sqlite:///jobs.sqlite3"),
        auth=("admin", os.environ["DASHBOARD_PASSWORD"]),
    ),
)


@app.get("/")
def home() -> dict[str, str]:
    return {"jobs": "/jobs/"}
