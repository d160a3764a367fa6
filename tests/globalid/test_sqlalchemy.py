"""SQLAlchemy 2.x models as GlobalIDs, against SQLite and the real PostgreSQL server:
names, keys (integer, text, UUID, composite), fresh loads, one query per model,
scoped sessions, registries only, and an outage that is not "record not found"."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.globalid.support import PgOutage, SqliteLock, need, pg_database

need("sqlalchemy")

import sqlalchemy  # noqa: E402
import sqlalchemy.exc  # noqa: E402
from sqlalchemy import (  # noqa: E402
    BigInteger,
    Engine,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Uuid,
    create_engine,
    event,
    inspect,
)
from sqlalchemy.dialects import mysql, oracle, postgresql, sqlite  # noqa: E402
from sqlalchemy.orm import (  # noqa: E402
    DeclarativeBase,
    Mapped,
    Session,
    mapped_column,
    relationship,
    scoped_session,
    sessionmaker,
)

import activejob  # noqa: E402
import activejob.globalid.sqlalchemy  # noqa: E402
from activejob import Job, RecordNotFound, SerializationError, discard_on  # noqa: E402
from activejob.arguments import deserialize_arguments, serialize, serialize_arguments  # noqa: E402
from activejob.globalid import GlobalID, UnknownModel, locate, locate_many  # noqa: E402
from activejob.job.execution import run  # noqa: E402

configure = activejob.globalid.sqlalchemy.configure
unconfigure = activejob.globalid.sqlalchemy.unconfigure


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "gid_users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    posts: Mapped[list[Post]] = relationship(back_populates="author")


class Post(Base):
    __tablename__ = "gid_posts"
    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("gid_users.id"))
    author: Mapped[User] = relationship(back_populates="posts")


class Tag(Base):
    __tablename__ = "gid_tags"
    slug: Mapped[str] = mapped_column(String(50), primary_key=True)


class Device(Base):
    __tablename__ = "gid_devices"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)


class Membership(Base):
    __tablename__ = "gid_memberships"
    org: Mapped[str] = mapped_column(String(50), primary_key=True)
    user_id: Mapped[int] = mapped_column(primary_key=True)
    role: Mapped[str] = mapped_column(String(20))


class Counter(Base):
    __tablename__ = "gid_counters"
    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)


class Event(Base):
    __tablename__ = "gid_events"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)


class OtherBase(DeclarativeBase):
    pass


class Widget(OtherBase):
    __tablename__ = "gid_widgets"
    id: Mapped[int] = mapped_column(primary_key=True)


@discard_on(RecordNotFound)
class RenameJob(Job):
    def perform(self, user: User, name: str) -> str:
        return f"{user.name} -> {name}"


@dataclass
class Records:
    """One database for the records: an engine, SELECT counting, and a real outage."""

    engine: Engine
    outage: Callable[[], AbstractContextManager[object]]
    selects: list[str]

    def add(self, *records: Any) -> None:
        with Session(self.engine, expire_on_commit=False) as session:
            session.add_all(records)
            session.commit()

    def execute(self, sql: str) -> None:
        with self.engine.begin() as connection:
            connection.exec_driver_sql(sql)


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    with pg_database("aj_gid_sa") as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Records]:
    if request.param == "sqlite":
        path = tmp_path / "records.sqlite3"
        # A short busy timeout: a locked database fails fast instead of waiting 5s.
        engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0.2})

        def outage() -> AbstractContextManager[object]:
            return SqliteLock(path)
    else:
        url = request.getfixturevalue("pg_url")
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))

        def outage() -> AbstractContextManager[object]:
            return PgOutage(url)

    Base.metadata.create_all(engine)
    selects: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append(statement)

    configure(Base, session_factory=sessionmaker(engine))
    try:
        yield Records(engine, outage, selects)
    finally:
        unconfigure()
        Base.metadata.drop_all(engine)
        engine.dispose()


def name_of(cls: type) -> str:
    return f"{__name__}.{cls.__qualname__}"


def test_a_saved_record_has_a_globalid(db: Records) -> None:
    user = User(name="ann")
    db.add(user)
    assert GlobalID.create(user) == GlobalID("activejob", name_of(User), str(user.id))
    assert serialize(user) == {"_aj": "gid", "v": f"gid://activejob/{name_of(User)}/{user.id}"}


def test_an_unsaved_record_is_refused_at_enqueue(db: Records) -> None:
    with pytest.raises(SerializationError, match=r"no primary key yet.*flush or commit"):
        serialize_arguments((User(name="new"),), {})
    with Session(db.engine) as session:
        pending = User(name="pending")
        session.add(pending)
        with pytest.raises(SerializationError, match="no primary key yet"):
            serialize_arguments((pending,), {})


def test_locate_reads_the_row_again_and_returns_it_detached(db: Records) -> None:
    user = User(name="ann")
    db.add(user)
    gid = GlobalID.create(user)
    db.execute(f"UPDATE gid_users SET name = 'anne' WHERE id = {user.id}")
    db.selects.clear()
    found = locate(gid)
    assert isinstance(found, User) and found is not user
    assert inspect(found).detached
    assert found.name == "anne"  # columns stay readable after the session closed
    assert len(db.selects) == 1


def test_keys_of_every_kind(db: Records) -> None:
    device = Device()
    tag = Tag(slug="a/b c+d%")
    membership = Membership(org="acme/eu", user_id=7, role="admin")
    db.add(device, tag, membership)
    assert GlobalID.create(device).model_id == str(device.id)
    gid = GlobalID.create(membership)
    assert gid.model_id == ("acme/eu", "7")
    assert str(gid) == f"gid://activejob/{name_of(Membership)}/acme%2Feu/7"
    assert locate(str(GlobalID.create(device))).id == device.id
    assert locate(str(GlobalID.create(tag))).slug == "a/b c+d%"
    assert locate(str(gid)).role == "admin"


def test_missing_and_impossible_ids_are_record_not_found(db: Records) -> None:
    with pytest.raises(RecordNotFound, match=f"gid://activejob/{name_of(User)}/999"):
        locate(GlobalID("activejob", name_of(User), "999"))
    db.selects.clear()
    for impossible in ("abc", ("1", "2")):
        with pytest.raises(RecordNotFound):
            locate(GlobalID("activejob", name_of(User), impossible))
    with pytest.raises(RecordNotFound):
        locate(GlobalID("activejob", name_of(Device), "not-a-uuid"))
    assert db.selects == []  # no row can have such an id: no query


INT64 = (-(2**63), 2**63 - 1)


def test_ids_out_of_the_column_range_are_record_not_found_without_a_query(db: Records) -> None:
    # SQLite keeps any INTEGER in 64 bits whatever the declared type; PostgreSQL refuses
    # ("integer out of range") what the declared type cannot hold.
    declared = db.engine.dialect.name != "sqlite"
    widest = {User: 2**31 - 1, Counter: 2**15 - 1} if declared else {User: 2**40, Counter: 2**40}
    db.add(User(id=widest[User], name="max"), Counter(id=widest[Counter]), Event(id=INT64[1]))
    beyond = {User: widest[User] + 1, Counter: widest[Counter] + 1} if declared else {}
    impossible = [(cls, str(value)) for cls, value in beyond.items()]
    impossible += [
        (cls, text) for cls in (User, Counter, Event) for text in ("9" * 25, "-" + "9" * 25)
    ]
    impossible += [(Event, str(INT64[1] + 1)), (Event, str(INT64[0] - 1))]
    db.selects.clear()
    for cls, text in impossible:
        gid = GlobalID("activejob", name_of(cls), text)
        with pytest.raises(RecordNotFound, match=text):
            locate(gid)
        with pytest.raises(RecordNotFound, match=text):
            locate_many([gid])
    assert db.selects == []
    found = [(User, widest[User]), (Counter, widest[Counter]), (Event, INT64[1])]
    for cls, value in found:
        assert locate(GlobalID("activejob", name_of(cls), str(value))).id == value
    gids = [GlobalID("activejob", name_of(cls), text) for cls, text in impossible]
    gids += [GlobalID("activejob", name_of(cls), str(value)) for cls, value in found]
    db.selects.clear()
    assert [r.id for r in locate_many(gids, ignore_missing=True)] == [v for _, v in found]
    assert len(db.selects) == 3  # one per model, for the ids a row can have


@pytest.mark.parametrize(
    ("column_type", "dialect", "bounds"),
    [
        (Integer(), postgresql.dialect(), (-(2**31), 2**31 - 1)),
        (SmallInteger(), postgresql.dialect(), (-(2**15), 2**15 - 1)),
        (BigInteger(), postgresql.dialect(), INT64),
        (SmallInteger(), sqlite.dialect(), INT64),
        (
            BigInteger().with_variant(Integer(), "postgresql"),
            postgresql.dialect(),
            (-(2**31), 2**31 - 1),
        ),
        (mysql.INTEGER(unsigned=True), mysql.dialect(), (0, 2**32 - 1)),
        (mysql.BIGINT(unsigned=True), mysql.dialect(), (0, 2**64 - 1)),
        (Integer(), oracle.dialect(), None),  # NUMBER(38): not bounded
        (String(), postgresql.dialect(), None),
    ],
)
def test_integer_range_per_database(column_type: Any, dialect: Any, bounds: Any) -> None:
    column = sqlalchemy.Column("id", column_type)
    assert activejob.globalid.sqlalchemy.integer_range(column, dialect) == bounds


def test_locate_many_one_query_per_model_in_order(db: Records) -> None:
    users = [User(name=n) for n in ("ann", "bob", "cid")]
    members = [Membership(org="acme", user_id=i, role=r) for i, r in ((1, "dev"), (2, "ops"))]
    db.add(*users, *members)
    gids = [
        GlobalID.create(users[2]),
        GlobalID.create(members[1]),
        GlobalID.create(users[0]),
        GlobalID.create(members[0]),
        GlobalID.create(users[2]),
    ]
    db.selects.clear()
    found = locate_many(gids)
    labels = [getattr(r, "name", None) or r.role for r in found]
    assert labels == ["cid", "ops", "ann", "dev", "cid"]
    assert len(db.selects) == 2
    missing = GlobalID("activejob", name_of(User), "999")
    with pytest.raises(RecordNotFound, match="/999"):
        locate_many([gids[0], missing])
    assert [u.name for u in locate_many([missing, gids[0]], ignore_missing=True)] == ["cid"]


def test_a_scoped_session_keeps_records_attached_and_still_reads_fresh(db: Records) -> None:
    user = User(name="ann")
    db.add(user)
    scoped = scoped_session(sessionmaker(db.engine))
    configure(Base, session_factory=scoped)
    try:
        cached = scoped.get(User, user.id)
        assert cached is not None and cached.name == "ann"
        db.execute(f"UPDATE gid_users SET name = 'anne' WHERE id = {user.id}")
        found = locate(GlobalID.create(user))
        assert found is cached and found.name == "anne"  # same identity, row read again
        assert found in scoped()
        assert found.posts == []  # attached: relationships load
        scoped.commit()
        db.execute(f"DELETE FROM gid_users WHERE id = {user.id}")
        with pytest.raises(RecordNotFound):
            locate(GlobalID.create(user))
    finally:
        scoped.remove()


def test_only_mapped_classes_of_configured_bases_can_be_named(db: Records) -> None:
    for name in (name_of(Widget), "sqlalchemy.orm.session.Session", "os.system"):
        with pytest.raises(UnknownModel):
            locate(GlobalID("activejob", name, "1"))
    configure(OtherBase, session_factory=sessionmaker(db.engine))
    OtherBase.metadata.create_all(db.engine)
    try:
        db.add(Widget(id=1))
        assert locate(GlobalID("activejob", name_of(Widget), "1")).id == 1
    finally:
        OtherBase.metadata.drop_all(db.engine)
    unconfigure()
    with pytest.raises(UnknownModel, match="no SQLAlchemy base is configured"):
        locate(GlobalID("activejob", name_of(User), "1"))


def test_a_record_deleted_before_the_job_runs_discards_it(db: Records) -> None:
    user = User(name="ann")
    db.add(user)
    payload = json.loads(json.dumps(RenameJob(user, "anne").serialize()))
    assert run(payload).value == "ann -> anne"
    db.execute(f"DELETE FROM gid_users WHERE id = {user.id}")
    outcome = run(payload)
    assert outcome.kind == "discarded"
    assert isinstance(outcome.exception, RecordNotFound)


def test_an_outage_is_the_driver_error_never_record_not_found(db: Records) -> None:
    user = User(name="ann")
    db.add(user)
    args_json, kwargs_json = json.loads(json.dumps(serialize_arguments((user,), {})))
    payload = json.loads(json.dumps(RenameJob(user, "anne").serialize()))
    with db.outage():
        with pytest.raises(sqlalchemy.exc.OperationalError):
            locate(GlobalID.create(user))
        with pytest.raises(sqlalchemy.exc.OperationalError):
            deserialize_arguments(args_json, kwargs_json)
        outcome = run(payload)
        assert outcome.kind == "failed"
        assert isinstance(outcome.exception, sqlalchemy.exc.OperationalError)
    assert run(payload).value == "ann -> anne"  # back up: the same payload runs


def test_configure_checks_its_arguments() -> None:
    with pytest.raises(TypeError, match="not a SQLAlchemy declarative base"):
        configure(object(), session_factory=sessionmaker())
    with pytest.raises(TypeError, match="must be callable"):
        configure(Base, session_factory=None)  # type: ignore[arg-type]
    configure(Base.registry, session_factory=sessionmaker())
    try:
        assert activejob.globalid.sqlalchemy.configured_bases() == [Base.registry]
    finally:
        unconfigure(Base)
    assert activejob.globalid.sqlalchemy.configured_bases() == []
