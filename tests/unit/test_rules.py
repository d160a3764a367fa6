"""Failures: retry_on, discard_on, rescue_from, and how executions are counted."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

import activejob
from activejob import (
    DeserializationError,
    Job,
    after_discard,
    discard_on,
    events,
    job,
    polynomially_longer,
    rescue_from,
    retry_on,
)
from activejob.adapters.asyncpool import AsyncAdapter
from activejob.adapters.test import TestAdapter
from activejob.job.execution import run
from activejob.job.rules import RetryRule, rules_for
from tests.support import RecordingAdapter

seen: list[tuple[str, int, dict[str, int], str, int | None]] = []
_lock = threading.Lock()


class Flaky(Exception):
    pass


class Fatal(Exception):
    pass


def note(job: Job, tag: str) -> None:
    with _lock:
        seen.append(
            (tag, job.executions, dict(job.exception_executions), job.queue_name, job.priority)
        )


@retry_on(Flaky, wait=0, attempts=3, jitter=0, queue="retries", priority=7)
@discard_on(Fatal)
class FlakyJob(Job):
    queue_as = "stories"
    priority = 1

    def perform(self, failures: int, fatal: bool = False) -> str:
        note(self, "perform")
        if fatal:
            raise Fatal("give up")
        if self.executions <= failures:
            raise Flaky(f"attempt {self.executions}")
        return "ok"

    @after_discard
    def discarded(self, exc: BaseException) -> None:
        note(self, f"after_discard {type(exc).__name__}")


@pytest.fixture(autouse=True)
def clear_seen() -> Iterator[None]:
    seen.clear()
    yield
    seen.clear()


@pytest.fixture
def fake_now(monkeypatch: pytest.MonkeyPatch) -> float:
    now = 1_800_000_000.0
    monkeypatch.setattr("activejob._time.now", lambda: now)
    return now


def retry_wait(job_cls: type[Job], *args: Any, **kwargs: Any) -> tuple[str, Any]:
    """Run once on a recording adapter and return where and when the retry went."""
    adapter = RecordingAdapter()
    activejob.configure(adapter=adapter)
    outcome = run(job_cls(*args, **kwargs))
    assert outcome.kind == "retry", outcome
    assert outcome.job is not None and outcome.retry is not None
    outcome.job.retry_job(outcome.retry)
    [(method, value)] = adapter.calls
    return method, value


# -- wait forms ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wait", "expected"),
    [(7, 7.0), (2.5, 2.5), (timedelta(minutes=2), 120.0), (lambda n: n * 100, 100.0)],
)
def test_wait_forms(wait: Any, expected: float, fake_now: float) -> None:
    @retry_on(Flaky, wait=wait, jitter=0)
    class W(Job):
        def perform(self) -> None:
            raise Flaky

    method, (payload, timestamp) = retry_wait(W)
    assert method == "enqueue_at"
    assert timestamp == pytest.approx(fake_now + expected)
    assert payload["executions"] == 1


def test_polynomially_longer_waits_executions_to_the_fourth_plus_two(fake_now: float) -> None:
    @retry_on(Flaky, wait=polynomially_longer, attempts="unlimited", jitter=0)
    class P(Job):
        def perform(self) -> None:
            raise Flaky

    rule = rules_for(P)[0]
    assert isinstance(rule, RetryRule)
    assert [rule.delay(n) for n in (1, 2, 3, 4)] == [3.0, 18.0, 83.0, 258.0]
    assert polynomially_longer(5) == 627.0


def test_jitter_adds_up_to_its_fraction(monkeypatch: pytest.MonkeyPatch) -> None:
    rule = RetryRule((Flaky,), 10, 5, None, None, 0.15, None)
    monkeypatch.setattr("random.random", lambda: 0.0)
    assert rule.delay(1) == 10.0
    monkeypatch.setattr("random.random", lambda: 0.999999)
    assert rule.delay(1) == pytest.approx(11.5, abs=1e-4)
    poly = RetryRule((Flaky,), polynomially_longer, 5, None, None, 0.5, None)
    assert poly.delay(2) == pytest.approx(16 + 8 + 2, abs=1e-4)


def test_retry_queue_and_priority_overrides() -> None:
    @retry_on(Flaky, wait=1, queue="retries", priority=99)
    class Q(Job):
        queue_as = "main"

        def perform(self) -> None:
            raise Flaky

    _, (payload, _) = retry_wait(Q)
    assert payload["queue_name"] == "retries" and payload["priority"] == 99


def test_retry_keeps_job_id_and_counts_per_rule() -> None:
    built = FlakyJob(5)
    outcome = run(built)
    assert outcome.kind == "retry" and outcome.job is built
    assert built.exception_executions == {"[tests.unit.test_rules.Flaky]": 1}
    _, (payload, _) = retry_wait(FlakyJob, 5)
    assert payload["exception_executions"] == {"[tests.unit.test_rules.Flaky]": 1}


def test_attempts_run_out_and_the_exception_reaches_the_backend() -> None:
    stopped: list[events.Event] = []
    events.subscribe("retry_stopped", stopped.append)
    try:
        payload = FlakyJob(10).serialize()
        for _attempt in (1, 2):
            outcome = run(json.loads(json.dumps(payload)))
            assert outcome.kind == "retry"
            assert outcome.job is not None
            payload = outcome.job.serialize()
        outcome = run(payload)
    finally:
        events.unsubscribe("retry_stopped", stopped.append)
    assert outcome.kind == "failed" and isinstance(outcome.exception, Flaky)
    assert [s[1] for s in seen if s[0] == "perform"] == [1, 2, 3]
    assert [e.extra["executions"] for e in stopped] == [3]
    assert seen[-1][0] == "after_discard Flaky"


def test_unlimited_attempts_never_stop() -> None:
    @retry_on(Flaky, wait=0, attempts="unlimited")
    class U(Job):
        def perform(self) -> None:
            raise Flaky

    built = U()
    for _ in range(50):
        assert run(built).kind == "retry"
    assert built.executions == 50


def test_on_exhausted_handles_the_last_failure() -> None:
    handled: list[tuple[str, str]] = []

    @retry_on(Flaky, attempts=1, on_exhausted=lambda j, e: handled.append((j.job_id, str(e))))
    class E(Job):
        def perform(self) -> None:
            raise Flaky("last")

    built = E()
    outcome = run(built)
    assert outcome.kind == "discarded"
    assert handled == [(built.job_id, "last")]


def test_discard_on_calls_on_discard_then_after_discard() -> None:
    calls: list[str] = []

    @discard_on(KeyError, on_discard=lambda j, e: calls.append("on_discard"))
    class D(Job):
        @after_discard
        def a(self, exc: BaseException) -> None:
            calls.append(f"after_discard {exc!r}")

        def perform(self) -> None:
            raise KeyError("gone")

    assert D.perform_now() is None
    assert calls == ["on_discard", "after_discard KeyError('gone')"]


def test_rules_consulted_top_to_bottom_first_match_wins() -> None:
    @discard_on(Flaky)
    @retry_on(Exception, wait=0)
    class Order(Job):
        def perform(self, exc: str) -> None:
            raise Flaky if exc == "flaky" else ValueError()

    assert run(Order("flaky")).kind == "discarded"
    assert run(Order("value")).kind == "retry"


def test_rescue_from_method() -> None:
    class R(Job):
        @rescue_from(LookupError)
        def missing(self, exc: LookupError) -> str:
            return f"rescued {exc.args[0]}"

        def perform(self, key: str) -> None:
            raise KeyError(key)

    assert R.perform_now("k") == "rescued k"
    outcome = run(R("k"))
    assert outcome.kind == "succeeded" and isinstance(outcome.exception, KeyError)


def test_subclass_rules_come_before_parent_rules() -> None:
    @retry_on(ValueError, wait=0)
    class Parent(Job):
        def perform(self) -> None:
            raise ValueError

    @discard_on(ValueError)
    class Child(Parent):
        pass

    assert run(Parent()).kind == "retry"
    assert run(Child()).kind == "discarded"


def test_rules_on_job_functions() -> None:
    @discard_on(ZeroDivisionError)
    @job
    def divide(a: int, b: int) -> float:
        return a / b

    assert divide.perform_now(1, 0) is None
    with pytest.raises(ZeroDivisionError):
        divide(1, 0)


def test_a_failing_handler_fails_the_job() -> None:
    def explode(job: Job, exc: BaseException) -> None:
        raise RuntimeError("handler broke")

    @discard_on(KeyError, on_discard=explode)
    class H(Job):
        def perform(self) -> None:
            raise KeyError

    outcome = run(H())
    assert outcome.kind == "failed" and isinstance(outcome.exception, RuntimeError)


def test_discard_on_deserialization_error_drops_a_bad_payload() -> None:
    @discard_on(DeserializationError)
    class Tolerant(Job):
        def perform(self, x: Any) -> None: ...

    payload = Tolerant(1).serialize()
    payload["arguments"] = [{"_aj": "bogus"}]
    assert run(payload).kind == "discarded"


def test_rule_arguments_are_checked() -> None:
    with pytest.raises(TypeError, match="exception classes"):
        retry_on("ValueError")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="at least one"):
        discard_on()
    with pytest.raises(ValueError, match="attempts"):
        retry_on(ValueError, attempts=0)


def _every_other_attempt(executions: int) -> float:
    return 2.0 * executions


@pytest.mark.parametrize(
    "wait",
    [0, 3, 2.5, timedelta(minutes=1), timedelta(0), polynomially_longer, _every_other_attempt],
    ids=["zero", "int", "float", "timedelta", "zero-timedelta", "polynomially_longer", "callable"],
)
def test_every_wait_form_is_accepted_when_declared(wait: Any) -> None:
    @retry_on(Flaky, wait=wait, attempts="unlimited", jitter=0)
    class Accepted(Job):
        def perform(self) -> None:
            raise Flaky

    rule = rules_for(Accepted)[0]
    assert isinstance(rule, RetryRule) and rule.delay(1) >= 0


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"wait": "soon"}, TypeError, r"wait=.*seconds.*timedelta.*polynomially_longer.*'soon'"),
        ({"wait": None}, TypeError, r"wait=.*got None"),
        ({"wait": True}, TypeError, r"wait=.*got True"),
        ({"wait": -1}, ValueError, r"wait=.*>= 0, got -1"),
        ({"wait": float("nan")}, ValueError, r"wait=.*finite"),
        ({"wait": float("inf")}, ValueError, r"wait=.*finite"),
        ({"wait": timedelta(seconds=-5)}, ValueError, r"wait=.*negative"),
        ({"wait": lambda: 3}, TypeError, r"wait=.*one argument, the attempt count"),
        ({"wait": lambda a, b: 3}, TypeError, r"wait=.*one argument"),
        ({"attempts": 0}, ValueError, r"attempts=.*at least 1, got 0"),
        ({"attempts": -2}, ValueError, r"attempts=.*at least 1"),
        ({"attempts": "5"}, TypeError, r"attempts=.*positive int or 'unlimited'; got '5'"),
        ({"attempts": "forever"}, TypeError, r"attempts=.*'unlimited'; got 'forever'"),
        ({"attempts": 2.5}, TypeError, r"attempts=.*got 2.5"),
        ({"attempts": True}, TypeError, r"attempts=.*got True"),
        ({"jitter": "a bit"}, TypeError, r"jitter=.*number >= 0.*'a bit'"),
        ({"jitter": None}, TypeError, r"jitter=.*got None"),
        ({"jitter": -0.1}, ValueError, r"jitter=.*>= 0, got -0.1"),
        ({"jitter": float("nan")}, ValueError, r"jitter=.*finite"),
        ({"queue": 3}, TypeError, r"queue=.*queue name"),
        ({"priority": "high"}, TypeError, r"priority=.*int"),
        ({"on_exhausted": "log"}, TypeError, r"on_exhausted=.*callable"),
    ],
)
def test_bad_retry_options_raise_when_the_rule_is_declared(
    options: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        retry_on(Flaky, **options)


# -- the same story on every adapter ----------------------------------------------------


def _run_story(adapter_name: str, *args: Any, **kwargs: Any) -> None:
    if adapter_name == "async":
        adapter: Any = AsyncAdapter(threads=2)
        activejob.configure(adapter=adapter)
        FlakyJob.perform_later(*args, **kwargs)
        adapter.join(timeout=10)
        adapter.shutdown()
    elif adapter_name == "test":
        adapter = TestAdapter()
        adapter.perform_enqueued = True
        activejob.configure(adapter=adapter)
        FlakyJob.perform_later(*args, **kwargs)
    elif adapter_name == "inline":
        activejob.configure(adapter="inline:")
        FlakyJob.perform_later(*args, **kwargs)
    else:  # a worker-style loop over JSON payloads
        activejob.configure(adapter=RecordingAdapter())
        payload = json.loads(json.dumps(FlakyJob(*args, **kwargs).serialize()))
        while True:
            outcome = run(payload)
            if outcome.kind != "retry":
                break
            assert outcome.job is not None and outcome.retry is not None
            outcome.job.apply_retry(outcome.retry)  # as a storage that applies retries does
            payload = json.loads(json.dumps(outcome.job.serialize()))


ADAPTERS = ["inline", "async", "test", "payload"]
KEY = "[tests.unit.test_rules.Flaky]"


@pytest.mark.parametrize("adapter_name", ADAPTERS)
def test_retry_story_is_the_same_everywhere(adapter_name: str) -> None:
    _run_story(adapter_name, 2)
    # retry_on's queue and priority overrides apply to every retry, on every adapter.
    assert seen == [
        ("perform", 1, {}, "stories", 1),
        ("perform", 2, {KEY: 1}, "retries", 7),
        ("perform", 3, {KEY: 2}, "retries", 7),
    ]


@pytest.mark.parametrize("adapter_name", ADAPTERS)
def test_exhausted_story_is_the_same_everywhere(adapter_name: str) -> None:
    if adapter_name in ("inline", "test"):
        with pytest.raises(Flaky):
            _run_story(adapter_name, 9)
    else:
        _run_story(adapter_name, 9)
    assert [s[:2] for s in seen] == [
        ("perform", 1),
        ("perform", 2),
        ("perform", 3),
        ("after_discard Flaky", 3),
    ]


@pytest.mark.parametrize("adapter_name", ADAPTERS)
def test_discard_story_is_the_same_everywhere(adapter_name: str) -> None:
    _run_story(adapter_name, 0, fatal=True)
    assert [s[:2] for s in seen] == [("perform", 1), ("after_discard Fatal", 1)]


def test_inline_retry_after_perform_now_applies_the_overrides() -> None:
    activejob.configure(adapter="inline:")
    assert FlakyJob.perform_now(1) is None  # the retry ran in the adapter, not here
    assert [s[3:] for s in seen] == [("stories", 1), ("retries", 7)]
