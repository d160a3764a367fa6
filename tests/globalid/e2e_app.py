"""A small application for the end-to-end tests: a SQLAlchemy model and jobs that take it.

The test process imports it, and so does a worker started with
``--import tests.globalid.e2e_app``: that one finds the records database in
``AJ_GID_RECORDS_URL`` and writes what its jobs do to ``AJ_GID_OUT``.
"""

from __future__ import annotations

import os
import threading

from sqlalchemy import Engine, String, create_engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

import activejob.globalid.sqlalchemy
from activejob import Job, RecordNotFound, discard_on, retry_on

RUNS: list[str] = []
_lock = threading.Lock()


class Base(DeclarativeBase):
    pass


class Member(Base):
    __tablename__ = "e2e_members"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))


def record(line: str) -> None:
    with _lock:
        RUNS.append(line)
        out = os.environ.get("AJ_GID_OUT")
        if out:
            with open(out, "a", encoding="utf-8") as file:
                file.write(line + "\n")


@discard_on(RecordNotFound)
class WelcomeJob(Job):
    """Drops the job when the member is gone; anything else fails it."""

    def perform(self, member: Member) -> None:
        record(f"welcome {member.name}")


@retry_on(OperationalError, wait=0.1, attempts=3, jitter=0)
@discard_on(RecordNotFound)
class SyncJob(Job):
    """Also retries while the database cannot be reached."""

    def perform(self, member: Member) -> None:
        record(f"sync {member.name}")


def connect(url: str) -> Engine:
    """An engine on the records database, its table, and GlobalID lookups through it."""
    # A short busy timeout on SQLite: a locked database fails fast instead of waiting 5s.
    args = {"timeout": 0.2} if url.startswith("sqlite") else {}
    engine = create_engine(url, connect_args=args)
    Base.metadata.create_all(engine)
    activejob.globalid.sqlalchemy.configure(Base, session_factory=sessionmaker(engine))
    return engine


if os.environ.get("AJ_GID_RECORDS_URL"):
    connect(os.environ["AJ_GID_RECORDS_URL"])
