"""The job the concurrency benchmark's worker runs (``--import flow_concurrency_jobs``,
with ``bench/`` on ``PYTHONPATH``)."""

from __future__ import annotations

import socket
import time
from datetime import timedelta

from activejob import Job, limits_concurrency

QUEUE = "bench-flow"


@limits_concurrency(to=1, key="latency", duration=timedelta(minutes=5))
class SlotJob(Job):
    """One at a time. The holder says it started and waits for "go"; every run
    reports, over UDP to ``port``, when it started and when it ended."""

    queue_as = QUEUE

    def perform(self, port: int, role: str) -> None:
        out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            out.sendto(f"start {role} {time.time():.6f}".encode(), ("127.0.0.1", port))
            if role == "holder":
                out.settimeout(30)
                out.recv(16)  # "go", sent to this socket's port (learned from the datagram)
            out.sendto(f"end {role} {time.time():.6f}".encode(), ("127.0.0.1", port))
        finally:
            out.close()


class PlainJob(Job):
    """Unlimited: reports when it started, for the same worker's plain wake-up."""

    queue_as = QUEUE

    def perform(self, port: int, role: str) -> None:
        out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            out.sendto(f"start {role} {time.time():.6f}".encode(), ("127.0.0.1", port))
        finally:
            out.close()
