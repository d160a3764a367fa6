"""The words of a GlobalID: app and model names, and the shape of a model id.

The lowest module of :mod:`activejob.globalid`: the model registries
(:mod:`~activejob.globalid.model`), the locators and :class:`GlobalID` itself all
check names here, and nothing here imports them.
"""

from __future__ import annotations

import re

from activejob.globalid.errors import InvalidGlobalID

__all__ = ["MAX_COMPOSITE_PARTS", "ModelId", "check_app", "check_model_name"]

ModelId = str | tuple[str, ...]
"""A model id as a GlobalID carries it: text, or a tuple of texts for a composite key."""

#: The most parts a composite id may have (Rails' limit too).
MAX_COMPOSITE_PARTS = 20

# App names are URI host names: letters, digits and hyphens.
_APP = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
# Model names: Python (`shop.models.User`), Django (`shop.User`) and Ruby (`Admin::User`)
# class names, and nothing that would need escaping in a URI path.
_MODEL = re.compile(r"[A-Za-z_][A-Za-z0-9_.:-]{0,199}")


def check_app(app: object) -> str:
    """``app`` lowercased (host names ignore case), or ``InvalidGlobalID``."""
    if not isinstance(app, str) or not _APP.fullmatch(app):
        raise InvalidGlobalID(
            f"{app!r} is not a valid GlobalID app name: use letters, digits and hyphens"
        )
    return app.lower()


def check_model_name(name: object) -> str:
    """``name`` if it can be the ``<Model>`` part of a GlobalID, else ``InvalidGlobalID``."""
    if not isinstance(name, str) or not _MODEL.fullmatch(name):
        raise InvalidGlobalID(
            f"{name!r} is not a valid GlobalID model name: letters, digits and '_.:-', "
            "starting with a letter or '_'"
        )
    return name
