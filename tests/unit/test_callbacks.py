"""Callbacks: order, nesting, Abort, inheritance."""

from __future__ import annotations

import pydoc
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import activejob
from activejob import (
    Abort,
    Job,
    after_discard,
    after_enqueue,
    after_perform,
    around_enqueue,
    around_perform,
    before_enqueue,
    before_perform,
)
from activejob.job import callbacks
from tests.support import RecordingAdapter

log: list[str] = []


class TracedJob(Job):
    @before_perform
    def b1(self) -> None:
        log.append("before 1")

    @around_perform
    def a1(self) -> Iterator[None]:
        log.append("around 1 in")
        yield
        log.append("around 1 out")

    @after_perform
    def f1(self) -> None:
        log.append("after 1")

    @before_perform
    def b2(self) -> None:
        log.append("before 2")

    @after_perform
    def f2(self) -> None:
        log.append("after 2")

    def perform(self, fail: bool = False) -> str:
        log.append("perform")
        if fail:
            raise ValueError("boom")
        return "done"


class ChildJob(TracedJob):
    @before_perform
    def child_before(self) -> None:
        log.append("child before")

    @after_perform
    def child_after(self) -> None:
        log.append("child after")


class HaltingJob(Job):
    @around_perform
    def outer(self) -> Iterator[None]:
        log.append("outer in")
        try:
            yield
        finally:
            log.append("outer cleanup")

    @before_perform
    def stop(self) -> None:
        if self.arguments[0] == "stop":
            raise Abort

    @before_perform
    def never(self) -> None:
        log.append("second before")

    def perform(self, mode: str) -> str:
        log.append("perform")
        return mode


class EnqueueTraced(Job):
    @before_enqueue
    def b(self) -> None:
        log.append(f"before enqueue {self.successfully_enqueued}")

    @around_enqueue
    def a(self) -> Iterator[None]:
        log.append("around enqueue in")
        yield
        log.append(f"around enqueue out {self.successfully_enqueued}")

    @after_enqueue
    def f(self) -> None:
        log.append(f"after enqueue {self.successfully_enqueued}")

    def perform(self) -> None: ...


class SwallowingJob(Job):
    @around_perform
    def swallow(self) -> Iterator[None]:
        try:
            yield
        except KeyError:
            log.append("swallowed")

    @after_perform
    def after(self) -> None:
        log.append("after")

    def perform(self) -> None:
        raise KeyError("x")


@pytest.fixture(autouse=True)
def clear_log() -> None:
    log.clear()


def test_before_in_order_after_in_reverse() -> None:
    assert TracedJob.perform_now() == "done"
    assert log == [
        "before 1",
        "around 1 in",
        "before 2",
        "perform",
        "after 2",
        "after 1",
        "around 1 out",
    ]


def test_after_callbacks_skipped_when_perform_raises() -> None:
    with pytest.raises(ValueError):
        TracedJob.perform_now(fail=True)
    assert log == ["before 1", "around 1 in", "before 2", "perform"]


def test_callbacks_are_inherited_and_nest_inside_parents() -> None:
    ChildJob.perform_now()
    assert log == [
        "before 1",
        "around 1 in",
        "before 2",
        "child before",
        "perform",
        "child after",
        "after 2",
        "after 1",
        "around 1 out",
    ]


def test_abort_stops_the_chain_and_unwinds_arounds() -> None:
    assert HaltingJob.perform_now("stop") is None
    assert log == ["outer in", "outer cleanup"]
    log.clear()
    assert HaltingJob.perform_now("go") == "go"
    assert log == ["outer in", "second before", "perform", "outer cleanup"]


def test_enqueue_callbacks_wrap_the_adapter_call() -> None:
    activejob.configure(adapter=RecordingAdapter())
    EnqueueTraced.perform_later()
    assert log == [
        "before enqueue False",
        "around enqueue in",
        "after enqueue True",
        "around enqueue out True",
    ]


def test_around_callback_may_swallow_an_exception() -> None:
    assert SwallowingJob.perform_now() is None
    assert log == ["swallowed"]


def test_around_must_be_a_generator_and_callbacks_sync() -> None:
    with pytest.raises(TypeError, match="generator"):
        around_perform(lambda self: None)
    with pytest.raises(TypeError, match="async"):

        @before_perform
        async def hook(self: Job) -> None: ...


def test_around_yielding_twice_is_an_error() -> None:
    class Twice(Job):
        @around_perform
        def twice(self) -> Iterator[None]:
            yield
            yield

        def perform(self) -> None: ...

    with pytest.raises(RuntimeError, match="exactly once"):
        Twice.perform_now()


def test_overriding_a_callback_replaces_it() -> None:
    class Base(Job):
        @before_perform
        def note(self) -> None:
            log.append("base note")

        def perform(self) -> None: ...

    class Override(Base):
        @before_perform
        def note(self) -> None:
            log.append("override note")

    Override.perform_now()
    assert log == ["override note"]


@pytest.mark.parametrize(
    "decorator",
    [
        before_enqueue,
        after_enqueue,
        around_enqueue,
        before_perform,
        after_perform,
        around_perform,
        after_discard,
    ],
)
def test_each_callback_decorator_documents_itself(decorator: Callable[..., Any]) -> None:
    name = decorator.__name__
    assert name in callbacks.__all__
    assert decorator.__qualname__ == name
    assert decorator.__module__ == "activejob.job.callbacks"
    assert decorator.__doc__ is not None and "Example::" in decorator.__doc__
    assert f"@{name}" in decorator.__doc__
    assert f"@{name}" in pydoc.render_doc(decorator)
