"""Every mail test starts with no mail URL and an empty ``deliveries``, and puts
the setting back after."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

import activejob.mail
from activejob.config import get_config
from activejob.mail.settings import OPTION
from tests.mail.smtp_server import certificate_authority


@pytest.fixture(autouse=True)
def _fresh_mail_settings() -> Iterator[None]:
    options = get_config().options
    previous = options.pop(OPTION, None)
    activejob.mail.deliveries.clear()
    yield
    activejob.mail.deliveries.clear()
    options.pop(OPTION, None)
    if previous is not None:
        options[OPTION] = previous


@pytest.fixture(scope="session")
def ca(tmp_path_factory: pytest.TempPathFactory) -> tuple[trustme.CA, Path]:
    """A throwaway certificate authority for the test servers' certificates."""
    return certificate_authority(tmp_path_factory.mktemp("ca"))
