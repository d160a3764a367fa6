"""Django's own tests for task backends, adapted to this backend and run inside the
project (``manage.py run_cases``): the cases of django-tasks' ``test_tasks.py`` and of
django-tasks-db's ``DatabaseBackendTestCase`` / ``DatabaseBackendWorkerTestCase`` that
fit a third-party backend, with our worker (``manage.py activejob worker --burst``, a
real subprocess) in place of ``db_worker``. Where ours differs on purpose, the test
says so (its name and docstring).
"""

import contextlib
import dataclasses
import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.test import SimpleTestCase, override_settings
from django.utils import timezone

from activejob.adapters.durable import storage_of
from activejob.contrib.django.tasks import ActiveJobBackend
from activejob.contrib.django.tasks.bridge import DjangoTaskJob, task_spec
from activejob.contrib.django.tasks.compat import (
    LOGGER_NAME,
    InvalidTask,
    Task,
    TaskResultDoesNotExist,
    TaskResultStatus,
    task_backends,
    task_enqueued,
)
from taskapp import tasks as test_tasks

try:
    from django.tasks import default_task_backend
    from django.tasks.exceptions import TaskResultMismatch
except ImportError:
    from django_tasks import default_task_backend
    from django_tasks.exceptions import TaskResultMismatch

PROJECT = Path(__file__).resolve().parents[1]


def run_worker(*args: str) -> str:
    """``manage.py activejob worker --burst``, as an operator runs it."""
    done = subprocess.run(
        [sys.executable, "manage.py", "activejob", "worker", "--burst", "--threads", "1", *args],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode not in (0, 1):  # 1: a job failed in the burst
        raise AssertionError(f"worker exited {done.returncode}:\n{done.stdout}{done.stderr}")
    return done.stdout + done.stderr


def stored(result_id: str) -> Any:
    return storage_of(default_task_backend.adapter()).get(result_id)


class BackendCase(SimpleTestCase):
    databases = {"default"}

    @contextlib.contextmanager
    def capture_task_enqueued(self) -> Iterator[list[tuple[Any, Any]]]:
        received: list[tuple[Any, Any]] = []

        def capture(sender: Any, task_result: Any, **kwargs: Any) -> None:
            received.append((sender, task_result))

        task_enqueued.connect(capture, dispatch_uid="cases_enqueued", weak=False)
        try:
            yield received
        finally:
            task_enqueued.disconnect(capture, dispatch_uid="cases_enqueued")

    def temp_path(self) -> str:
        folder = tempfile.mkdtemp(prefix="aj-djtasks-")
        self.addCleanup(lambda: [p.unlink() for p in Path(folder).iterdir()])
        return str(Path(folder) / "log")


class ActiveJobBackendTestCase(BackendCase):
    """django-tasks-db's DatabaseBackendTestCase and django-tasks' TaskTestCase."""

    def test_using_correct_backend(self) -> None:
        self.assertEqual(default_task_backend, task_backends["default"])
        self.assertIsInstance(task_backends["default"], ActiveJobBackend)
        self.assertEqual(default_task_backend.alias, "default")
        self.assertEqual(default_task_backend.options, {"adapter": os.environ["AJ_TASKS_ADAPTER"]})

    def test_capability_flags(self) -> None:
        self.assertTrue(default_task_backend.supports_defer)
        self.assertTrue(default_task_backend.supports_async_task)
        self.assertTrue(default_task_backend.supports_get_result)
        self.assertTrue(default_task_backend.supports_priority)
        inline = task_backends["inline"]
        self.assertFalse(inline.supports_get_result)  # inline: keeps no jobs
        self.assertFalse(inline.supports_defer)  # and cannot hold one until a time

    def test_enqueue_task(self) -> None:
        for task in [test_tasks.noop_task, test_tasks.noop_task_async]:
            with self.subTest(task), self.capture_task_enqueued() as received:
                result = task.enqueue(1, two=3)

                self.assertEqual(uuid.UUID(result.id).version, 4)
                self.assertEqual(result.status, TaskResultStatus.READY)
                self.assertFalse(result.is_finished)
                self.assertIsNotNone(result.enqueued_at)
                self.assertIsNone(result.started_at)
                self.assertIsNone(result.last_attempted_at)
                self.assertIsNone(result.finished_at)
                with self.assertRaisesMessage(ValueError, "Task has not finished yet"):
                    result.return_value  # noqa: B018
                self.assertEqual(result.task, task)
                self.assertEqual(result.args, [1])
                self.assertEqual(result.kwargs, {"two": 3})
                self.assertEqual(result.attempts, 0)
                self.assertEqual(received, [(ActiveJobBackend, result)])

    async def test_enqueue_task_async(self) -> None:
        for task in [test_tasks.noop_task, test_tasks.noop_task_async]:
            with self.subTest(task), self.capture_task_enqueued() as received:
                result = await task.aenqueue()

                self.assertEqual(result.status, TaskResultStatus.READY)
                self.assertFalse(result.is_finished)
                self.assertEqual(result.task, task)
                self.assertEqual(result.args, [])
                self.assertEqual(result.kwargs, {})
                self.assertEqual(result.attempts, 0)
                self.assertEqual(received, [(ActiveJobBackend, result)])

    def test_get_result(self) -> None:
        result = default_task_backend.enqueue(test_tasks.noop_task, [], {})
        new_result = default_task_backend.get_result(result.id)
        self.assertEqual(result, new_result)
        self.assertEqual(test_tasks.noop_task.get_result(result.id), result)

    async def test_get_result_async(self) -> None:
        result = await default_task_backend.aenqueue(test_tasks.noop_task, [], {})
        new_result = await default_task_backend.aget_result(result.id)
        self.assertEqual(result, new_result)

    def test_get_missing_result(self) -> None:
        with self.assertRaises(TaskResultDoesNotExist):
            default_task_backend.get_result(str(uuid.uuid4()))
        with self.assertRaises(TaskResultDoesNotExist):
            default_task_backend.get_result("123")

    async def test_async_get_missing_result(self) -> None:
        with self.assertRaises(TaskResultDoesNotExist):
            await default_task_backend.aget_result(str(uuid.uuid4()))

    def test_get_incorrect_result(self) -> None:
        result = default_task_backend.enqueue(test_tasks.noop_task_async, (), {})
        with self.assertRaisesMessage(TaskResultMismatch, "Task does not match"):
            test_tasks.noop_task.get_result(result.id)

    def test_get_result_of_a_job_that_is_no_task(self) -> None:
        """Ours: a job id of another job class is no task result."""
        from taskapp.jobs import PlainJob

        plain = PlainJob.perform_later()
        with self.assertRaises(TaskResultDoesNotExist):
            default_task_backend.get_result(plain.job_id)

    def test_inline_adapter_runs_at_once_and_keeps_no_result(self) -> None:
        """Ours: a backend on ``inline:`` runs the task in the caller; nothing is kept."""
        from activejob.contrib.django.tasks.compat import task_finished

        finished: list[Any] = []

        def capture(sender: Any, task_result: Any, **kwargs: Any) -> None:
            finished.append(task_result)

        task_finished.connect(capture, dispatch_uid="cases_inline", weak=False)
        self.addCleanup(task_finished.disconnect, capture, dispatch_uid="cases_inline")
        result = test_tasks.calculate_meaning_of_life.using(backend="inline").enqueue()
        [done] = finished
        self.assertEqual((done.id, done.status, done.return_value), (result.id, "SUCCESSFUL", 42))
        with self.assertRaisesMessage(NotImplementedError, "does not support retrieving"):
            task_backends["inline"].get_result(result.id)

    def test_enqueue_with_invalid_argument(self) -> None:
        with self.assertRaisesMessage(TypeError, "Unsupported type"):
            test_tasks.noop_task.enqueue(datetime.now())

    async def test_aenqueue_with_invalid_argument(self) -> None:
        with self.assertRaisesMessage(TypeError, "Unsupported type"):
            await test_tasks.noop_task.aenqueue(datetime.now())

    def test_using_priority_queue_name_run_after(self) -> None:
        now = timezone.now()
        self.assertEqual(test_tasks.noop_task.using(priority=1).priority, 1)
        self.assertEqual(test_tasks.noop_task.using(queue_name="queue-1").queue_name, "queue-1")
        self.assertEqual(test_tasks.noop_task.using(run_after=now).run_after, now)
        self.assertEqual(test_tasks.noop_task.priority, 0)
        self.assertIsNone(test_tasks.noop_task.run_after)

    def test_invalid_priority(self) -> None:
        for priority in (-101, 101, 3.1):
            with (
                self.subTest(priority),
                self.assertRaisesMessage(
                    InvalidTask, "priority must be a whole number between -100 and 100"
                ),
            ):
                test_tasks.noop_task.using(priority=priority)
        for priority in (100, -100, 0):
            test_tasks.noop_task.using(priority=priority)

    def test_naive_datetime(self) -> None:
        with self.assertRaisesMessage(InvalidTask, "run_after must be an aware datetime"):
            test_tasks.noop_task.using(run_after=datetime.now())

    def test_invalid_function(self) -> None:
        try:
            from django.tasks import task
        except ImportError:
            from django_tasks import task
        for invalid_function in [any, self.test_invalid_function]:
            with (
                self.subTest(invalid_function),
                self.assertRaisesMessage(
                    InvalidTask, "Task function must be defined at a module level"
                ),
            ):
                task()(invalid_function)

    def test_validate_on_enqueue(self) -> None:
        task_with_custom_queue_name = test_tasks.noop_task.using(queue_name="queue-1")
        settings = {
            "default": {
                "BACKEND": "activejob.contrib.django.tasks.ActiveJobBackend",
                "QUEUES": ["queue-2"],
                "OPTIONS": {"adapter": "django"},
            }
        }
        with (
            override_settings(TASKS=settings),
            self.assertRaisesMessage(InvalidTask, "Queue 'queue-1' is not valid for backend"),
        ):
            task_with_custom_queue_name.enqueue()

    async def test_validate_on_aenqueue(self) -> None:
        task_with_custom_queue_name = test_tasks.noop_task.using(queue_name="queue-1")
        settings = {
            "default": {
                "BACKEND": "activejob.contrib.django.tasks.ActiveJobBackend",
                "QUEUES": ["queue-2"],
            }
        }
        with (
            override_settings(TASKS=settings),
            self.assertRaisesMessage(InvalidTask, "Queue 'queue-1' is not valid"),
        ):
            await task_with_custom_queue_name.aenqueue()

    def test_check(self) -> None:
        errors = list(default_task_backend.check())
        self.assertEqual(len(errors), 0, errors)

    def test_unknown_option_is_improperly_configured(self) -> None:
        """Ours: OPTIONS are checked when the backend is built."""
        from django.core.exceptions import ImproperlyConfigured

        settings = {"default": {"BACKEND": "activejob.contrib.django.tasks.ActiveJobBackend",
                                "OPTIONS": {"adaptor": "django"}}}  # fmt: skip
        with (
            override_settings(TASKS=settings),
            self.assertRaisesMessage(ImproperlyConfigured, "unknown key(s) adaptor"),
        ):
            task_backends["default"]

    def test_enqueue_logs(self) -> None:
        with self.assertLogs(LOGGER_NAME, level="DEBUG") as captured_logs:
            result = test_tasks.noop_task.enqueue()
        self.assertEqual(len(captured_logs.output), 1)
        self.assertIn("enqueued", captured_logs.output[0])
        self.assertIn(result.id, captured_logs.output[0])

    def test_enqueue_joins_the_transaction(self) -> None:
        """django-tasks-db's test_doesnt_wait_until_transaction_commit: there too the
        row is written in the open transaction, so it exists only once it commits."""
        with transaction.atomic():
            result = test_tasks.noop_task.enqueue()
            self.assertIsNotNone(result.enqueued_at)
            if connection.vendor != "sqlite":  # SQLite locks the database meanwhile
                with self.assertRaises(TaskResultDoesNotExist):
                    default_task_backend.get_result(result.id)  # its own connection
        self.assertEqual(default_task_backend.get_result(result.id).id, result.id)

        class Boom(Exception):
            pass

        with contextlib.suppress(Boom), transaction.atomic():
            rolled_back = test_tasks.noop_task.enqueue()
            raise Boom
        with self.assertRaises(TaskResultDoesNotExist):
            default_task_backend.get_result(rolled_back.id)

    def test_priority_is_mapped_to_ours(self) -> None:
        """Ours: Django runs larger priorities first, activejob smaller ones: flipped."""
        for django_priority, ours in ((100, -100), (10, -10), (0, 0), (-100, 100)):
            with self.subTest(django_priority):
                result = test_tasks.noop_task.using(priority=django_priority).enqueue()
                self.assertEqual(stored(result.id).priority, ours)
                self.assertEqual(default_task_backend.get_result(result.id).task.priority,
                                 django_priority)  # fmt: skip


class ActiveJobWorkerTestCase(BackendCase):
    """django-tasks-db's DatabaseBackendWorkerTestCase, with our worker."""

    def test_run_enqueued_task(self) -> None:
        for task in [test_tasks.noop_task, test_tasks.noop_task_async]:
            with self.subTest(task):
                result = task.enqueue()
                self.assertEqual(result.status, TaskResultStatus.READY)

                run_worker()

                self.assertEqual(result.status, TaskResultStatus.READY)
                self.assertEqual(result.attempts, 0)
                result.refresh()
                self.assertIsNotNone(result.started_at)
                self.assertIsNotNone(result.last_attempted_at)
                self.assertIsNotNone(result.finished_at)
                self.assertGreaterEqual(result.started_at, result.enqueued_at)
                self.assertGreaterEqual(result.finished_at, result.started_at)
                self.assertEqual(result.status, TaskResultStatus.SUCCESSFUL)
                self.assertEqual(result.attempts, 1)
                self.assertIsNone(result.return_value)

    async def test_refresh_result_async(self) -> None:
        from asgiref.sync import sync_to_async

        result = await test_tasks.calculate_meaning_of_life_async.aenqueue()
        await sync_to_async(run_worker)()
        await result.arefresh()
        self.assertEqual(result.status, TaskResultStatus.SUCCESSFUL)
        self.assertTrue(result.is_finished)
        self.assertEqual(result.return_value, 42)
        self.assertEqual(result.attempts, 1)

    def test_result(self) -> None:
        result = default_task_backend.enqueue(test_tasks.calculate_meaning_of_life, [], {})
        run_worker()
        result.refresh()
        self.assertEqual(result.status, TaskResultStatus.SUCCESSFUL)
        self.assertEqual(result.return_value, 42)
        self.assertEqual(stored(result.id).return_value, "42")

    def test_batch_processes_all_tasks(self) -> None:
        results = [test_tasks.noop_task.enqueue() for _ in range(3)]
        failing = test_tasks.failing_task_value_error.enqueue()
        run_worker()
        for result in results:
            result.refresh()
            self.assertEqual(result.status, TaskResultStatus.SUCCESSFUL)
        failing.refresh()
        self.assertEqual(failing.status, TaskResultStatus.FAILED)

    def test_doesnt_process_different_queue(self) -> None:
        result = test_tasks.noop_task.using(queue_name="queue-1").enqueue()
        run_worker("--queues", "default")
        result.refresh()
        self.assertEqual(result.status, TaskResultStatus.READY)
        run_worker("--queues", "queue-1")
        result.refresh()
        self.assertEqual(result.status, TaskResultStatus.SUCCESSFUL)

    def test_failing_task(self) -> None:
        result = test_tasks.failing_task_value_error.enqueue()
        run_worker()
        self.assertEqual(result.status, TaskResultStatus.READY)
        result.refresh()
        self.assertIsNotNone(result.started_at)
        self.assertIsNotNone(result.last_attempted_at)
        self.assertIsNotNone(result.finished_at)
        self.assertGreaterEqual(result.finished_at, result.started_at)
        self.assertEqual(result.status, TaskResultStatus.FAILED)
        with self.assertRaisesMessage(ValueError, "Task failed"):
            result.return_value  # noqa: B018
        self.assertEqual(result.errors[0].exception_class, ValueError)
        traceback = result.errors[0].traceback
        self.assertTrue(
            traceback and traceback.endswith("ValueError: This task failed due to ValueError\n"),
            traceback,
        )

    def test_complex_exception(self) -> None:
        result = test_tasks.complex_exception.enqueue()
        run_worker()
        result.refresh()
        self.assertEqual(result.status, TaskResultStatus.FAILED)
        self.assertEqual(result.errors[0].exception_class, ValueError)
        self.assertIn('ValueError(ValueError("This task failed"))', result.errors[0].traceback)

    def test_complex_return_value(self) -> None:
        result = test_tasks.complex_return_value.enqueue()
        run_worker()
        result.refresh()
        self.assertEqual(result.status, TaskResultStatus.FAILED)
        self.assertIsNone(result._return_value)
        self.assertEqual(result.errors[0].exception_class, TypeError)
        self.assertIn("Unsupported type", result.errors[0].traceback)

    def test_return_value_over_the_limit_fails_saying_so(self) -> None:
        """Ours: a kept return value is capped (RETURN_VALUE_LIMIT); the task fails."""
        from activejob.errors import ReturnValueError

        result = test_tasks.too_large_return_value.enqueue()
        run_worker()
        result.refresh()
        self.assertEqual(result.status, TaskResultStatus.FAILED)
        self.assertEqual(result.errors[0].exception_class, ReturnValueError)
        self.assertIn("over the 1,048,576-byte limit", result.errors[0].traceback)
        self.assertIsNone(stored(result.id).return_value)

    def test_run_after(self) -> None:
        later = test_tasks.noop_task.using(run_after=timezone.now() + timedelta(hours=10))
        future = later.enqueue()
        past = test_tasks.noop_task.using(run_after=timezone.now() - timedelta(seconds=1))
        due = past.enqueue()
        run_worker()
        future.refresh()
        due.refresh()
        self.assertEqual(future.status, TaskResultStatus.READY)
        self.assertEqual(future.task.run_after, later.run_after)
        self.assertEqual(due.status, TaskResultStatus.SUCCESSFUL)

    def test_run_after_priority(self) -> None:
        log = self.temp_path()
        now = timezone.now()
        record = test_tasks.record
        record.using(priority=20, run_after=now - timedelta(hours=2)).enqueue("old", log)
        record.using(priority=20, run_after=now - timedelta(hours=10)).enqueue("very_old", log)
        record.using(run_after=now + timedelta(hours=10)).enqueue("far_future", log)
        record.using(priority=10, run_after=now + timedelta(hours=10)).enqueue("hi_future", log)
        record.using(priority=10).enqueue("high", log)
        record.using(priority=2).enqueue("low", log)
        record.using(priority=-2).enqueue("lower", log)
        run_worker()
        ran = Path(log).read_text().split()
        self.assertEqual(ran, ["very_old", "old", "high", "low", "lower"])

    def test_invalid_task_path(self) -> None:
        """A hostile payload naming ``subprocess.check_output``: nothing runs."""
        marker = self.temp_path()
        self.enqueue_raw("subprocess.check_output", [["touch", marker]])
        failed = self.enqueue_raw("subprocess.check_output", [["touch", marker]])
        run_worker()
        self.assertFalse(Path(marker).exists())
        info = stored(failed.job_id)
        self.assertEqual(info.state.value, "failed")
        self.assertEqual(info.error.exception_class,
                         "activejob.contrib.django.tasks.bridge.UnregisteredTaskError")  # fmt: skip
        self.assertIn("unknown Django task 'subprocess.check_output'", info.error.message)

    def test_missing_task_path(self) -> None:
        job = self.enqueue_raw("missing.func", [])
        run_worker()
        self.assertEqual(stored(job.job_id).state.value, "failed")

    def test_task_import_string(self) -> None:
        job = self.enqueue_raw("taskapp.tasks.some_test", [])
        run_worker()
        info = stored(job.job_id)
        self.assertEqual(info.state.value, "failed")
        self.assertIn("UnregisteredTaskError", info.error.exception_class)

    def test_a_plain_function_of_a_tasks_module_is_not_called(self) -> None:
        """Ours: the path's module is declared, but the function is no task."""
        marker = self.temp_path()
        job = self.enqueue_raw("taskapp.tasks.plain_helper", [marker])
        run_worker()
        self.assertFalse(Path(marker).exists())
        self.assertEqual(stored(job.job_id).state.value, "failed")

    def test_an_undeclared_module_is_never_imported(self) -> None:
        """Ours: only tasks/jobs modules of installed apps and IMPORTS are imported."""
        marker = self.temp_path()
        os.environ["AJ_EVIL_MARKER"] = marker
        self.addCleanup(os.environ.pop, "AJ_EVIL_MARKER")
        job = self.enqueue_raw("taskapp.evil.anything", [])
        run_worker()
        self.assertFalse(Path(marker).exists())
        self.assertIn("unknown Django task", stored(job.job_id).error.message)

    def test_a_malformed_task_payload_fails_alone(self) -> None:
        """Ours: a payload whose task part is not what the backend writes."""
        bad = DjangoTaskJob("subprocess.check_output", [["true"]], {})
        bad._activejob_adapter_setting = default_task_backend.adapter_setting
        bad.enqueue()
        after = test_tasks.noop_task.enqueue()
        run_worker()
        info = stored(bad.job_id)
        self.assertEqual(info.state.value, "failed")
        self.assertEqual(info.error.exception_class, "activejob.errors.DeserializationError")
        self.assertIn("not a Django task", info.error.message)
        after.refresh()
        self.assertEqual(after.status, TaskResultStatus.SUCCESSFUL)

    def test_worker_doesnt_exit(self) -> None:
        result = test_tasks.exit_task.enqueue()
        after = test_tasks.noop_task.enqueue()
        run_worker()
        result.refresh()
        after.refresh()
        self.assertEqual(result.status, TaskResultStatus.FAILED)
        self.assertEqual(result.errors[0].exception_class, SystemExit)
        self.assertEqual(after.status, TaskResultStatus.SUCCESSFUL)

    def test_retry_makes_a_failed_task_ready_again(self) -> None:
        """Ours: Django's API has no retries; an operator's retry (``manage.py
        activejob jobs retry ID``) makes the failed task READY again, same id."""
        from activejob.storage.base import JobFilter

        result = test_tasks.failing_task_value_error.enqueue()
        run_worker()
        result.refresh()
        self.assertEqual(result.status, TaskResultStatus.FAILED)
        storage = storage_of(default_task_backend.adapter())
        self.assertEqual(storage.retry(JobFilter(job_ids=[result.id])), 1)
        result.refresh()
        self.assertEqual(result.status, TaskResultStatus.READY)
        run_worker()
        result.refresh()
        self.assertEqual((result.status, result.attempts), (TaskResultStatus.FAILED, 2))

    def test_takes_context(self) -> None:
        result = test_tasks.get_task_id.enqueue()
        run_worker()
        result.refresh()
        self.assertEqual(result.return_value, result.id)

    def test_context(self) -> None:
        result = test_tasks.test_context.enqueue(1)
        run_worker()
        result.refresh()
        self.assertEqual(result.status, TaskResultStatus.SUCCESSFUL)

    def enqueue_raw(self, path: str, args: list[Any]) -> DjangoTaskJob:
        """A job written straight into the store, as a hostile or buggy writer would."""
        spec = {**task_spec(test_tasks.noop_task), "task": path}
        job = DjangoTaskJob(spec, args, {})
        job._activejob_adapter_setting = default_task_backend.adapter_setting
        return job.enqueue()


class ActiveJobTaskResultTestCase(BackendCase):
    """TaskResult values across processes (django-tasks' test_tasks)."""

    def test_refresh_keeps_an_unchanged_result(self) -> None:
        result = test_tasks.noop_task.enqueue()
        original = dataclasses.asdict(result)
        result.refresh()
        self.assertEqual(dataclasses.asdict(result), original)

    def test_task_is_the_module_level_task(self) -> None:
        self.assertIsInstance(test_tasks.noop_task, Task)
        result = test_tasks.noop_task.using(queue_name="queue-1", priority=5).enqueue()
        fetched = default_task_backend.get_result(result.id)
        self.assertEqual(fetched.task.func, test_tasks.noop_task.func)
        self.assertEqual((fetched.task.queue_name, fetched.task.priority), ("queue-1", 5))
