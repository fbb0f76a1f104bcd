"""Chain every audit row to the one before it with SHA-256 (case 38), backfilling existing rows.

The append-only triggers of 0002 refuse the UPDATE the backfill needs, so they are dropped first
and installed again last, with 0002's own statements. On SQLite, adding a NOT NULL column makes
Django rebuild the table, and the rebuilt table has no triggers at all: installing them again
after the columns are added covers that too. The whole migration runs in one transaction on both
databases, so the log is never left unguarded.
"""

from importlib import import_module

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

from careledger.audit import chain

append_only = import_module("careledger.audit.migrations.0002_append_only_triggers")

BATCH = 1000


def backfill(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    """Hash the existing rows in id order and point the chain head at the last one."""
    event_model = apps.get_model("audit", "AuditEvent")
    head_model = apps.get_model("audit", "AuditChainHead")
    db = schema_editor.connection.alias
    rows = event_model.objects.using(db).order_by("id")
    prev_hash, last_id = chain.GENESIS, None
    while True:
        batch = list(rows.filter(id__gt=last_id or 0).values(*chain.FIELDS)[:BATCH])
        if not batch:
            break
        changed = []
        for row in batch:
            digest = chain.row_hash(prev_hash, row)
            changed.append(event_model(id=row["id"], prev_hash=prev_hash, row_hash=digest))
            prev_hash, last_id = digest, row["id"]
        event_model.objects.using(db).bulk_update(changed, ["prev_hash", "row_hash"])
    head_model.objects.using(db).update_or_create(
        pk=1, defaults={"last_event_id": last_id, "last_hash": prev_hash}
    )


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only_triggers")]

    operations = [
        # Reversed last: the guard comes back once the columns are gone.
        migrations.RunPython(append_only.backwards, append_only.forwards, elidable=False),
        migrations.CreateModel(
            name="AuditChainHead",
            fields=[
                (
                    "id",
                    models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False),
                ),
                ("last_event_id", models.BigIntegerField(blank=True, null=True)),
                ("last_hash", models.CharField(max_length=64)),
            ],
        ),
        migrations.AddField(
            model_name="auditevent",
            name="prev_hash",
            field=models.CharField(default="", editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="row_hash",
            field=models.CharField(default="", editable=False, max_length=64),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=False),
        # Reversed first: drop the guard so the columns can be removed.
        migrations.RunPython(append_only.forwards, append_only.backwards, elidable=False),
    ]
