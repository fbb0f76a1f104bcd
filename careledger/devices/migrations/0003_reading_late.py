"""Mark readings measured in a locked month as late (case 26), and keep the triggers whole.

SQLite cannot add a NOT NULL column in place: Django rebuilds the table, and the rebuilt table
has none of migration 0002's triggers. So the guard is installed again after the columns are
added, now also fixing ``late`` and ``late_reason``: both are decided once, when the reading
arrives. Only the exclusion columns may still change.
"""

from importlib import import_module

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

previous = import_module("careledger.devices.migrations.0002_readings_are_never_changed")

TABLE = previous.TABLE
FIXED = (*previous.FIXED, "late", "late_reason")

SQLITE = [
    *previous.SQLITE_REVERSE,
    f"""CREATE TRIGGER devices_reading_no_delete BEFORE DELETE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, 'readings are never deleted; exclude them'); END""",
    f"""CREATE TRIGGER devices_reading_no_edit BEFORE UPDATE OF {", ".join(FIXED)} ON {TABLE}
        BEGIN SELECT RAISE(ABORT, 'readings are never edited; exclude them'); END""",
]

_CHANGED = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in FIXED)
# The trigger of 0002 stays; only the function it calls learns the new columns.
POSTGRES = [
    f"""CREATE OR REPLACE FUNCTION careledger_reading_guard() RETURNS trigger AS $$
       BEGIN
         IF TG_OP = 'DELETE' THEN
           RAISE EXCEPTION 'readings are never deleted; exclude them';
         END IF;
         IF {_CHANGED} THEN
           RAISE EXCEPTION 'readings are never edited; exclude them';
         END IF;
         RETURN NEW;
       END;
       $$ LANGUAGE plpgsql""",
]


def forwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        previous._run(SQLITE, schema_editor)
    elif vendor == "postgresql":
        previous._run(POSTGRES, schema_editor)
    else:
        raise RuntimeError(f"no reading triggers for {vendor}; add them before using it")


class Migration(migrations.Migration):
    dependencies = [("devices", "0002_readings_are_never_changed")]

    operations = [
        # Reversed last: 0002's guard comes back once the columns are gone.
        migrations.RunPython(migrations.RunPython.noop, previous.forwards, elidable=False),
        migrations.AddField(
            model_name="reading",
            name="late",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="reading",
            name="late_reason",
            field=models.CharField(blank=True, max_length=200),
        ),
        # Reversed first: drop the guard so the columns it names can be removed.
        migrations.RunPython(forwards, previous.backwards, elidable=False),
    ]
