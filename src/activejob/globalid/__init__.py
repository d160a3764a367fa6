"""GlobalID: pass records to jobs by reference, loaded fresh when the job runs.

``perform_later(user)`` stores ``gid://<app>/<Model>/<id>`` in the payload; the
worker loads the record again before ``perform``. A record deleted meanwhile
raises :class:`activejob.RecordNotFound`, which a job may ``discard_on``; a
database that cannot be reached raises its own error, so the job is retried or
fails instead of vanishing.

SQLAlchemy 2.x models (after ``activejob.globalid.sqlalchemy.configure``) and
Django models work out of the box; any other class can take part by
implementing :class:`Locatable` and being registered::

    from activejob.globalid import GlobalID, locate, register_model

    @register_model
    class Invoice:
        ...                                     # an `id` and a classmethod `locate(id)`

    gid = GlobalID.create(invoice)              # gid://activejob/billing.Invoice/7
    assert locate(str(gid)).id == invoice.id

See ``docs/globalid.md``.
"""

from __future__ import annotations

from activejob.errors import RecordNotFound
from activejob.globalid.errors import (
    BadSignature,
    ExpiredGlobalID,
    InvalidGlobalID,
    InvalidSignedGlobalID,
    ModelNotAllowed,
    UnknownModel,
    WrongPurpose,
)
from activejob.globalid.gid import GlobalID, ModelId, locate, locate_many
from activejob.globalid.locators import (
    DefaultLocator,
    Locator,
    locator_for,
    register_locator,
    unregister_locator,
)
from activejob.globalid.model import (
    Locatable,
    ModelType,
    register_model,
    registered_models,
    unregister_model,
)
from activejob.globalid.signed import SignedGlobalID, locate_signed

__all__ = [
    "BadSignature",
    "DefaultLocator",
    "ExpiredGlobalID",
    "GlobalID",
    "InvalidGlobalID",
    "InvalidSignedGlobalID",
    "Locatable",
    "Locator",
    "ModelId",
    "ModelNotAllowed",
    "ModelType",
    "RecordNotFound",
    "SignedGlobalID",
    "UnknownModel",
    "WrongPurpose",
    "locate",
    "locate_many",
    "locate_signed",
    "locator_for",
    "register_locator",
    "register_model",
    "registered_models",
    "unregister_locator",
    "unregister_model",
]
