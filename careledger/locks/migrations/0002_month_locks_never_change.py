"""Refuse any change to a month lock in the database itself (reliability case 15).

Deleting or moving a ``MonthLock`` would reopen an approved month silently: late entries would no
longer need a reason or become amendments. Locks are only ever added.
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

TABLE = "locks_monthlock"
MESSAGE = "month locks are never changed or deleted"

SQLITE = [
    f"""CREATE TRIGGER locks_monthlock_no_update BEFORE UPDATE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    f"""CREATE TRIGGER locks_monthlock_no_delete BEFORE DELETE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS locks_monthlock_no_update",
    "DROP TRIGGER IF EXISTS locks_monthlock_no_delete",
]
POSTGRES = [
    f"""CREATE OR REPLACE FUNCTION careledger_month_lock_guard() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION '{MESSAGE}'; END;
       $$ LANGUAGE plpgsql""",
    f"""CREATE TRIGGER locks_monthlock_guard BEFORE UPDATE OR DELETE ON {TABLE}
        FOR EACH ROW EXECUTE FUNCTION careledger_month_lock_guard()""",
    f"""CREATE TRIGGER locks_monthlock_no_truncate BEFORE TRUNCATE ON {TABLE}
        FOR EACH STATEMENT EXECUTE FUNCTION careledger_month_lock_guard()""",
]
POSTGRES_REVERSE = [
    f"DROP TRIGGER IF EXISTS locks_monthlock_guard ON {TABLE}",
    f"DROP TRIGGER IF EXISTS locks_monthlock_no_truncate ON {TABLE}",
    "DROP FUNCTION IF EXISTS careledger_month_lock_guard()",
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
        raise RuntimeError(f"no month-lock triggers for {vendor}; add them before using it")


def backwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    vendor = schema_editor.connection.vendor
    _run(SQLITE_REVERSE if vendor == "sqlite" else POSTGRES_REVERSE, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("locks", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
