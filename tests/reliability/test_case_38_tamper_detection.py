"""Case 38: with the append-only triggers dropped, an edited or deleted audit row is found.

Runs on a scratch database (the subprocess pattern), so the shared test database keeps its
triggers; the scratch database gets its rows and triggers back at the end. Pass:
``careledger verify-audit-chain`` reports the first broken link and exits non-zero.
"""

from __future__ import annotations

from tests.reliability._helpers_b import new_slug, run_command, run_script

PRELUDE = r"""
import json
from importlib import import_module
from django.db import connection
append_only = import_module("careledger.audit.migrations.0002_append_only_triggers")
postgres = connection.vendor == "postgresql"

def sql(statement, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, list(params))

def triggers(on):
    if on:
        statements = append_only.POSTGRES if postgres else append_only.SQLITE
    else:
        statements = append_only.POSTGRES_REVERSE if postgres else append_only.SQLITE_REVERSE
    for statement in statements:
        sql(statement)

def verify():
    import io
    from django.core.management import call_command
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_audit_chain", "--practice", SLUG, stdout=out, stderr=err)
    except SystemExit as exit_:
        return [int(exit_.code or 0), out.getvalue() + err.getvalue()]
    return [0, out.getvalue() + err.getvalue()]
"""

CREATE_AND_EDIT = r"""
from careledger.accounts.models import Practice
from careledger.audit.services import record_event
practice = Practice.objects.create(name="Tamper", slug=SLUG, timezone="America/Chicago",
                                   billing_npi="1234567893")
ids = [record_event("patient.viewed", actor=None, practice=practice, patient_id=n,
                    details={"n": n}).pk for n in range(1, 7)]
intact = verify()
triggers(False)
sql("UPDATE audit_auditevent SET patient_id = 99 WHERE id = %s", [ids[2]])
print(json.dumps({"ids": ids, "intact": intact}))
"""

UNDO_EDIT_THEN_DELETE = r"""
sql("UPDATE audit_auditevent SET patient_id = 3 WHERE id = %s", [IDS[2]])
repaired = verify()
sql("CREATE TABLE careledger_saved_audit AS SELECT * FROM audit_auditevent WHERE id = %s",
    [IDS[3]])
sql("DELETE FROM audit_auditevent WHERE id = %s", [IDS[3]])
deleted = verify()
sql("INSERT INTO audit_auditevent SELECT * FROM careledger_saved_audit")
sql("DROP TABLE careledger_saved_audit")
triggers(True)
print(json.dumps({"repaired": repaired, "deleted": deleted, "restored": verify()}))
"""


def test_case_38_an_edited_or_deleted_row_is_reported_as_the_first_broken_link() -> None:
    slug = new_slug()
    created = run_script(PRELUDE + CREATE_AND_EDIT, slug=slug)
    ids = created["ids"]
    assert created["intact"][0] == 0

    # The edited row, found by the command itself: first broken link, non-zero exit.
    done = run_command("verify-audit-chain", "--practice", slug)
    assert done.returncode != 0
    assert f"broken at event {ids[2]}: its contents do not match its hash" in done.stderr

    after = run_script(PRELUDE + UNDO_EDIT_THEN_DELETE.replace("IDS", repr(ids)), slug=slug)
    assert after["repaired"][0] == 0
    code, output = after["deleted"]
    assert code != 0
    assert f"broken at event {ids[4]}: its previous hash does not match" in output
    assert f"ids {ids[3]}-{ids[3]} are missing" in output
    assert after["restored"][0] == 0
