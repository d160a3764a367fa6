"""GlobalID with SQLAlchemy: a record passed to a job is loaded fresh when it runs.

Run it from anywhere: ``python examples/globalid/sqlalchemy_example.py``.
"""

import atexit
import os
import shutil
import tempfile

folder = tempfile.mkdtemp()  # a fresh folder for this run's two SQLite files,
atexit.register(shutil.rmtree, folder)  # removed when the script ends
os.chdir(folder)

from blog import Base, Session, User, WelcomeEmailJob, engine  # noqa: E402

import activejob  # noqa: E402
from activejob.worker import Worker  # noqa: E402

activejob.configure(app="blog", adapter="sqlite:///jobs.sqlite3")
Base.metadata.create_all(engine)

with Session() as session:
    ann, bob = User(email="ann@example.com"), User(email="bob@example.com")
    session.add_all([ann, bob])
    session.commit()
    WelcomeEmailJob.perform_later(ann)  # the payload holds gid://blog/blog.User/1
    WelcomeEmailJob.perform_later(bob)
    ann.email = "ann@example.org"  # changed before the job runs: the job sees it
    session.delete(bob)  # deleted before the job runs: the job is dropped
    session.commit()

Worker(threads=1).run(burst=True)  # in production: activejob worker --import blog
