"""Which queues a worker serves: ``"critical,default,*"`` parsed once.

A worker lists queues in order of preference. Each entry is an exact name, a
prefix ending in ``*`` (``"mail*"`` serves ``mailers`` and ``mail``), or ``*``
alone for any queue. Backends claim pattern by pattern, in order, so a job on an
earlier queue is always taken before one on a later queue.

Example::

    selector = QueueSelector.parse(["critical", "mail*", "*"])
    selector.matches("mailers")          # True
    [p.kind for p in selector.patterns]  # ['exact', 'prefix', 'any']
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

__all__ = ["QueuePattern", "QueueSelector"]

PatternKind = Literal["exact", "prefix", "any"]


@dataclass(frozen=True)
class QueuePattern:
    """One entry of a queue list: ``kind`` and the name or prefix it carries."""

    kind: PatternKind
    value: str = ""

    def matches(self, queue_name: str) -> bool:
        """Whether this pattern serves ``queue_name``."""
        if self.kind == "any":
            return True
        if self.kind == "prefix":
            return queue_name.startswith(self.value)
        return queue_name == self.value

    def __str__(self) -> str:
        return {"any": "*", "prefix": f"{self.value}*", "exact": self.value}[self.kind]


@dataclass(frozen=True)
class QueueSelector:
    """Queue patterns in order of preference."""

    patterns: tuple[QueuePattern, ...]

    @classmethod
    def parse(cls, queues: Iterable[str] | str) -> QueueSelector:
        """Parse names, ``prefix*`` and ``*``; entries may hold comma-separated lists.

        Raises ``ValueError`` for an empty list or a ``*`` anywhere but at the end
        of an entry.
        """
        if isinstance(queues, str):
            queues = [queues]
        patterns: list[QueuePattern] = []
        for entry in queues:
            for part in str(entry).split(","):
                text = part.strip()
                if not text:
                    continue
                pattern = _pattern(text)
                if pattern not in patterns:
                    patterns.append(pattern)
        if not patterns:
            raise ValueError(f"no queue names in {queues!r}")
        return cls(tuple(patterns))

    def matches(self, queue_name: str) -> bool:
        """Whether any pattern serves ``queue_name``."""
        return any(p.matches(queue_name) for p in self.patterns)

    def __str__(self) -> str:
        return ",".join(str(p) for p in self.patterns)


def _pattern(text: str) -> QueuePattern:
    if text == "*":
        return QueuePattern("any")
    if "*" in text[:-1]:
        raise ValueError(
            f"queue pattern {text!r}: '*' may only end a name ('mail*') or stand alone"
        )
    if text.endswith("*"):
        return QueuePattern("prefix", text[:-1])
    return QueuePattern("exact", text)
