"""What the bridges send, read back from the real brokers with no worker running:
priorities mapped (or refused), queues, the URL forms, and the refusals."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

import activejob
from activejob.adapters import adapter_from_url
from activejob.errors import ConfigurationError, EnqueueError
from tests.bridges import jobs
from tests.bridges.support import unique_prefix
from tests.globalid.support import need
from tests.services import service_url


@pytest.fixture
def celery_app(request: pytest.FixtureRequest) -> Iterator[Any]:
    need("celery")
    from tests.bridges import celery_app as module

    kind = getattr(request, "param", "redis")
    url = service_url("redis") if kind == "redis" else service_url("rabbitmq")
    prefix = unique_prefix("celery")
    app = module.make_app(url, None, prefix)
    app.aj_prefix = prefix
    yield app
    with app.connection_for_write() as connection:
        for queue in (f"{prefix}_default", f"{prefix}_low"):
            if kind == "redis":
                client = connection.default_channel.client
                keys = list(client.scan_iter(f"{queue}*"))
                if keys:
                    client.delete(*keys)
            else:
                connection.default_channel.queue_delete(queue)
    app.close()


def _use_celery(app: Any) -> Any:
    from activejob.adapters.celery import CeleryAdapter

    adapter = CeleryAdapter(app)
    activejob.configure(adapter=adapter, queue_name_prefix=app.aj_prefix)
    return adapter


def test_celery_redis_priority_keeps_our_order(celery_app: Any) -> None:
    _use_celery(celery_app)
    job = jobs.RecordJob.set(priority=3).perform_later("p")
    with celery_app.connection_for_write() as connection:
        client = connection.default_channel.client
        # kombu keeps one list per priority step; 0 is taken first on Redis.
        [raw] = client.lrange(f"{celery_app.aj_prefix}_default\x06\x163", 0, -1)
    message = json.loads(raw)
    assert message["headers"]["id"] == job.provider_job_id
    assert message["properties"]["priority"] == 3
    assert message["content-type"] == "application/json"


@pytest.mark.parametrize("celery_app", ["rabbitmq"], indirect=True)
def test_celery_rabbitmq_priority_is_reversed(celery_app: Any) -> None:
    _use_celery(celery_app)
    job = jobs.RecordJob.set(priority=2, queue="low").perform_later("p")
    with celery_app.connection_for_write() as connection:
        message = connection.default_channel.basic_get(f"{celery_app.aj_prefix}_low", no_ack=True)
    assert message.headers["id"] == job.provider_job_id
    assert message.properties["priority"] == 7  # RabbitMQ runs larger first
    assert message.content_type == "application/json"


def test_celery_priority_out_of_range_is_refused(celery_app: Any) -> None:
    _use_celery(celery_app)
    with pytest.raises(EnqueueError, match="0-9"):
        jobs.RecordJob.set(priority=10).perform_later("p")


def test_celery_url_form(celery_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from activejob.adapters.celery import TASK_NAME, CeleryAdapter
    from tests.bridges import celery_app as module

    monkeypatch.setattr(module, "app", celery_app, raising=False)
    adapter = adapter_from_url("celery:?app=tests.bridges.celery_app:app")
    assert isinstance(adapter, CeleryAdapter) and adapter.app is celery_app
    task = celery_app.tasks[TASK_NAME]
    assert task.max_retries == 0 and task.acks_late and task.serializer == "json"
    assert CeleryAdapter(celery_app).task is task  # registered once per app
    with pytest.raises(ConfigurationError, match="does not name the app"):
        adapter_from_url("celery:")
    with pytest.raises(ConfigurationError, match="cannot load"):
        adapter_from_url("celery:?app=tests.bridges.celery_app:nothing")


def test_celery_task_is_on_every_app_of_the_process() -> None:
    """A worker whose app only includes activejob.adapters.celery (no adapter built
    in its module) has the task: the URL form works on the worker side too."""
    need("celery")
    from celery import Celery

    from activejob.adapters.celery import TASK_NAME, register_task

    app = Celery("elsewhere", broker="memory://", set_as_current=False)
    task = app.tasks[TASK_NAME]
    assert task.max_retries == 0 and task.acks_late and task.ignore_result
    assert register_task(app) is task
    app.close()


@pytest.fixture(params=["redis", "rabbitmq"])
def dramatiq_broker(request: pytest.FixtureRequest) -> Iterator[Any]:
    need("dramatiq")
    from tests.bridges import dramatiq_app

    url = service_url(request.param)
    prefix = unique_prefix("dramatiq")
    activejob.configure(queue_name_prefix=prefix)
    broker = dramatiq_app.make_broker(url, prefix)
    yield broker
    if request.param == "rabbitmq":
        for queue in broker.get_declared_queues():
            for suffix in ("", ".DQ", ".XQ"):
                broker.channel.queue_delete(queue + suffix)
    else:
        keys = list(broker.client.scan_iter(f"{prefix}:*"))
        if keys:
            broker.client.delete(*keys)
    broker.close()


def test_dramatiq_priority_on_rabbitmq_only(dramatiq_broker: Any) -> None:
    from dramatiq.brokers.rabbitmq import RabbitmqBroker

    from activejob.adapters.dramatiq import ACTOR_NAME, DramatiqAdapter

    adapter = DramatiqAdapter(dramatiq_broker, queues=["default", "low"])
    activejob.configure(adapter=adapter)
    actor = dramatiq_broker.get_actor(ACTOR_NAME)
    assert actor.options["max_retries"] == 0
    assert actor.options["retry_when"](0, Exception()) is False
    if not isinstance(dramatiq_broker, RabbitmqBroker):
        with pytest.raises(EnqueueError, match="has no message priorities"):
            jobs.RecordJob.set(priority=1).perform_later("p")
        return
    job = jobs.RecordJob.set(priority=1, queue="low").perform_later("p")
    queue = job.queue_name
    _method, properties, body = dramatiq_broker.channel.basic_get(queue, auto_ack=True)
    assert properties.priority == 9  # max_priority 10, larger runs first
    assert json.loads(body)["message_id"] == job.provider_job_id
    with pytest.raises(EnqueueError, match=r"outside 0\.\.10"):
        jobs.RecordJob.set(priority=11).perform_later("p")


def test_dramatiq_undeclared_queue_is_refused(dramatiq_broker: Any) -> None:
    from activejob.adapters.dramatiq import DramatiqAdapter

    activejob.configure(adapter=DramatiqAdapter(dramatiq_broker))
    with pytest.raises(EnqueueError, match=r"not declared .* DramatiqAdapter\(queues=\.\.\.\)"):
        jobs.RecordJob.set(queue="elsewhere").perform_later("p")


def test_dramatiq_refuses_a_pickle_encoder(dramatiq_broker: Any) -> None:
    import dramatiq

    from activejob.adapters.dramatiq import DramatiqAdapter

    saved = dramatiq.get_encoder()
    dramatiq.set_encoder(dramatiq.PickleEncoder())
    try:
        with pytest.raises(ConfigurationError, match="JSON"):
            DramatiqAdapter(dramatiq_broker)
    finally:
        dramatiq.set_encoder(saved)


def test_dramatiq_url_form(dramatiq_broker: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from activejob.adapters.dramatiq import DramatiqAdapter
    from tests.bridges import dramatiq_app

    monkeypatch.setattr(dramatiq_app, "broker", dramatiq_broker, raising=False)
    adapter = adapter_from_url("dramatiq:?broker=tests.bridges.dramatiq_app:broker&queues=a,b")
    assert isinstance(adapter, DramatiqAdapter)
    prefix = activejob.get_config().queue_name_prefix
    assert adapter.queues == {f"{prefix}_a", f"{prefix}_b"}
    assert {f"{prefix}_a", f"{prefix}_b"} <= set(dramatiq_broker.get_declared_queues())
    with pytest.raises(ConfigurationError, match="unknown option"):
        adapter_from_url("dramatiq:?broker=tests.bridges.dramatiq_app:broker&x=1")


def test_dramatiq_actor_logs_the_per_job_lines_at_debug(
    dramatiq_broker: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Dramatiq logs its own per-message lines at DEBUG; so does the bridge's actor."""
    from activejob.adapters.dramatiq import ACTOR_NAME, DramatiqAdapter

    activejob.configure(adapter=DramatiqAdapter(dramatiq_broker))
    actor = dramatiq_broker.get_actor(ACTOR_NAME)
    payload = jobs.NoopJob("a").serialize()
    with caplog.at_level(logging.INFO, logger="activejob"):
        actor.fn(payload)
    assert not [r for r in caplog.records if r.getMessage().startswith("Perform")]
    with caplog.at_level(logging.DEBUG, logger="activejob"):
        actor.fn(payload)
    performing = [r for r in caplog.records if r.getMessage().startswith("Perform")]
    assert [r.levelno for r in performing] == [logging.DEBUG, logging.DEBUG]
    assert performing[0].getMessage().startswith("Performing tests.bridges.jobs.NoopJob")
