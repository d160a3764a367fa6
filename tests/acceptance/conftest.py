"""The session databases every acceptance module's ``backend`` may need, so a module
need not import each by name."""

from __future__ import annotations

from tests.acceptance.cli_backends import mysql_cli_database

__all__ = ["mysql_cli_database"]
