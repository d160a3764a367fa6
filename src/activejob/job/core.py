"""The job's state and its wire format: ``serialize()`` and its mirror ``deserialize()``.

Every key of the payload is named here, in one place::

    {
      "version": 1,
      "job_class": "myapp.jobs.GuestsCleanupJob",
      "job_id": "0b6c...", "provider_job_id": null,
      "queue_name": "cleanup", "priority": 10,
      "arguments": [...], "kwargs": {...},
      "executions": 0, "exception_executions": {"[builtins.TimeoutError]": 1},
      "locale": null, "timezone": null,
      "enqueued_at": "2026-11-28T14:00:00.000000+00:00", "scheduled_at": null,
      "metadata": {},
      "timeout": 30.0                      (only when the job has a timeout)
    }

The keys of :data:`PAYLOAD_DEFAULTS` may be left out where they hold that value
(a fresh job's): :func:`compact_payload` drops them, as the bridges do for the
messages they hand a foreign system, and :meth:`JobCore.deserialize` reads either
form.

Arguments stay in their JSON form until the job is performed, so a record that
vanished surfaces inside ``perform_now``, where the job's own rules see it.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Mapping
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any, ClassVar, TypeVar

from activejob import arguments as _arguments
from activejob._time import iso_time
from activejob.errors import DeserializationError, shorten
from activejob.flow.timeouts import timeout_seconds
from activejob.job import callbacks, registry

__all__ = [
    "PAYLOAD_DEFAULTS",
    "PAYLOAD_VERSION",
    "JobCore",
    "compact_payload",
    "compact_payload_of",
    "new_job_id",
]

PAYLOAD_VERSION = 1
"""The ``version`` key of payloads this code writes and reads."""

PAYLOAD_DEFAULTS: Mapping[str, Any] = MappingProxyType(
    {
        "provider_job_id": None,
        "priority": None,
        "kwargs": {},
        "executions": 0,
        "exception_executions": {},
        "locale": None,
        "timezone": None,
        "enqueued_at": None,
        "scheduled_at": None,
        "metadata": {},
    }
)
"""The payload keys a reader takes as this value when they are absent. The others
(``version``, ``job_class``, ``job_id``, ``queue_name``, ``arguments``) are always
written."""
_DEFAULT_ITEMS = tuple(PAYLOAD_DEFAULTS.items())

J = TypeVar("J", bound="JobCore")
_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}
_UNSET: Any = object()
_SCALARS = frozenset({str, int, float, bool, type(None)})


def compact_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    """``payload`` without the keys that hold their :data:`PAYLOAD_DEFAULTS` value:
    the same job, in fewer bytes. A bridge sends this form, since every byte of a
    message costs the foreign system's client and broker time (encoding, RQ's zlib,
    the socket); :meth:`JobCore.deserialize` reads it and the full form alike.

    Example::

        compact_payload(ReportJob(42).serialize())
        # {'version': 1, 'job_class': 'myapp.jobs.ReportJob', 'job_id': '0b6c...',
        #  'queue_name': 'default', 'arguments': [42]}
    """
    compact = dict(payload)
    for key, default in _DEFAULT_ITEMS:  # ten lookups, not one test per key
        if compact.get(key, _UNSET) == default:
            del compact[key]
    return compact


def compact_payload_of(job: JobCore) -> dict[str, Any]:
    """``compact_payload(job.serialize())``, built in one pass: the payload a bridge
    sends with every enqueue, so it skips the full form and the copy. A class that
    overrides ``serialize()`` gets exactly that, its override included.

    Example::

        compact_payload_of(ReportJob(42)) == compact_payload(ReportJob(42).serialize())
    """
    if type(job).serialize is not JobCore.serialize:
        return compact_payload(job.serialize())
    args, kwargs = job.serialized_arguments()
    payload: dict[str, Any] = {
        "version": PAYLOAD_VERSION,
        "job_class": job.job_class_name,
        "job_id": job.job_id,
        "queue_name": job.queue_name,
        "arguments": args,
    }
    # Each key below only where it differs from PAYLOAD_DEFAULTS (test_payload.py
    # checks this against compact_payload for every key).
    if job.provider_job_id is not None:
        payload["provider_job_id"] = job.provider_job_id
    if job.priority is not None:
        payload["priority"] = job.priority
    if kwargs:
        payload["kwargs"] = kwargs
    if job.executions != 0:
        payload["executions"] = job.executions
    if job.exception_executions:
        payload["exception_executions"] = dict(job.exception_executions)
    if job.locale is not None:
        payload["locale"] = job.locale
    if job.timezone is not None:
        payload["timezone"] = job.timezone
    if job.enqueued_at is not None:
        payload["enqueued_at"] = iso_time(job.enqueued_at)
    if job.scheduled_at is not None:
        payload["scheduled_at"] = iso_time(job.scheduled_at)
    if job.metadata:
        payload["metadata"] = dict(job.metadata)
    timeout = job.timeout
    if timeout is not None:
        payload["timeout"] = timeout.total_seconds() if isinstance(timeout, timedelta) else timeout
    return payload


_ID_BATCH = 64
"""Job ids made per ``os.urandom`` call (:func:`new_job_id`)."""
_ready_ids: deque[str] = deque()
"""Ids made and not yet handed out: one ``popleft`` each, atomic under threads."""
os.register_at_fork(after_in_child=_ready_ids.clear)  # a child must not reuse its parent's


def _make_ids() -> list[str]:
    h = os.urandom(16 * _ID_BATCH).hex()
    # Each id: the version digit is 4; the variant digit's top two bits are 10 (8-b).
    return [
        f"{h[i : i + 8]}-{h[i + 8 : i + 12]}-4{h[i + 13 : i + 16]}-"
        f"{_VARIANT[h[i + 16]]}{h[i + 17 : i + 20]}-{h[i + 20 : i + 32]}"
        for i in range(0, 32 * _ID_BATCH, 32)
    ]


def new_job_id() -> str:
    """A new job id: a random UUID (version 4) in its usual text form, as
    ``str(uuid.uuid4())`` gives, from ``os.urandom`` like it.

    The ids are made :data:`_ID_BATCH` at a time, from one ``os.urandom`` call
    (a system call is most of one id's cost), and handed out one each; a forked
    child drops the ones its parent had made and not handed out.

    Example::

        new_job_id()   # '0b6c4f5e-2d1a-4c3b-9f8e-7a6b5c4d3e2f'
    """
    while True:
        try:
            return _ready_ids.popleft()
        except IndexError:  # another thread may take the new batch first: try again
            _ready_ids.extend(_make_ids())


class JobCore:
    """Attributes every job carries, and the payload."""

    job_class_name: ClassVar[str]
    """The name payloads use for this class (``module.QualName``)."""
    _activejob_callbacks: ClassVar[dict[callbacks.Kind, tuple[callbacks.Callback, ...]]] = {}

    job_id: str
    provider_job_id: str | None
    queue_name: str
    priority: int | None
    executions: int
    exception_executions: dict[str, int]
    locale: str | None
    timezone: str | None
    enqueued_at: datetime | None
    scheduled_at: datetime | None
    metadata: dict[str, Any]
    timeout: float | timedelta | None = None
    """How long one run may take (seconds or a ``timedelta``); ``None``: no limit.
    Set it on the class, with ``@job(timeout=...)`` or ``set(timeout=...)``; it
    travels in the payload (``"timeout"``, seconds, when set)."""
    successfully_enqueued: bool
    enqueue_error: BaseException | None
    _pinned_arguments: tuple[list[Any], dict[str, Any]] | None = None
    """The arguments serialised once by a bulk enqueue in progress
    (``perform_all_later`` checks them, then its payloads reuse them); ``None``
    otherwise, so every other payload serialises them afresh."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.job_class_name = registry.job_class_name(cls)
        cls._activejob_callbacks = callbacks.collect(cls, cls._activejob_callbacks)
        if not cls.__module__.startswith("activejob.job."):
            registry.register(cls)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Build an unenqueued job that will call ``perform(*args, **kwargs)``."""
        self._arguments: tuple[Any, ...] = args
        self._kwargs: dict[str, Any] = kwargs
        self._serialized: tuple[list[Any], dict[str, Any]] | None = None
        self.job_id = new_job_id()
        self.provider_job_id = None
        self.executions = 0
        self.exception_executions = {}
        self.locale = None
        self.timezone = None
        self.enqueued_at = None
        self.scheduled_at = None
        self.metadata = {}
        self.successfully_enqueued = False
        self.enqueue_error = None
        self._init_queueing()

    def _init_queueing(self) -> None:
        """Set ``queue_name`` and ``priority`` from the class (see ``queueing``)."""

    # -- arguments ---------------------------------------------------------------

    @property
    def arguments(self) -> tuple[Any, ...]:
        """The positional arguments for ``perform``, deserialised on first use."""
        self._deserialize_arguments()
        return self._arguments

    @property
    def kwargs(self) -> dict[str, Any]:
        """The keyword arguments for ``perform``, deserialised on first use."""
        self._deserialize_arguments()
        return self._kwargs

    def _deserialize_arguments(self) -> None:
        if self._arguments is _UNSET:
            assert self._serialized is not None
            self._arguments, self._kwargs = _arguments.deserialize_arguments(*self._serialized)

    def arguments_need_loading(self) -> bool:
        """Whether reading the arguments may do more than decode JSON scalars (a
        GlobalID loads a record, a custom serializer may do I/O): async execution
        then decodes them off the event loop."""
        if self._arguments is not _UNSET:
            return False
        assert self._serialized is not None
        args, kwargs = self._serialized
        return not all(type(v) in _SCALARS for v in (*args, *kwargs.values()))

    def serialized_arguments(self) -> tuple[list[Any], dict[str, Any]]:
        """The arguments in their JSON form (``SerializationError`` if impossible)."""
        if self._arguments is _UNSET:
            assert self._serialized is not None
            return self._serialized
        pinned = self._pinned_arguments
        if pinned is not None:
            return pinned
        return _arguments.serialize_arguments(self._arguments, self._kwargs)

    # -- payload -----------------------------------------------------------------

    def serialize(self) -> dict[str, Any]:
        """The JSON-ready payload of this job; :meth:`deserialize` is its mirror."""
        args, kwargs = self.serialized_arguments()
        enqueued_at, scheduled_at = self.enqueued_at, self.scheduled_at
        payload = {
            "version": PAYLOAD_VERSION,
            "job_class": self.job_class_name,
            "job_id": self.job_id,
            "provider_job_id": self.provider_job_id,
            "queue_name": self.queue_name,
            "priority": self.priority,
            "arguments": args,
            "kwargs": kwargs,
            "executions": self.executions,
            "exception_executions": dict(self.exception_executions),
            "locale": self.locale,
            "timezone": self.timezone,
            "enqueued_at": None if enqueued_at is None else iso_time(enqueued_at),
            "scheduled_at": None if scheduled_at is None else iso_time(scheduled_at),
            "metadata": dict(self.metadata),
        }
        timeout = self.timeout
        if timeout is not None:  # flow: timeouts; only when set, other payloads unchanged
            payload["timeout"] = (
                timeout.total_seconds() if isinstance(timeout, timedelta) else timeout
            )
        return payload

    @staticmethod
    def deserialize(payload: Mapping[str, Any]) -> JobCore:
        """Rebuild the job a payload describes; the class comes from the registry.

        A payload that is malformed, of another version, or names anything but a
        registered ``Job`` subclass raises :class:`DeserializationError`.
        Arguments are checked only when the job is performed.
        """
        if not isinstance(payload, Mapping):
            raise DeserializationError(
                f"a job payload must be a JSON object, got {type(payload).__name__}"
            )
        version = payload.get("version")
        if version != PAYLOAD_VERSION:
            raise DeserializationError(
                f"unsupported payload version {shorten(repr(version))} (expected {PAYLOAD_VERSION})"
            )
        cls = registry.lookup(payload.get("job_class"))
        job = cls.__new__(cls)
        try:
            job._load(payload)
        except (KeyError, TypeError, ValueError) as exc:
            raise DeserializationError(
                f"malformed payload for {cls.job_class_name}: {shorten(str(exc))}"
            ) from exc
        return job

    def _load(self, p: Mapping[str, Any]) -> None:
        # The keys of PAYLOAD_DEFAULTS may be absent (a compact payload): each reads
        # as its default; the other keys are required.
        args, kwargs = p["arguments"], p.get("kwargs", _UNSET)
        if kwargs is _UNSET:
            kwargs = {}
        if not isinstance(args, list) or not isinstance(kwargs, dict):
            raise TypeError("'arguments' must be a list and 'kwargs' an object")
        self._arguments = _UNSET
        self._kwargs = {}
        self._serialized = (args, kwargs)
        self.job_id = _field(p, "job_id", str)
        self.provider_job_id = _optional(p, "provider_job_id", str)
        self.queue_name = _field(p, "queue_name", str)
        self.priority = _optional(p, "priority", int)
        self.executions = _field(p, "executions", int, 0)
        counts = _field(p, "exception_executions", dict, _EMPTY)
        if counts and not all(isinstance(k, str) and type(v) is int for k, v in counts.items()):
            raise TypeError("'exception_executions' must map names to counts")
        self.exception_executions = dict(counts)
        self.locale = _optional(p, "locale", str)
        self.timezone = _optional(p, "timezone", str)
        self.enqueued_at = _parse_time(_optional(p, "enqueued_at", str))
        self.scheduled_at = _parse_time(_optional(p, "scheduled_at", str))
        self.metadata = dict(_optional(p, "metadata", dict) or {})
        if "timeout" in p:  # flow: timeouts (absent: the class's)
            timeout = p["timeout"]
            if isinstance(timeout, timedelta):  # JSON has none: only seconds travel
                raise TypeError("'timeout' must be seconds")
            self.timeout = timeout_seconds(timeout, "'timeout'")
        self.successfully_enqueued = True
        self.enqueue_error = None

    def __repr__(self) -> str:
        return f"<{type(self).__qualname__} job_id={self.job_id} queue={self.queue_name!r}>"


# _field and _optional are _expect's fast paths (one payload runs them eleven times
# per execution): the exact type passes at once; anything else gets _expect's check
# and its error text. A key of PAYLOAD_DEFAULTS that is absent reads as its default
# (``None`` for an optional one; a _field passes its own, never mutated).
_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _field(payload: Mapping[str, Any], key: str, kind: type, default: Any = _UNSET) -> Any:
    value = payload.get(key, default)
    if type(value) is kind or (value is default and default is not _UNSET):
        return value
    return _expect(payload, key, kind)


def _optional(payload: Mapping[str, Any], key: str, kind: type) -> Any:
    value = payload.get(key)  # absent: None, as PAYLOAD_DEFAULTS says
    if value is None or type(value) is kind:
        return value
    return _expect(payload, key, kind, optional=True)


def _expect(payload: Mapping[str, Any], key: str, kind: type, *, optional: bool = False) -> Any:
    if key not in payload:
        raise KeyError(f"missing key {key!r}")
    value = payload[key]
    if value is None and optional:
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise TypeError(f"{key!r} must be {kind.__name__}, got {type(value).__name__}")
    return value


def _parse_time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)
