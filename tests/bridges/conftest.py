"""One worker per (system, broker), started once for the tests that use it.

``bridge`` is parametrised over Celery and Dramatiq, each on Redis and on
RabbitMQ; module scope with params makes pytest run every test on one bridge,
then stop its worker and start the next.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

import activejob
from activejob import config
from tests.bridges.support import Bridge, Ledger, unique_prefix, worker
from tests.globalid.support import need
from tests.services import service_url

BRIDGES = ["celery-redis", "celery-rabbitmq", "dramatiq-redis", "dramatiq-rabbitmq"]


@pytest.fixture(scope="module", params=BRIDGES)
def bridge(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Bridge]:
    """A running foreign worker and the adapter that feeds it."""
    system, kind = request.param.split("-")
    need(system)
    need("sqlalchemy")
    redis_url = service_url("redis")
    broker_url = redis_url if kind == "redis" else service_url("rabbitmq")
    tmp = tmp_path_factory.mktemp(request.param)
    prefix = unique_prefix(system)
    env = {
        "AJ_BRIDGE_BROKER": broker_url,
        "AJ_BRIDGE_BACKEND": redis_url,
        "AJ_BRIDGE_PREFIX": prefix,
        "AJ_BRIDGE_LEDGER": str(tmp / "ledger.jsonl"),
        "AJ_GID_RECORDS_URL": f"sqlite:///{tmp / 'records.sqlite3'}",
        "AJ_GID_OUT": str(tmp / "gid.txt"),
    }
    maker = _celery if system == "celery" else _dramatiq
    yield from maker(request.param, broker_url, redis_url, prefix, env, tmp)


@pytest.fixture(autouse=True)
def _use_bridge(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """activejob in this process enqueues through the module's bridge."""
    if "bridge" in request.fixturenames:
        found: Bridge = request.getfixturevalue("bridge")
        monkeypatch.setenv("AJ_BRIDGE_LEDGER", str(found.ledger.path))
        found.configure()


def _celery(
    name: str, broker_url: str, redis_url: str, prefix: str, env: dict[str, str], tmp: Path
) -> Iterator[Bridge]:
    from tests.bridges import celery_app

    app = celery_app.make_app(broker_url, redis_url, prefix)
    saved = dataclasses.replace(config.get_config())
    adapter = celery_app.configure(app, prefix)
    _restore(saved)
    queues = [f"{prefix}_default", f"{prefix}_low"]
    env = {**env, "ACTIVEJOB_ADAPTER": "celery:?app=tests.bridges.celery_app:app"}
    argv = [
        "celery", "-A", "tests.bridges.celery_app", "worker", "-P", "threads", "-c", "2",
        "-Q", ",".join(queues), "-l", "INFO", "-n", f"{prefix}@%h",
        "--without-heartbeat", "--without-gossip", "--without-mingle",
    ]  # fmt: skip

    def configure() -> None:
        activejob.configure(adapter=adapter, queue_name_prefix=prefix)

    with worker(argv, env, tmp / "worker.log", "ready.") as running:

        def failure_recorded(text: str) -> bool:
            return any(
                "raised unexpected" in line and text in line for line in running.text().splitlines()
            )

        yield Bridge(name, adapter, prefix, Ledger(Path(env["AJ_BRIDGE_LEDGER"])), running,
                     Path(env["AJ_GID_OUT"]), failure_recorded, configure)  # fmt: skip
    if broker_url.startswith("amqp"):
        with app.connection_for_write() as connection:
            for queue in queues:
                connection.default_channel.queue_delete(queue)
    app.close()


def _dramatiq(
    name: str, broker_url: str, redis_url: str, prefix: str, env: dict[str, str], tmp: Path
) -> Iterator[Bridge]:
    from tests.bridges import dramatiq_app

    broker = dramatiq_app.make_broker(broker_url, prefix)
    saved = dataclasses.replace(config.get_config())
    adapter = dramatiq_app.configure(broker, prefix)
    _restore(saved)
    queues = sorted(adapter.queues)
    argv = [
        "dramatiq", "tests.bridges.dramatiq_app:broker", "tests.bridges.jobs",
        "tests.globalid.e2e_app", "--processes", "1", "--threads", "2",
    ]  # fmt: skip

    def configure() -> None:
        activejob.configure(adapter=adapter, queue_name_prefix=prefix)

    def failure_recorded(text: str) -> bool:
        return any(text in body for body in _dead_letters(broker, queues))

    with worker(argv, env, tmp / "worker.log", "is ready for action") as running:
        yield Bridge(name, adapter, prefix, Ledger(Path(env["AJ_BRIDGE_LEDGER"])), running,
                     Path(env["AJ_GID_OUT"]), failure_recorded, configure)  # fmt: skip
    if broker_url.startswith("amqp"):
        channel = broker.channel
        for queue in queues:
            for suffix in ("", ".DQ", ".XQ"):
                channel.queue_delete(queue + suffix)
    else:
        keys = list(broker.client.scan_iter(f"{prefix}:*"))
        if keys:
            broker.client.delete(*keys)
    broker.close()


def _dead_letters(broker: object, queues: list[str]) -> list[str]:
    """The bodies of the messages in the dead-letter queues (left there)."""
    from dramatiq.brokers.rabbitmq import RabbitmqBroker
    from dramatiq.brokers.redis import RedisBroker

    bodies: list[str] = []
    if isinstance(broker, RedisBroker):
        for queue in queues:
            found = broker.client.hvals(f"{broker.namespace}:{queue}.XQ.msgs")
            bodies.extend(b.decode() for b in found)
        return bodies
    assert isinstance(broker, RabbitmqBroker)
    import pika

    connection = pika.BlockingConnection(broker.parameters)
    try:
        channel = connection.channel()
        for queue in queues:
            while True:
                method, _, body = channel.basic_get(queue + ".XQ", auto_ack=False)
                if method is None:
                    break
                bodies.append(body.decode())
        # Closing without an ack puts every message back.
    finally:
        connection.close()
    return bodies


def _restore(saved: config.Config) -> None:
    for f in dataclasses.fields(saved):
        setattr(config.get_config(), f.name, getattr(saved, f.name))
