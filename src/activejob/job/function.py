"""``@job``: a plain function becomes a job, and stays callable as a function.

Example::

    @job(queue_as="mailers")
    def send_welcome(user_id: int) -> None: ...

    send_welcome.perform_later(42)          # enqueue
    send_welcome.set(wait=60).perform_later(42)
    send_welcome(42)                        # just calls the function
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Generic, overload

from activejob.job.base import Job
from activejob.job.options import ConfiguredJob, EnqueueKeywords, EnqueueOptions, P, R, T

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from activejob.adapters.base import Adapter


class JobFunction(Generic[P, R]):
    """A function turned into a job by :func:`job`.

    Calling it calls the function; ``perform_later``, ``aperform_later``,
    ``set`` and ``perform_now`` go through the generated ``job_class``.
    """

    def __init__(self, func: Callable[P, R], job_class: type[Job]) -> None:
        self.func = func
        self.job_class = job_class
        functools.update_wrapper(self, func)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self.func(*args, **kwargs)

    def perform_later(self, *args: P.args, **kwargs: P.kwargs) -> Job:
        """Enqueue a call of the function; returns the job."""
        return self.job_class(*args, **kwargs).enqueue()

    async def aperform_later(self, *args: P.args, **kwargs: P.kwargs) -> Job:
        """``perform_later`` for async code."""
        return await self.job_class(*args, **kwargs).aenqueue()

    @overload
    def perform_now(
        self: JobFunction[P, Coroutine[Any, Any, T]], *args: P.args, **kwargs: P.kwargs
    ) -> T: ...

    @overload
    def perform_now(self, *args: P.args, **kwargs: P.kwargs) -> R: ...

    def perform_now(self, *args: Any, **kwargs: Any) -> Any:
        """Run the function as a job here (callbacks and rules apply); returns its value
        (awaited, for an ``async def`` function)."""
        return self.job_class(*args, **kwargs).run_now()

    def set(self, **options: Unpack[EnqueueKeywords]) -> ConfiguredJob[P, R]:
        """Enqueue options, as ``Job.set``."""
        return ConfiguredJob(self.job_class, EnqueueOptions(**options))

    def __repr__(self) -> str:
        return f"<job function {self.job_class.job_class_name}>"


def _make_job_class(func: Callable[..., Any], attributes: dict[str, Any]) -> type[Job]:
    if inspect.iscoroutinefunction(func):

        async def perform_async(self: Job, *args: Any, **kwargs: Any) -> Any:
            return await func(*args, **kwargs)

        perform: Callable[..., Any] = perform_async
    else:

        def perform_sync(self: Job, *args: Any, **kwargs: Any) -> Any:
            return func(*args, **kwargs)

        perform = perform_sync
    namespace = {
        "__module__": func.__module__,
        "__qualname__": func.__qualname__,
        "__doc__": func.__doc__,
        "perform": perform,
        **attributes,
    }
    return type(func.__name__, (Job,), namespace)


@overload
def job(func: Callable[P, R], /) -> JobFunction[P, R]: ...


@overload
def job(
    *,
    queue_as: str | None = None,
    priority: int | None = None,
    queue_adapter: str | Adapter | None = None,
    timeout: float | timedelta | None = None,
    **attributes: Any,
) -> Callable[[Callable[P, R]], JobFunction[P, R]]: ...


def job(
    func: Callable[..., Any] | None = None,
    /,
    *,
    queue_as: str | None = None,
    priority: int | None = None,
    queue_adapter: str | Adapter | None = None,
    timeout: float | timedelta | None = None,
    **attributes: Any,
) -> Any:
    """Turn a function (sync or ``async def``) into a job.

    The job class is named after the function (``module.function``), so the
    function must be defined at module level to be found by a worker. Extra
    keyword arguments become class attributes of the generated job class
    (``log_arguments=False``, ...). ``timeout`` bounds one run (seconds or a
    ``timedelta``; see ``Job.timeout``).
    """
    attributes.update(
        queue_as=queue_as, priority=priority, queue_adapter=queue_adapter, timeout=timeout
    )

    def decorate(fn: Callable[P, R]) -> JobFunction[P, R]:
        return JobFunction(fn, _make_job_class(fn, attributes))

    return decorate if func is None else decorate(func)
