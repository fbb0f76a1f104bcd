"""Refuse DELETE of readings, and any change to what a reading measured, in the database itself.

Only the exclusion columns may change (a wrong reading is excluded, never edited or deleted).
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

TABLE = "devices_reading"
FIXED = (
    "practice_id", "patient_id", "device_id", "vendor_id", "batch_id", "program",
    "vendor_reading_id", "type", "measured_at", "measured_on", "received_at", "source",
    "systolic", "diastolic", "pulse", "value", "unit", "pef", "fasting", "original_value",
    "original_unit",
)

SQLITE = [
    f"""CREATE TRIGGER devices_reading_no_delete BEFORE DELETE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, 'readings are never deleted; exclude them'); END""",
    f"""CREATE TRIGGER devices_reading_no_edit BEFORE UPDATE OF {", ".join(FIXED)} ON {TABLE}
        BEGIN SELECT RAISE(ABORT, 'readings are never edited; exclude them'); END""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS devices_reading_no_delete",
    "DROP TRIGGER IF EXISTS devices_reading_no_edit",
]

_CHANGED = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in FIXED)
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
    f"""CREATE TRIGGER devices_reading_guard BEFORE UPDATE OR DELETE ON {TABLE}
        FOR EACH ROW EXECUTE FUNCTION careledger_reading_guard()""",
]
POSTGRES_REVERSE = [
    f"DROP TRIGGER IF EXISTS devices_reading_guard ON {TABLE}",
    "DROP FUNCTION IF EXISTS careledger_reading_guard()",
]


def _run(statements: list[str], schema_editor: BaseDatabaseSchemaEditor) -> None:
    for statement in statements:
        schema_editor.execute(statement)


def forwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        _run(SQLITE, schema_editor)
    elif vendor == "postgresql":
        _run(POSTGRES, schema_editor)
    else:
        raise RuntimeError(f"no reading triggers for {vendor}; add them before using it")


def backwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    vendor = schema_editor.connection.vendor
    _run(SQLITE_REVERSE if vendor == "sqlite" else POSTGRES_REVERSE, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("devices", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
