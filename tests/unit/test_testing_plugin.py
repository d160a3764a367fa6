"""The pytest plugin, run the way users run it: pytest in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from importlib.metadata import entry_points
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = "activejob.testing.pytest_plugin"


def pytest_command(*args: str) -> list[str]:
    """pytest with the plugin: through its entry point when activejob is installed,
    else named with ``-p`` (naming it twice would register it twice)."""
    installed = any(ep.value == PLUGIN for ep in entry_points(group="pytest11"))
    plugin = [] if installed else ["-p", PLUGIN]
    return [sys.executable, "-m", "pytest", *plugin, "-p", "no:cacheprovider", *args]


def run_pytest(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT / "src"), str(directory), env.get("PYTHONPATH", "")) if p
    )
    env.pop("ACTIVEJOB_ADAPTER", None)
    return subprocess.run(
        pytest_command("--rootdir", str(directory), *args),
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_fixture_installs_a_fresh_adapter_and_restores_the_setting(tmp_path: Path) -> None:
    # The app's own setting, and an adapter already built from it (jobs may be in it).
    (tmp_path / "conftest.py").write_text(
        textwrap.dedent(
            """
            import activejob
            from activejob.adapters.cache import resolve_adapter

            activejob.configure(adapter="async:")
            APP_ADAPTER = resolve_adapter()
            """
        )
    )
    (tmp_path / "test_plugin_use.py").write_text(
        textwrap.dedent(
            """
            import activejob
            from activejob import Job
            from activejob.config import get_config
            from activejob.testing import TestAdapter, assert_enqueued_jobs

            seen = []

            class PingJob(Job):
                def perform(self) -> None: ...

            def test_first(activejob_test_adapter):
                assert isinstance(activejob_test_adapter, TestAdapter)
                assert get_config().adapter is activejob_test_adapter
                PingJob.perform_later()
                assert_enqueued_jobs(1)
                seen.append(activejob_test_adapter)

            def test_second(activejob_test_adapter):
                assert activejob_test_adapter is not seen[0]
                assert_enqueued_jobs(0)

            def test_restored_and_no_fixture_needed():
                from conftest import APP_ADAPTER
                from activejob.adapters.cache import resolve_adapter

                assert get_config().adapter == "async:"
                assert resolve_adapter() is APP_ADAPTER  # the same pool, not shut down
                assert not APP_ADAPTER._closed
            """
        )
    )
    result = run_pytest(tmp_path, "-q")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout


def test_a_block_helper_never_entered_errors_the_test(tmp_path: Path) -> None:
    (tmp_path / "test_plugin_forgot.py").write_text(
        textwrap.dedent(
            """
            from activejob.testing import expect_enqueued_jobs

            def test_forgot_with(activejob_test_adapter):
                expect_enqueued_jobs(3)
            """
        )
    )
    result = run_pytest(tmp_path, "-q", "-W", "ignore::RuntimeWarning")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 passed, 1 error" in result.stdout
    assert "expect_enqueued_jobs(3) at " in result.stdout
    assert "test_plugin_forgot.py:5" in result.stdout


def test_failure_messages_reach_the_report(tmp_path: Path) -> None:
    (tmp_path / "test_plugin_fail.py").write_text(
        textwrap.dedent(
            """
            from activejob import Job
            from activejob.testing import assert_enqueued_with

            class PingJob(Job):
                def perform(self, n: int) -> None: ...

            def test_wrong_args(activejob_test_adapter):
                PingJob.perform_later(1)
                assert_enqueued_with(job=PingJob, args=(2,))
            """
        )
    )
    result = run_pytest(tmp_path, "-q")
    assert result.returncode == 1
    assert "no job enqueued matches job=test_plugin_fail.PingJob, args=(2,)" in result.stdout
    assert "1. test_plugin_fail.PingJob(1) queue='default'  [differs in: args]" in result.stdout


def test_the_plugin_module_imports_no_driver() -> None:
    code = (
        f"import sys, {PLUGIN};"
        "bad=[m for m in ('psycopg','redis','sqlite3','opentelemetry','prometheus_client')"
        " if m in sys.modules];print(bad)"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.strip() == "[]"
