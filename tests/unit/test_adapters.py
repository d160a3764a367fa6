"""Adapters: choosing one, the URL registry and entry points, inline/async/test."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import activejob
from activejob import ConfigurationError, EnqueueError, Job
from activejob.adapters import BUILTIN, EXTRAS, adapter_class, register, scheme_of
from activejob.adapters.asyncpool import AsyncAdapter
from activejob.adapters.cache import resolve_adapter
from activejob.adapters.durable import storage_of
from activejob.adapters.inline import InlineAdapter
from activejob.adapters.test import TestAdapter
from activejob.storage.base import JobFilter
from tests.support import RecordingAdapter, wait_for

ran: list[tuple[str, Any]] = []
_lock = threading.Lock()


class EchoJob(Job):
    def perform(self, value: Any) -> Any:
        with _lock:
            ran.append((threading.current_thread().name, value))
        return value


class AsyncEchoJob(Job):
    async def perform(self, value: Any) -> Any:
        import asyncio

        await asyncio.sleep(0)  # sleep-ok: yields to the event loop once, no waiting
        with _lock:
            ran.append((threading.current_thread().name, value))
        return value


@pytest.fixture(autouse=True)
def clear_ran() -> None:
    ran.clear()


def test_scheme_of() -> None:
    assert scheme_of("sqlite:///x.db") == "sqlite"
    assert scheme_of("async:") == "async"
    assert scheme_of("postgresql+psycopg://h/db") == "postgresql"
    with pytest.raises(ConfigurationError, match="no scheme"):
        scheme_of("nothing")


def test_configure_by_url_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    activejob.configure(adapter="inline:")
    assert isinstance(resolve_adapter(), InlineAdapter)
    assert resolve_adapter() is resolve_adapter()
    activejob.configure(adapter=None)
    monkeypatch.setenv("ACTIVEJOB_ADAPTER", "test:")
    assert isinstance(resolve_adapter(), TestAdapter)


def test_configure_rejects_unknown_settings_and_schemes() -> None:
    with pytest.raises(TypeError, match="unknown activejob setting"):
        activejob.configure(adaptor="inline:")
    activejob.configure(adapter="nosuch://x")
    with pytest.raises(ConfigurationError, match="unknown adapter scheme 'nosuch'"):
        EchoJob.perform_later(1)


class NotAnAdapter:
    """Has the enqueue methods, but is no Adapter: the likely mistake."""

    def enqueue(self, job: Any) -> None: ...


NOT_ADAPTERS: list[Any] = [NotAnAdapter(), object(), 42, b"sqlite:///x", ["inline:"]]


@pytest.mark.parametrize("value", NOT_ADAPTERS, ids=lambda v: type(v).__name__)
def test_configure_refuses_an_object_that_is_not_an_adapter_at_once(value: Any) -> None:
    activejob.configure(adapter="inline:")
    with pytest.raises(TypeError) as info:
        activejob.configure(adapter=value)
    message = str(info.value)
    assert message.startswith("activejob.configure(adapter=...) takes an adapter URL")
    assert "an instance of activejob.adapters.base.Adapter" in message
    assert f"({type(value).__qualname__})" in message
    assert isinstance(resolve_adapter(), InlineAdapter)  # the setting was left alone


def test_configure_with_an_adapter_class_says_to_pass_an_instance() -> None:
    with pytest.raises(
        TypeError, match=r"got the class TestAdapter itself: pass an instance, Test"
    ):
        activejob.configure(adapter=TestAdapter)


def test_a_queue_adapter_that_is_not_an_adapter_is_refused_where_it_is_set() -> None:
    with pytest.raises(TypeError, match=r"\.Wrong\.queue_adapter takes .*NotAnAdapter"):

        class Wrong(Job):
            queue_adapter = NotAnAdapter()  # type: ignore[assignment]

            def perform(self) -> None: ...

    with pytest.raises(TypeError, match=r"pinged\.queue_adapter takes an adapter URL"):

        @activejob.job(queue_adapter=NotAnAdapter())  # type: ignore[arg-type]
        def pinged() -> None: ...

    class Later(Job):
        def perform(self) -> None: ...

    activejob.configure(adapter="inline:")
    Later.queue_adapter = NotAnAdapter()  # type: ignore[assignment]
    with pytest.raises(TypeError, match=r"a job class's queue_adapter takes an adapter URL"):
        Later.perform_later()
    activejob.get_config().adapter = NotAnAdapter()  # type: ignore[assignment]
    with pytest.raises(TypeError, match=r"the adapter setting takes an adapter URL"):
        EchoJob.perform_later(1)
    activejob.configure(adapter="inline:")


def test_job_class_may_name_its_own_adapter() -> None:
    class Own(Job):
        queue_adapter = "test:"

        def perform(self) -> None: ...

    activejob.configure(adapter="inline:")
    Own.perform_later()
    own = resolve_adapter("test:")
    assert isinstance(own, TestAdapter)
    assert [r.job_class for r in own.enqueued_jobs] == [Own.job_class_name]


def test_importing_activejob_imports_no_backend_module() -> None:
    import subprocess

    code = (
        "import sys, activejob;"
        "mods=('psycopg','redis','sqlite3','activejob.adapters.asyncpool');"
        "bad=[m for m in mods if m in sys.modules];"
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_register_a_scheme_by_class_and_by_path() -> None:
    register("rec", RecordingAdapter)
    assert adapter_class("rec") is RecordingAdapter
    register("rec2", "tests.support:RecordingAdapter")
    activejob.configure(adapter="rec2:")
    EchoJob.perform_later(3)
    assert isinstance(resolve_adapter(), RecordingAdapter)
    register("notadapter", "tests.support:wait_for")
    with pytest.raises(ConfigurationError, match="not an Adapter"):
        adapter_class("notadapter")


def _plugin(tmp_path: Path, module: str, source: str, entry_points: str) -> None:
    """A distribution on ``sys.path`` whose module and entry points are given."""
    (tmp_path / f"{module}.py").write_text(source)
    dist = tmp_path / f"{module}-1.0.dist-info"
    dist.mkdir()
    name = module.replace("_", "-")
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[activejob.adapters]\n{entry_points}\n")


def test_entry_point_adapters_are_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _plugin(
        tmp_path,
        "aj_plugin_demo",
        "from tests.support import RecordingAdapter\n"
        "class PluginAdapter(RecordingAdapter):\n    scheme = 'plugindemo'\n"
        "class Holder:\n    Adapter = PluginAdapter\n",
        "plugindemo = aj_plugin_demo:PluginAdapter\nplugindemo2 = aj_plugin_demo:Holder.Adapter",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert adapter_class("plugindemo").__name__ == "PluginAdapter"
    assert adapter_class("plugindemo2").__name__ == "PluginAdapter"


def test_a_broken_entry_point_is_a_configuration_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _plugin(
        tmp_path,
        "aj_plugin_broken",
        "import activejob_no_such_driver_module\n",
        "brokendemo = aj_plugin_broken:Adapter",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ConfigurationError, match="brokendemo") as info:
        adapter_class("brokendemo")
    assert "pip install" not in str(info.value)


def test_missing_driver_names_the_extra_of_a_builtin_scheme(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "aj_needs_driver_demo.py").write_text("import activejob_no_such_driver_module\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(BUILTIN, "rediss", "aj_needs_driver_demo:Adapter")
    with pytest.raises(ConfigurationError, match=r"pip install 'activejob\[redis\]'"):
        adapter_class("rediss")
    register("needsdriver", "aj_needs_driver_demo:Adapter")
    with pytest.raises(ConfigurationError, match="activejob_no_such_driver_module") as info:
        adapter_class("needsdriver")
    assert "pip install" not in str(info.value)


@pytest.mark.parametrize("scheme", ["mysql", "mariadb"])
def test_mysql_and_mariadb_name_the_mysql_backend(scheme: str) -> None:
    from activejob.adapters.mysql import MySQLAdapter

    assert adapter_class(scheme) is MySQLAdapter
    assert EXTRAS[scheme] == "mysql"  # the pip hint when the driver is missing


# -- inline --------------------------------------------------------------------------------


def test_inline_runs_in_the_caller_after_a_json_round_trip() -> None:
    activejob.configure(adapter="inline:")
    enqueued = EchoJob.perform_later((1, 2))
    assert enqueued.successfully_enqueued
    assert ran == [(threading.current_thread().name, (1, 2))]


def test_inline_refuses_scheduled_jobs_clearly() -> None:
    activejob.configure(adapter="inline:")
    with pytest.raises(EnqueueError, match="cannot schedule"):
        EchoJob.set(wait=10).perform_later(1)
    assert ran == []


def test_inline_raises_the_jobs_own_exception() -> None:
    class Broken(Job):
        def perform(self) -> None:
            raise LookupError("inside")

    activejob.configure(adapter="inline:")
    with pytest.raises(LookupError, match="inside"):
        Broken.perform_later()


def test_inline_plays_a_long_retry_story_out_without_nesting_a_call_per_attempt() -> None:
    attempts = sys.getrecursionlimit()  # more than one nested call per attempt could hold

    @activejob.retry_on(LookupError, wait=30, attempts=attempts, jitter=0)
    class Stubborn(Job):
        def perform(self) -> None:
            ran.append((threading.current_thread().name, self.executions))
            raise LookupError("again")

    activejob.configure(adapter="inline:")
    started = time.monotonic()
    with pytest.raises(LookupError, match="again"):
        Stubborn.perform_later()
    assert [executions for _, executions in ran] == list(range(1, attempts + 1))
    assert time.monotonic() - started < 30  # the waits were skipped


def test_inline_runs_async_jobs() -> None:
    activejob.configure(adapter="inline:")
    AsyncEchoJob.perform_later("a")
    assert [v for _, v in ran] == ["a"]


# -- async ---------------------------------------------------------------------------------


def test_async_adapter_runs_on_pool_threads_and_loop() -> None:
    adapter = AsyncAdapter(threads=2)
    activejob.configure(adapter=adapter)
    for i in range(10):
        EchoJob.perform_later(i)
    AsyncEchoJob.perform_later("x")
    adapter.join(timeout=10)
    assert sorted(v for _, v in ran if v != "x") == list(range(10))
    assert all(name.startswith("activejob-async") for name, _ in ran)
    assert ("activejob-async-loop", "x") in ran
    adapter.shutdown()


def test_async_adapter_holds_scheduled_jobs_until_due() -> None:
    adapter = AsyncAdapter(threads=1)
    activejob.configure(adapter=adapter)
    started = time.monotonic()
    EchoJob.set(wait=0.3).perform_later("later")
    EchoJob.perform_later("now")
    adapter.join(timeout=10)
    assert [v for _, v in ran] == ["now", "later"]
    assert time.monotonic() - started >= 0.29
    adapter.shutdown()


def test_async_adapter_url_threads_and_shutdown() -> None:
    activejob.configure(adapter="async:?threads=3")
    adapter = resolve_adapter()
    assert isinstance(adapter, AsyncAdapter) and adapter.threads == 3
    gate = threading.Event()

    class Slow(Job):
        def perform(self) -> None:
            gate.wait(5)
            with _lock:
                ran.append(("slow", None))

    class AsyncSlow(Job):
        async def perform(self) -> None:
            import asyncio

            await asyncio.to_thread(gate.wait, 5)
            with _lock:
                ran.append(("async slow", None))

    ran_when_shutdown_started: list[tuple[str, Any]] = [("not", "started")]

    def open_gate_once_shutdown_started() -> None:
        wait_for(lambda: adapter._closed)
        ran_when_shutdown_started[:] = list(ran)
        gate.set()

    Slow.perform_later()
    AsyncSlow.perform_later()
    EchoJob.set(wait=3600).perform_later("never")
    opener = threading.Thread(target=open_gate_once_shutdown_started)
    opener.start()
    adapter.shutdown(wait=True)
    # Both jobs were still running when shutdown began, and it waited for them.
    assert ran_when_shutdown_started == []
    assert sorted(ran) == [("async slow", None), ("slow", None)]
    opener.join()
    with pytest.raises(EnqueueError, match="shut down"):
        EchoJob.perform_later("closed")


class Cancelled(Job):
    async def perform(self) -> None:
        import asyncio

        raise asyncio.CancelledError


class Exits(Job):
    def perform(self) -> None:
        raise SystemExit(3)


@pytest.mark.parametrize("job_class", [Cancelled, Exits])
def test_async_job_ending_in_a_base_exception_is_no_longer_pending(
    job_class: type[Job],
) -> None:
    adapter = AsyncAdapter(threads=1)
    activejob.configure(adapter=adapter)
    job_class.perform_later()
    adapter.join(timeout=5)
    adapter.shutdown(wait=True)


def test_async_job_that_cannot_start_is_no_longer_pending(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    adapter = AsyncAdapter(threads=1)
    activejob.configure(adapter=adapter)

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("cannot schedule new futures after shutdown")

    monkeypatch.setattr(adapter._pool, "submit", refuse)
    with pytest.raises(EnqueueError, match="cannot schedule"):
        EchoJob.perform_later(1)
    adapter.join(timeout=5)


def test_async_join_times_out_clearly() -> None:
    adapter = AsyncAdapter(threads=1)
    gate = threading.Event()

    class Blocked(Job):
        queue_adapter = adapter

        def perform(self) -> None:
            gate.wait(5)

    Blocked.perform_later()
    with pytest.raises(TimeoutError, match="still pending"):
        adapter.join(timeout=0.05)
    gate.set()
    adapter.join(timeout=5)
    adapter.shutdown()


# -- test adapter --------------------------------------------------------------------------


def test_test_adapter_records_and_performs_on_request() -> None:
    adapter = TestAdapter()
    activejob.configure(adapter=adapter)
    EchoJob.perform_later(1)
    EchoJob.set(wait=5).perform_later(2)
    assert [r.payload["arguments"] for r in adapter.enqueued_jobs] == [[1], [2]]
    assert ran == []
    assert adapter.perform_enqueued_jobs() == 2
    assert [v for _, v in ran] == [1, 2]
    assert len(adapter.performed_jobs) == 2
    adapter.clear()
    assert adapter.enqueued_jobs == [] and adapter.performed_jobs == []


class _OneQueueNoPriority(RecordingAdapter):
    scheme = "onequeue"
    supports_queues = False
    supports_priority = False


def test_capability_flags_refuse_what_the_backend_cannot_honour() -> None:
    adapter = _OneQueueNoPriority()
    activejob.configure(adapter=adapter)
    EchoJob.perform_later(1)
    with pytest.raises(EnqueueError, match=r"cannot honour priorities.*priority 5"):
        EchoJob.set(priority=5).perform_later(2)
    with pytest.raises(EnqueueError, match=r"one queue.*'low'"):
        EchoJob.set(queue="low").perform_later(3)
    with pytest.raises(EnqueueError, match="cannot honour priorities"):
        activejob.perform_all_later([EchoJob(4), _prioritised(5)])
    assert [p["arguments"] for p in adapter.payloads] == [[1]]


def test_a_one_queue_backend_takes_the_default_queue_under_a_prefix() -> None:
    adapter = _OneQueueNoPriority()
    activejob.configure(adapter=adapter, queue_name_prefix="shop")
    EchoJob.perform_later(1)
    with pytest.raises(EnqueueError, match=r"one queue.*'shop_low'"):
        EchoJob.set(queue="low").perform_later(2)
    assert [p["queue_name"] for p in adapter.payloads] == ["shop_default"]


def _prioritised(value: Any) -> Job:
    job = EchoJob(value)
    job.priority = 1
    return job


def test_status_of_a_missing_sqlite_file_is_none_and_creates_nothing(tmp_path: Path) -> None:
    """A typo in the path must not leave an empty database behind."""
    missing = tmp_path / "typo.sqlite3"
    assert activejob.status("no-such-job", adapter=f"sqlite:///{missing}") is None
    assert not missing.exists()


def test_a_cycle_in_metadata_fails_the_durable_enqueue_with_a_value_error(tmp_path: Path) -> None:
    """Payloads are encoded without json's cycle check: the error stays the one it gives."""
    url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}?auto_migrate=1"
    job = EchoJob(1)
    looped: dict[str, Any] = {}
    looped["self"] = looped
    job.metadata = {"loop": looped}
    with pytest.raises((ValueError, EnqueueError), match=r"[Cc]ircular reference"):
        resolve_adapter(url).enqueue(job)
    assert storage_of(url).list(JobFilter(limit=None)) == []
