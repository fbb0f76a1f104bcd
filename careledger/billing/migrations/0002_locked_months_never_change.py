"""Refuse any write to an approved month's rows in the database itself (reliability case 15).

Services refuse first; these triggers are the last line against every other path (admin, raw
ORM ``.update()``, SQL). A locked month gains rows only as supplementary batches (``batch`` > 0)
and accepted amendments, which are themselves never changed or deleted.
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

LOCKED = "billing month is approved and locked; record an amendment instead"
MONTH = "billing_billingmonth"
IS_LOCKED = f"(SELECT status FROM {MONTH} WHERE id = {{row}}.billing_month_id) = 'approved'"

SQLITE = [
    f"""CREATE TRIGGER billing_month_locked_update BEFORE UPDATE ON {MONTH}
        WHEN OLD.status = 'approved'
        BEGIN SELECT RAISE(ABORT, '{LOCKED}'); END""",
    f"""CREATE TRIGGER billing_month_no_delete BEFORE DELETE ON {MONTH}
        BEGIN SELECT RAISE(ABORT, 'billing months are never deleted'); END""",
    f"""CREATE TRIGGER billing_line_locked_update BEFORE UPDATE ON billing_billingline
        WHEN {IS_LOCKED.format(row="OLD")}
        BEGIN SELECT RAISE(ABORT, '{LOCKED}'); END""",
    f"""CREATE TRIGGER billing_line_locked_delete BEFORE DELETE ON billing_billingline
        WHEN {IS_LOCKED.format(row="OLD")}
        BEGIN SELECT RAISE(ABORT, '{LOCKED}'); END""",
    f"""CREATE TRIGGER billing_line_locked_insert BEFORE INSERT ON billing_billingline
        WHEN NEW.batch = 0 AND {IS_LOCKED.format(row="NEW")}
        BEGIN SELECT RAISE(ABORT, '{LOCKED}'); END""",
    f"""CREATE TRIGGER billing_pm_locked_update BEFORE UPDATE ON billing_patientmonth
        WHEN {IS_LOCKED.format(row="OLD")}
        BEGIN SELECT RAISE(ABORT, '{LOCKED}'); END""",
    f"""CREATE TRIGGER billing_pm_locked_delete BEFORE DELETE ON billing_patientmonth
        WHEN {IS_LOCKED.format(row="OLD")}
        BEGIN SELECT RAISE(ABORT, '{LOCKED}'); END""",
    f"""CREATE TRIGGER billing_pm_locked_insert BEFORE INSERT ON billing_patientmonth
        WHEN {IS_LOCKED.format(row="NEW")}
        BEGIN SELECT RAISE(ABORT, '{LOCKED}'); END""",
    """CREATE TRIGGER billing_amendment_no_update BEFORE UPDATE ON billing_amendment
        BEGIN SELECT RAISE(ABORT, 'amendments are never changed'); END""",
    """CREATE TRIGGER billing_amendment_no_delete BEFORE DELETE ON billing_amendment
        BEGIN SELECT RAISE(ABORT, 'amendments are never changed'); END""",
]
SQLITE_REVERSE = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in (
        "billing_month_locked_update",
        "billing_month_no_delete",
        "billing_line_locked_update",
        "billing_line_locked_delete",
        "billing_line_locked_insert",
        "billing_pm_locked_update",
        "billing_pm_locked_delete",
        "billing_pm_locked_insert",
        "billing_amendment_no_update",
        "billing_amendment_no_delete",
    )
]

POSTGRES = [
    f"""CREATE OR REPLACE FUNCTION careledger_billing_month_guard() RETURNS trigger AS $$
       BEGIN
         IF TG_OP = 'DELETE' THEN
           RAISE EXCEPTION 'billing months are never deleted';
         END IF;
         IF OLD.status = 'approved' THEN
           RAISE EXCEPTION '{LOCKED}';
         END IF;
         RETURN NEW;
       END;
       $$ LANGUAGE plpgsql""",
    f"""CREATE OR REPLACE FUNCTION careledger_billing_row_guard() RETURNS trigger AS $$
       DECLARE month_id bigint;
       BEGIN
         IF TG_OP = 'INSERT' THEN
           month_id := NEW.billing_month_id;
           IF TG_TABLE_NAME = 'billing_billingline' THEN
             IF NEW.batch > 0 THEN
               RETURN NEW;
             END IF;
           END IF;
         ELSE
           month_id := OLD.billing_month_id;
         END IF;
         IF (SELECT status FROM {MONTH} WHERE id = month_id) = 'approved' THEN
           RAISE EXCEPTION '{LOCKED}';
         END IF;
         IF TG_OP = 'DELETE' THEN
           RETURN OLD;
         END IF;
         RETURN NEW;
       END;
       $$ LANGUAGE plpgsql""",
    """CREATE OR REPLACE FUNCTION careledger_billing_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'amendments are never changed'; END;
       $$ LANGUAGE plpgsql""",
    f"""CREATE TRIGGER billing_month_guard BEFORE UPDATE OR DELETE ON {MONTH}
        FOR EACH ROW EXECUTE FUNCTION careledger_billing_month_guard()""",
    """CREATE TRIGGER billing_line_guard BEFORE INSERT OR UPDATE OR DELETE ON billing_billingline
        FOR EACH ROW EXECUTE FUNCTION careledger_billing_row_guard()""",
    """CREATE TRIGGER billing_pm_guard BEFORE INSERT OR UPDATE OR DELETE ON billing_patientmonth
        FOR EACH ROW EXECUTE FUNCTION careledger_billing_row_guard()""",
    """CREATE TRIGGER billing_amendment_guard BEFORE UPDATE OR DELETE ON billing_amendment
        FOR EACH ROW EXECUTE FUNCTION careledger_billing_append_only()""",
    f"""CREATE TRIGGER billing_no_truncate BEFORE TRUNCATE ON {MONTH}
        FOR EACH STATEMENT EXECUTE FUNCTION careledger_billing_append_only()""",
]
POSTGRES_REVERSE = [
    f"DROP TRIGGER IF EXISTS billing_month_guard ON {MONTH}",
    f"DROP TRIGGER IF EXISTS billing_no_truncate ON {MONTH}",
    "DROP TRIGGER IF EXISTS billing_line_guard ON billing_billingline",
    "DROP TRIGGER IF EXISTS billing_pm_guard ON billing_patientmonth",
    "DROP TRIGGER IF EXISTS billing_amendment_guard ON billing_amendment",
    "DROP FUNCTION IF EXISTS careledger_billing_month_guard()",
    "DROP FUNCTION IF EXISTS careledger_billing_row_guard()",
    "DROP FUNCTION IF EXISTS careledger_billing_append_only()",
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
        raise RuntimeError(f"no locked-month triggers for {vendor}; add them before using it")


def backwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    vendor = schema_editor.connection.vendor
    _run(SQLITE_REVERSE if vendor == "sqlite" else POSTGRES_REVERSE, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
