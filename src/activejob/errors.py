"""The exceptions activejob raises.

Every exception derives from :class:`ActiveJobError`, so ``except ActiveJobError``
catches anything the library itself refuses. :class:`Abort` is the exception a
callback raises to stop a chain; it is not an error.
"""

from __future__ import annotations


class ActiveJobError(Exception):
    """Base class of every error raised by activejob."""


class ConfigurationError(ActiveJobError):
    """The configuration names something that cannot work (an unknown adapter, ...)."""


class SerializationError(ActiveJobError, TypeError):
    """An argument cannot be turned into JSON; nothing was enqueued.

    The message names the argument (position or keyword, and the path inside
    containers) and its type::

        SerializationError: argument 'user' (keyword) of type 'Session' is not supported
    """


class DeserializationError(ActiveJobError):
    """A payload cannot be turned back into a job or its arguments.

    Raised for a malformed payload, an unknown job class, an unknown argument
    type or a record that no longer exists. Workers record such a job as failed;
    a job may ``discard_on(DeserializationError)`` to drop it instead.
    """


class UnknownJobClassError(DeserializationError):
    """The payload names a job class that is not a registered ``Job`` subclass."""


class RecordNotFound(DeserializationError):
    """A GlobalID argument points at a record that no longer exists."""


class EnqueueError(ActiveJobError):
    """The backend refused the job; the cause is chained as ``__cause__``."""


class Abort(Exception):
    """Raised by a *before* callback to stop the chain.

    A before-enqueue callback that raises ``Abort`` leaves the job unenqueued
    (``successfully_enqueued is False``); a before-perform callback that raises
    it skips ``perform``.
    """
