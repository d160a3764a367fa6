"""Keep the return values of succeeded jobs (the ``return_value`` column, for
``django.tasks``' ``TaskResult.return_value``): applies activejob's pending SQL
migrations, as ``0001_initial`` does, on a database migrated before they existed."""

from __future__ import annotations

from typing import Any

from django.db import migrations  # type: ignore[import-untyped, unused-ignore]

from activejob.contrib.django.schema import apply_schema


def _forwards(apps: Any, schema_editor: Any) -> None:
    apply_schema(schema_editor.connection)


class Migration(migrations.Migration):  # type: ignore[misc, unused-ignore]
    dependencies = [("activejob", "0001_initial")]
    operations = [migrations.RunPython(_forwards, migrations.RunPython.noop, elidable=False)]
