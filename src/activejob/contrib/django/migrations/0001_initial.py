"""Create activejob's tables with ``manage.py migrate``.

The versioned SQL migrations of the database's dialect are applied by activejob's
own runner (the same one as ``activejob migrate``), so both agree on the schema
version; on SQLite and PostgreSQL they run inside Django's migration transaction.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations  # type: ignore[import-untyped, unused-ignore]

from activejob.contrib.django.schema import apply_schema


def _forwards(apps: Any, schema_editor: Any) -> None:
    apply_schema(schema_editor.connection)


class Migration(migrations.Migration):  # type: ignore[misc, unused-ignore]
    initial = True
    dependencies: list[tuple[str, str]] = []
    operations = [migrations.RunPython(_forwards, migrations.RunPython.noop, elidable=False)]
