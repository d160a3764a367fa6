"""What a supervised worker process has started, in memory its supervisor reads
after the process dies.

A worker claims jobs in batches and runs them later, so when a process dies
(``os._exit``, a segfault, the OOM killer) the storage only knows which jobs it
held, not which one it was running. Telling the server "started" before each job
would cost a round trip per job; telling it later would never charge a job that
kills its process at once. Instead the supervisor gives each child a small
shared file mapping, one fixed-size slot per thread and per async slot: the
executor writes the storage id of the job it is about to start into its slot and
clears the slot when the job returns. That is a memory store, no system call.
When a child dies unexpectedly the supervisor reads the board and the next
child calls :meth:`~activejob.storage.base.Storage.recover_worker`, which counts
a crash only on the jobs that had started; the jobs merely claimed run again
with no crash counted, so a poison job fails alone.

Layout: a header (a flag byte set once the worker id is written, a flag byte set
once the child has recovered the dead processes before it, the id's length and
its UTF-8 bytes) and then the slots. A slot is a flag byte, a length byte and
up to :data:`SLOT_TEXT` bytes: the storage id as JSON, then ``NUL`` and as much
of the ``job_id`` as fits (only for logs). The flag is written last when a job
starts and first when it ends, one byte each, so a reader never takes a
half-written slot for a started job. A slot that cannot be read (an id too long
for it) makes the whole board unknown: recovery by heartbeat then counts a crash
on every job, as without a board.

Example::

    board, fd = StartedBoard.create(slots=8)   # the supervisor; fd goes to the child
    child_board = StartedBoard.attach(fd, slots=8)
    child_board.publish("host:42:1a2b3c4d")
    child_board.start(0, claimed.id, claimed.job_id)
    board.read().started                        # [claimed.id]
"""

from __future__ import annotations

import json
import mmap
import os
import struct
import tempfile
from dataclasses import dataclass, field
from typing import Any

__all__ = ["BoardReading", "LostWorker", "StartedBoard"]

HEADER = 512
"""Bytes before the first slot: two flags, a 2-byte length and the worker id."""
SLOT = 128
"""Bytes per slot."""
SLOT_TEXT = SLOT - 2
"""Bytes of text a slot holds."""
_EMPTY, _STARTED, _UNKNOWN = 0, 1, 2
_ID_MAX = HEADER - 4


@dataclass(frozen=True)
class LostWorker:
    """A worker process that died, and the storage ids of the jobs it had started."""

    worker_id: str
    started: list[Any] = field(default_factory=list)
    job_ids: list[str] = field(default_factory=list)
    """The ``job_id`` values of the started jobs, possibly shortened (for logs)."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict, for a child's spec."""
        return {"worker_id": self.worker_id, "started": self.started, "job_ids": self.job_ids}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LostWorker:
        """The mirror of :meth:`to_dict`."""
        return cls(str(data["worker_id"]), list(data["started"]), list(data.get("job_ids", [])))


@dataclass(frozen=True)
class BoardReading:
    """What a board said when read: ``worker_id`` (``None`` if the child never
    wrote it), ``started`` (``None`` if a slot could not be read), whether the
    child had recovered the processes before it."""

    worker_id: str | None
    started: list[Any] | None
    job_ids: list[str]
    recovered: bool

    def lost(self) -> LostWorker | None:
        """The dead worker to recover precisely, or ``None`` if the board cannot say."""
        if self.worker_id is None or self.started is None:
            return None
        return LostWorker(self.worker_id, self.started, self.job_ids)


class StartedBoard:
    """One child's board: written by its executor, read by its supervisor."""

    def __init__(self, memory: mmap.mmap, slots: int) -> None:
        self._memory = memory
        self.slots = slots

    @staticmethod
    def size(slots: int) -> int:
        """Bytes a board with ``slots`` slots needs."""
        return HEADER + SLOT * slots

    @classmethod
    def create(cls, slots: int) -> tuple[StartedBoard, int]:
        """A new, empty board backed by an unlinked temporary file; returns it and
        the file's descriptor to hand to the child (close it once the child runs)."""
        # In memory where the system offers it, so no page is ever written to disk.
        places = ["/dev/shm", None] if os.path.isdir("/dev/shm") else [None]
        for place in places:
            try:
                fd, path = tempfile.mkstemp(prefix="activejob-board-", dir=place)
                os.unlink(path)
                os.ftruncate(fd, cls.size(slots))
            except OSError:
                if place is None:
                    raise
                continue
            return cls(mmap.mmap(fd, cls.size(slots)), slots), fd
        raise AssertionError("unreachable")

    @classmethod
    def attach(cls, fd: int, slots: int) -> StartedBoard:
        """The child's view of the board its supervisor created (``fd`` is closed)."""
        try:
            return cls(mmap.mmap(fd, cls.size(slots)), slots)
        finally:
            os.close(fd)

    # -- the child -------------------------------------------------------------------

    def publish(self, worker_id: str) -> None:
        """Record the child's worker id (before its first claim)."""
        data = worker_id.encode()
        if len(data) > _ID_MAX:
            return  # unreadable: recovery by heartbeat, as without a board
        self._memory[2:4] = struct.pack("<H", len(data))
        self._memory[4 : 4 + len(data)] = data
        self._memory[0] = 1

    def mark_recovered(self) -> None:
        """Record that the dead processes handed to this child are recovered."""
        self._memory[1] = 1

    def start(self, slot: int, storage_id: Any, job_id: str) -> None:
        """Slot ``slot`` now runs the job with ``storage_id``."""
        offset = HEADER + SLOT * slot
        text = (str(storage_id) if type(storage_id) is int else json.dumps(storage_id)).encode()
        if len(text) > SLOT_TEXT:
            self._memory[offset] = _UNKNOWN
            return
        text = (text + b"\0" + job_id.encode())[:SLOT_TEXT]
        self._memory[offset + 2 : offset + 2 + len(text)] = text
        self._memory[offset + 1] = len(text)
        self._memory[offset] = _STARTED

    def clear(self, slot: int) -> None:
        """Slot ``slot`` runs nothing."""
        self._memory[HEADER + SLOT * slot] = _EMPTY

    # -- the supervisor --------------------------------------------------------------

    def read(self) -> BoardReading:
        """What the board says now (the child is dead, or may be writing)."""
        memory = self._memory
        worker_id = None
        if memory[0] == 1:
            (length,) = struct.unpack("<H", memory[2:4])
            worker_id = memory[4 : 4 + length].decode(errors="replace")
        started: list[Any] | None = []
        job_ids: list[str] = []
        for slot in range(self.slots):
            offset = HEADER + SLOT * slot
            flag = memory[offset]
            if flag == _EMPTY:
                continue
            entry = _entry(memory[offset + 2 : offset + 2 + memory[offset + 1]])
            if flag != _STARTED or entry is None or started is None:
                started = None
                continue
            started.append(entry[0])
            job_ids.append(entry[1])
        return BoardReading(worker_id, started, job_ids, memory[1] == 1)

    def close(self) -> None:
        """Unmap the board."""
        self._memory.close()


def _entry(text: bytes) -> tuple[Any, str] | None:
    id_text, _, job_id = text.partition(b"\0")
    try:
        storage_id = json.loads(id_text)
    except ValueError:
        return None
    return storage_id, job_id.decode(errors="replace")
