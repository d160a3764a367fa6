"""The SQLAlchemy half of the GlobalID guide: models, the GlobalID setup, a job."""

from __future__ import annotations

from sqlalchemy import String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

import activejob.globalid.sqlalchemy
from activejob import Job, RecordNotFound, discard_on

engine = create_engine("sqlite:///blog.sqlite3")  # relative to the working directory
Session = sessionmaker(engine)


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(200))


# Jobs get User records by reference; workers load them with this session factory.
activejob.globalid.sqlalchemy.configure(Base, session_factory=Session)


def report_dropped(job: Job, exc: BaseException) -> None:
    print(f"dropped: {exc}")


# A user deleted before the job ran: nothing to send, drop the job.
@discard_on(RecordNotFound, on_discard=report_dropped)
class WelcomeEmailJob(Job):
    def perform(self, user: User) -> None:
        print(f"welcome mail to {user.email}")
