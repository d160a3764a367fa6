"""Receivers that write each task signal this process receives to ``AJ_SIGNAL_LOG``, one
JSON line each: which process (enqueuer or worker) sent what."""

import json
import os
from typing import Any

from activejob.contrib.django.tasks.compat import task_enqueued, task_finished, task_started


def _log(name: str) -> Any:
    def receiver(sender: type, task_result: Any, **kwargs: Any) -> None:
        line = {
            "signal": name,
            "sender": f"{sender.__module__}.{sender.__qualname__}",
            "id": task_result.id,
            "status": str(task_result.status),
            "pid": os.getpid(),
            "attempts": task_result.attempts,
            "errors": [e.exception_class_path for e in task_result.errors],
        }
        if task_result.status == "SUCCESSFUL":
            line["return_value"] = task_result.return_value
        with open(os.environ["AJ_SIGNAL_LOG"], "a") as log:
            log.write(json.dumps(line) + "\n")

    return receiver


for _name, _signal in (
    ("task_enqueued", task_enqueued),
    ("task_started", task_started),
    ("task_finished", task_finished),
):
    _signal.connect(_log(_name), weak=False, dispatch_uid=f"taskapp-{_name}")
