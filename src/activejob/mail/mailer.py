"""``Mailer``: classes whose actions build messages, delivered now or by a job.

Each public method of a ``Mailer`` subclass is an action. Called on the class,
it builds nothing yet: it returns a :class:`MessageDelivery`, which runs the
action when asked to deliver, in this process (``deliver_now()``) or in a
worker (``deliver_later()``), where the action's arguments arrive like any
job's (records by GlobalID, loaded fresh)::

    class UserMailer(Mailer):
        default_from = "shop@example.com"

        def welcome(self, user):
            return self.mail(to=user.email, subject="Welcome", text="...", html="...")

    UserMailer.welcome(user).deliver_later(wait=timedelta(hours=1))
    UserMailer.welcome(user).deliver_now()
"""

from __future__ import annotations

import functools
import re
import sys
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from types import MethodType
from typing import TYPE_CHECKING, Any, ClassVar, Concatenate, Generic, ParamSpec, TypeVar, overload

from activejob.errors import ConfigurationError, DeserializationError, shorten
from activejob.job.options import EnqueueOptions
from activejob.mail import templates
from activejob.mail.delivery import DeliveryJob, MailDeliveryJob, deliver_message
from activejob.mail.message import Addresses, Attachments, build_message

if TYPE_CHECKING:
    from activejob.job.base import Job

__all__ = ["Mailer", "MessageDelivery", "action", "mailer_class"]

P = ParamSpec("P")
M = TypeVar("M", bound="Mailer")

_mailers: dict[str, type[Mailer]] = {}
_lock = threading.Lock()


class action(Generic[M, P]):  # lower case: used as a decorator, like property
    """Marks a mailer method as an action. Every public method of a ``Mailer``
    subclass is made one; the decorator is for type checkers, which then see
    ``UserMailer.welcome(user)`` return a :class:`MessageDelivery`.

    Example::

        class UserMailer(Mailer):
            @action
            def welcome(self, user: User) -> EmailMessage:
                return self.mail(to=user.email, subject="Welcome", text="Hi")
    """

    def __init__(self, function: Callable[Concatenate[M, P], EmailMessage | None]) -> None:
        self.function = function
        self.name = function.__name__
        functools.update_wrapper(self, function)  # type: ignore[arg-type]

    @overload
    def __get__(self, instance: None, owner: type[M]) -> Callable[P, MessageDelivery]: ...

    @overload
    def __get__(
        self, instance: M, owner: type[M] | None = None
    ) -> Callable[P, EmailMessage | None]: ...

    def __get__(self, instance: M | None, owner: type[M] | None = None) -> Any:
        if instance is not None:
            return MethodType(self.function, instance)
        assert owner is not None
        return functools.partial(_delivery_of, owner, self.name)


def _delivery_of(mailer: type[Mailer], name: str, *args: Any, **kwargs: Any) -> MessageDelivery:
    return MessageDelivery(mailer, name, args, kwargs)


class Mailer:
    """Base class of mailers: subclass it, set the defaults, write actions that
    call :meth:`mail`.

    Class defaults: ``default_from`` (required, on the class or as ``from_=``),
    ``default_reply_to``, ``default_cc``, ``default_bcc``, ``default_headers``;
    ``deliver_later_queue`` and ``deliver_later_priority`` for the delivery job
    (the ``mailers`` queue by default); ``delivery_job`` (a subclass of
    :class:`~activejob.mail.delivery.MailDeliveryJob` for other retry rules);
    ``template_dir`` and ``mailer_name`` for templates.

    Example::

        class UserMailer(Mailer):
            default_from = "Shop <shop@example.com>"
            default_bcc = "archive@example.com"

            def welcome(self, user):
                return self.mail(to=user.email, subject=f"Welcome, {user.name}",
                                 text=f"Hello {user.name}!", html=f"<p>Hello {user.name}!</p>")
    """

    default_from: ClassVar[str | None] = None
    default_reply_to: ClassVar[Addresses] = None
    default_cc: ClassVar[Addresses] = None
    default_bcc: ClassVar[Addresses] = None
    default_headers: ClassVar[Mapping[str, str]] = {}
    deliver_later_queue: ClassVar[str | None] = None
    """The queue of ``deliver_later`` (``None``: the delivery job's, ``mailers``)."""
    deliver_later_priority: ClassVar[int | None] = None
    delivery_job: ClassVar[type[MailDeliveryJob]] = MailDeliveryJob
    template_dir: ClassVar[str | Path | None] = None
    """Where templates live; ``None``: ``templates/`` beside the mailer's module."""
    mailer_name: ClassVar[str]
    """The mailer's name in template paths: ``UserMailer`` is ``user_mailer``."""
    mailer_key: ClassVar[str]
    """The name a delivery job uses for this class (``module.QualName``)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "mailer_name" not in cls.__dict__:
            cls.mailer_name = re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()
        cls.mailer_key = f"{cls.__module__}.{cls.__qualname__}"
        for name, value in list(cls.__dict__.items()):
            if _is_action(name, value):
                setattr(cls, name, action(value))
        if not issubclass(cls.delivery_job, DeliveryJob):
            raise TypeError(f"{cls.__qualname__}.delivery_job must be a MailDeliveryJob subclass")
        with _lock:
            _mailers[cls.mailer_key] = cls

    def __init__(self, action_name: str = "") -> None:
        self.action_name = action_name
        """The action being run."""
        self.message: EmailMessage | None = None
        """The message :meth:`mail` built, if it was called."""

    def mail(
        self,
        *,
        to: Addresses = None,
        cc: Addresses = None,
        bcc: Addresses = None,
        reply_to: Addresses = None,
        subject: str = "",
        text: str | None = None,
        html: str | None = None,
        attachments: Attachments | None = None,
        headers: Mapping[str, str] | None = None,
        from_: str | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> EmailMessage:
        """Build this action's message; the class defaults fill what is not given.

        Without ``text`` and ``html`` the bodies come from the templates
        ``<template_dir>/<mailer_name>/<action>.txt`` and ``.html`` (see
        :mod:`activejob.mail.templates`), rendered with ``context`` and the
        mailer's public attributes.

        Example::

            return self.mail(to=user.email, subject="Invoice", text="Attached.",
                             attachments={"invoice.pdf": pdf_bytes})
        """
        sender = from_ or self.default_from
        if not sender:
            raise ConfigurationError(
                f"{type(self).__qualname__}.{self.action_name or 'mail'}: no sender; set "
                "default_from on the mailer or pass from_="
            )
        if text is None and html is None:
            text, html = self._render(context or {})
        self.message = build_message(
            sender=sender,
            to=to,
            cc=cc if cc is not None else self.default_cc,
            bcc=bcc if bcc is not None else self.default_bcc,
            reply_to=reply_to if reply_to is not None else self.default_reply_to,
            subject=subject,
            text=text,
            html=html,
            attachments=attachments,
            headers={**self.default_headers, **(headers or {})},
        )
        return self.message

    def _render(self, context: Mapping[str, Any]) -> tuple[str | None, str | None]:
        directory = self.templates_directory()
        files = templates.find_templates(directory, self.mailer_name, self.action_name)
        if not files:
            raise ConfigurationError(
                f"{type(self).__qualname__}.{self.action_name}: mail() got no text= or html=, "
                f"and there is no template {directory / self.mailer_name / self.action_name}"
                ".txt or .html"
            )
        public = {k: v for k, v in vars(self).items() if not k.startswith("_")}
        rendered = templates.render(directory, files, {**public, **context, "mailer": self})
        return rendered.get("text"), rendered.get("html")

    @classmethod
    def templates_directory(cls) -> Path:
        """Where this mailer's templates are looked up."""
        if cls.template_dir is not None:
            return Path(cls.template_dir)
        module = sys.modules.get(cls.__module__)
        where = getattr(module, "__file__", None)
        return (Path(where).parent if where else Path.cwd()) / "templates"

    @classmethod
    def build(
        cls, action_name: str, args: list[Any] | tuple[Any, ...], kwargs: dict[str, Any]
    ) -> EmailMessage | None:
        """Run the action and return its message (``None`` if it never called ``mail``).

        Example::

            UserMailer.build("welcome", [user], {})
        """
        if not isinstance(_lookup_attr(cls, action_name), action):
            raise DeserializationError(
                f"{cls.__qualname__} has no action {shorten(repr(action_name))}"
            )
        mailer = cls(action_name)
        returned = getattr(mailer, action_name)(*args, **kwargs)
        if isinstance(returned, EmailMessage):
            return returned
        return mailer.message


def _lookup_attr(cls: type, name: str) -> object:
    for klass in cls.__mro__:
        if name in klass.__dict__:
            return klass.__dict__[name]
    return None


def _is_action(name: str, value: object) -> bool:
    if name.startswith("_") or hasattr(Mailer, name):
        return False
    return callable(value) and not isinstance(value, (type, staticmethod, classmethod, action))


def mailer_class(key: str) -> type[Mailer]:
    """The mailer a delivery job names, or ``DeserializationError`` with the fix."""
    with _lock:
        found = _mailers.get(key)
    if found is None:
        module = key.rpartition(".")[0] or "MODULE"
        raise DeserializationError(
            f"unknown mailer {shorten(repr(key))}: no Mailer subclass of that name is defined "
            f"in this process (start the worker with --import {shorten(module)})"
        )
    return found


class MessageDelivery:
    """A mailer action not run yet: deliver it now or later.

    Made by calling an action on the class (``UserMailer.welcome(user)``). The
    action runs once, when :attr:`message` is first read or on
    :meth:`deliver_now`; :meth:`deliver_later` runs it in the worker instead.

    Example::

        delivery = UserMailer.welcome(user)
        delivery.deliver_later(queue="priority_mailers")
    """

    def __init__(
        self, mailer: type[Mailer], action_name: str, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        self.mailer = mailer
        self.action_name = action_name
        self.args = args
        self.kwargs = kwargs
        self._built = False
        self._message: EmailMessage | None = None

    @property
    def message(self) -> EmailMessage | None:
        """The message, built here by running the action (``None`` if it sent none)."""
        if not self._built:
            self._message = self.mailer.build(self.action_name, self.args, self.kwargs)
            self._built = True
        return self._message

    def deliver_now(self) -> EmailMessage | None:
        """Run the action and deliver its message here, now; returns the message."""
        message = self.message
        if message is not None:
            deliver_message(message)
        return message

    def deliver_later(
        self,
        *,
        wait: float | timedelta | None = None,
        wait_until: datetime | None = None,
        queue: str | None = None,
        priority: int | None = None,
    ) -> Job:
        """Enqueue a delivery job that runs the action in a worker; returns the job.

        Example::

            UserMailer.welcome(user).deliver_later(wait=timedelta(hours=1), queue="mailers")
        """
        return self._job(wait, wait_until, queue, priority).enqueue()

    async def adeliver_later(
        self,
        *,
        wait: float | timedelta | None = None,
        wait_until: datetime | None = None,
        queue: str | None = None,
        priority: int | None = None,
    ) -> Job:
        """:meth:`deliver_later` for async code: the enqueue never blocks the loop."""
        return await self._job(wait, wait_until, queue, priority).aenqueue()

    def _job(
        self,
        wait: float | timedelta | None,
        wait_until: datetime | None,
        queue: str | None,
        priority: int | None,
    ) -> MailDeliveryJob:
        if self._built:
            raise RuntimeError(
                f"{self!r}: the message was already built here, so changes made to it would "
                "be lost in the worker, which runs the action again; call deliver_now(), or "
                "deliver_later() without reading .message first"
            )
        job = self.mailer.delivery_job(
            self.mailer.mailer_key, self.action_name, list(self.args), dict(self.kwargs)
        )
        job.apply_options(
            EnqueueOptions(
                wait=wait,
                wait_until=wait_until,
                queue=queue if queue is not None else self.mailer.deliver_later_queue,
                priority=priority if priority is not None else self.mailer.deliver_later_priority,
            )
        )
        return job

    def __repr__(self) -> str:
        return f"<MessageDelivery {self.mailer.__qualname__}.{self.action_name}>"
