"""``huey:?huey=proj.tasks:huey``: jobs run by Huey's consumer (``huey_consumer``).

A bridge for a team that already runs Huey. :class:`HueyAdapter` registers one
task on the user's ``Huey`` instance, :func:`perform` (Huey's name for it is
``activejob.adapters.huey.perform``), with ``retries=0``; its only work is
:func:`activejob.execute` on our JSON payload, so our retries, discards and
callbacks apply and a failure is never retried twice. ``set(wait=...)`` becomes
the task's ``eta``; a Huey instance has one queue, so a job for another queue is
refused; priorities map where the storage has them (``PriorityRedisHuey``,
``SqliteHuey``): ours run smaller first, Huey's larger first, so Huey is given
``-priority``. ``provider_job_id`` is the Huey task id. Huey has no bulk enqueue:
``perform_all_later`` enqueues one task at a time.

Huey pickles its messages by default. :class:`JSONSerializer` writes them as JSON
instead (``RedisHuey("proj", serializer=JSONSerializer())``); see
``docs/bridges.md`` for what each choice trusts.

The consumer must register the task too, so build the adapter in the module that
defines the Huey instance, the one ``huey_consumer`` imports::

    # proj/tasks.py
    huey = RedisHuey("proj", url="redis://localhost:6379/0", serializer=JSONSerializer())
    activejob.configure(adapter=HueyAdapter(huey))
    import proj.jobs  # the Job classes, so the consumer knows them

    # then: huey_consumer proj.tasks.huey

Importing this module imports ``huey``.
"""

from __future__ import annotations

import datetime
import json
import threading
import weakref
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qs, urlsplit

from huey import Huey
from huey.registry import Message
from huey.serializer import Serializer
from huey.utils import Error, normalize_time

from activejob.adapters.base import Adapter
from activejob.adapters.bridge import WorkerPreparation, load_object, message_payload, run_in_worker
from activejob.errors import ConfigurationError
from activejob.job.core import new_job_id

if TYPE_CHECKING:
    from activejob.job.base import Job

__all__ = ["HueyAdapter", "JSONSerializer", "bridge_task", "perform"]

_tasks: weakref.WeakKeyDictionary[Huey, Any] = weakref.WeakKeyDictionary()
_tasks_lock = threading.Lock()


def perform(payload: dict[str, Any]) -> None:
    """Run one of our payloads in a Huey consumer, with all our rules.

    A retry is enqueued again through the job's adapter (the ``HueyAdapter`` the
    consumer's module configured); a discard ends the task as a success; a
    failure, including a payload that names no registered job class, raises, and
    Huey records it (an error result under the task id, the ``error`` signal).
    Returns ``None``, so Huey stores no result.
    """
    run_in_worker(
        payload,
        _prepare,
        "for huey_consumer, import the module from the module that defines the Huey "
        "instance, or name it in ACTIVEJOB_IMPORTS",
    )


_prepare = WorkerPreparation(
    "huey",
    "call activejob.configure(adapter=HueyAdapter(huey)) in the module that defines "
    "the Huey instance",
)


def bridge_task(huey: Huey) -> Any:
    """The one task of the bridge on ``huey`` (a Huey ``TaskWrapper``), registered
    on first use with Huey's retries off.

    Example::

        bridge_task(huey).s(job.serialize())
    """
    with _tasks_lock:
        task = _tasks.get(huey)
        if task is None:
            task = huey.task(retries=0)(perform)
            _tasks[huey] = task
        return task


class HueyAdapter(Adapter):
    """Enqueues jobs as tasks of the user's ``huey`` (any ``Huey`` instance).

    Example::

        huey = RedisHuey("proj", serializer=JSONSerializer())
        activejob.configure(adapter=HueyAdapter(huey))
    """

    scheme: ClassVar[str] = "huey"
    supports_queues: ClassVar[bool] = False

    def __init__(self, huey: Huey) -> None:
        if not isinstance(huey, Huey):
            raise ConfigurationError(f"HueyAdapter takes a huey.Huey instance, got {huey!r}")
        self.huey = huey
        self.task = bridge_task(huey)
        # Per instance, not per class: PriorityRedisHuey has priorities, RedisHuey not.
        self.supports_priority = bool(getattr(huey.storage, "priority", False))  # type: ignore[misc]

    @classmethod
    def from_url(cls, url: str) -> HueyAdapter:
        """``huey:?huey=proj.tasks:huey``: the Huey instance at that import path."""
        target = parse_qs(urlsplit(url).query).get("huey", [""])[0]
        module_name, _, attribute = target.partition(":")
        if not module_name or not attribute:
            raise ConfigurationError(
                f"the huey adapter takes the Huey instance's import path, such as "
                f"'huey:?huey=proj.tasks:huey'; got {url!r}"
            )
        found = load_object(target)
        if not isinstance(found, Huey):
            raise ConfigurationError(f"{target!r} in {url!r} is {found!r}, not a huey.Huey")
        return cls(found)

    def enqueue(self, job: Job) -> None:
        self._send(job, None)

    def enqueue_at(self, job: Job, timestamp: float) -> None:
        self._send(job, timestamp)

    def _send(self, job: Job, timestamp: float | None) -> None:
        task = self.task.s(message_payload(job), id=new_job_id())  # Huey's kind of id, quicker
        if timestamp is not None:
            at = datetime.datetime.fromtimestamp(timestamp, datetime.timezone.utc)
            task.eta = normalize_time(at, None, self.huey.utc)
        if job.priority is not None:
            task.priority = -job.priority  # ours: smaller first; Huey's: larger first
        self.huey.enqueue(task)
        job.provider_job_id = task.id

    def __str__(self) -> str:
        return f"huey adapter ({self.huey.name!r}, {type(self.huey.storage).__name__})"


_TAG = "__huey_json__"
_TAG_IN_TEXT = json.dumps(_TAG)


class JSONSerializer(Serializer):  # type: ignore[misc]
    """Huey's serializer writing JSON instead of pickle.

    Takes what Huey itself stores (messages with their ``eta`` datetimes and
    argument tuples, error results) and JSON values in task arguments and results,
    with datetimes and timedeltas tagged. As with any JSON serializer, a tuple
    *inside* an argument comes back as a list and a dict's int keys as strings.
    Anything JSON cannot hold (a set, an
    object) raises ``TypeError`` when the task is enqueued or its result stored, and
    so does the key ``"__huey_json__"``, which marks the tagged values. Reading
    never imports or calls anything a message names. Takes Huey's ``compression``
    options.

    Example::

        huey = RedisHuey("proj", serializer=JSONSerializer())
    """

    def _serialize(self, data: Any) -> bytes:
        tagged = _Tagger()
        # One pass of the C encoder over the payload: only Huey's own structures
        # (a message, its fields, an error) are shaped in Python first.
        text = json.dumps(tagged.shape(data), default=tagged.default, separators=(",", ":"))
        if text.count(_TAG_IN_TEXT) != tagged.count:
            raise TypeError(
                f"huey's JSONSerializer cannot store a value using its reserved name {_TAG!r}"
            )
        return text.encode()

    def _deserialize(self, data: bytes) -> Any:
        return json.loads(data, object_hook=_untag)


class _Tagger:
    """Tags what JSON has no type for, counting the tags it writes."""

    def __init__(self) -> None:
        self.count = 0

    def tag(self, kind: str, body: Any) -> dict[str, Any]:
        self.count += 1
        return {_TAG: [kind, body]}

    def shape(self, value: Any) -> Any:
        if isinstance(value, Message):
            return self.tag("message", [self.shape(field) for field in value])
        if isinstance(value, Error):
            return self.tag("error", value.metadata)
        if isinstance(value, tuple):  # a message's args, its chord config, a revoke
            return self.tag("tuple", [self.shape(item) for item in value])
        return value

    def default(self, value: Any) -> Any:
        """For ``json.dumps``: a value JSON has no type for."""
        if isinstance(value, datetime.datetime):
            return self.tag("datetime", value.isoformat())
        if isinstance(value, datetime.timedelta):
            return self.tag("timedelta", value.total_seconds())
        raise TypeError(
            f"huey's JSONSerializer cannot store {type(value).__qualname__} {value!r:.80}: "
            "task arguments and results must be JSON values (str, number, bool, None, "
            "lists, dicts with str keys), tuples or datetimes"
        )


def _untag(value: dict[str, Any]) -> Any:
    """For ``json.loads``: a tagged value back (its body is decoded already)."""
    if len(value) != 1 or _TAG not in value:
        return value
    kind, body = value[_TAG]
    if kind == "message":
        return Message(*body)
    if kind == "error":
        return Error(body)
    if kind == "tuple":
        return tuple(body)
    if kind == "datetime":
        return datetime.datetime.fromisoformat(body)
    if kind == "timedelta":
        return datetime.timedelta(seconds=body)
    raise ValueError(f"huey's JSONSerializer found an unknown tag {kind!r}")
