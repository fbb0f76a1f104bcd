"""Two closes of one month at once give one result; entries posted meanwhile are never lost.

On PostgreSQL the closes race in real threads and connections. Threads need committed rows,
which ordinary (rolled-back) tests never have, and flushing is impossible (the audit log refuses
deletes), so that test runs a small careledger on a scratch database in a subprocess, as
tests/devices/test_concurrent_delivery.py does. SQLite serializes writers (IMMEDIATE
transactions): there the database's unique constraint is what keeps a second billing month out.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import dj_database_url
import pytest
from django.db import IntegrityError, transaction

from careledger.billing.close import close_month
from careledger.billing.models import BillingMonth
from tests.billing.builders import MONTH, NOW, rpm_patient
from tests.conftest import PracticeWorld

ROOT = Path(__file__).resolve().parents[2]
CARELEDGER = Path(sys.executable).parent / "careledger"
URL = os.environ.get("DATABASE_URL", "")
POSTGRES = URL.startswith(("postgres://", "postgresql://"))

SCRIPT = r"""
import json, threading
from datetime import UTC, date, datetime, timedelta
from django.db import connection
from careledger.accounts.access import PracticeContext
from careledger.accounts.models import Membership, Practice, User
from careledger.billing.close import close_month, decide_month
from careledger.billing.decide import facts_sha256
from careledger.billing.models import BillingLine, BillingMonth, PatientMonth
from careledger.billing.months import parse_month
from careledger.patients.models import Condition, Enrollment, Patient, Visit
from careledger.timelog.services import Contact, log_contact

now = datetime(2026, 5, 4, 15, 0, tzinfo=UTC)
practice = Practice.objects.create(name="Race", slug="race", timezone="America/Chicago",
                                   billing_npi="1234567893")
doctor = User.objects.create(username="doc")
Membership.objects.create(user=doctor, practice=practice, role="practitioner",
                          credential="MD", npi="1245319599")
nurses = []
for n in range(2):
    user = User.objects.create(username=f"rn{n}")
    nurses.append(Membership.objects.create(user=user, practice=practice, role="coordinator",
                                            credential="RN"))
patients = []
for n in range(3):
    p = Patient.objects.create(practice=practice, mrn=f"R{n}", given_name="A", family_name="B",
                               birth_date=date(1950, 1, 1), sex="female", mbi="1EG4TE5MK73",
                               created_at=now)
    Condition.objects.create(patient=p, icd10_code="I10", description="", created_at=now)
    Visit.objects.create(patient=p, practitioner=doctor, visited_on=date(2026, 1, 5), kind="em",
                         created_at=now)
    Enrollment.objects.create(patient=p, program="RPM", status="active",
                              billing_practitioner=doctor, started_on=date(2026, 1, 1),
                              consent_on=date(2026, 1, 1), consent_method="verbal",
                              ordered_on=date(2026, 1, 1), ordering_practitioner=doctor,
                              created_at=now)
    patients.append(p)
month = parse_month("2026-04", "America/Chicago")
errors, lock = [], threading.Lock()
start = threading.Barrier(6)

def close():
    start.wait()
    try:
        close_month(practice=practice, month=month, actor=None, now=now)
    except Exception as error:
        with lock:
            errors.append(repr(error))
    finally:
        connection.close()

def post(n):
    member = nurses[n % 2]
    ctx = PracticeContext(user=member.user, membership=member, source_ip=None)
    start.wait()
    try:
        for k, p in enumerate(patients):
            begin = datetime(2026, 4, 6 + n, 14 + k, 0, tzinfo=UTC)
            log_contact(ctx=ctx, patient=p, now=begin + timedelta(hours=1), contact=Contact(
                program="RPM", kind="interactive_call", outcome="reached",
                started_at=begin, ended_at=begin + timedelta(minutes=11),
                summary="Reviewed readings. Adjusted the plan."))
    except Exception as error:
        with lock:
            errors.append(repr(error))
    finally:
        connection.close()

threads = [threading.Thread(target=close) for _ in range(4)]
threads += [threading.Thread(target=post, args=(n,)) for n in range(2)]
for t in threads: t.start()
for t in threads: t.join()
billing_month = BillingMonth.objects.get(practice=practice)
stored_ids = {e for pm in PatientMonth.objects.filter(billing_month=billing_month)
              for ids in pm.entry_ids.values() for e in ids}
current = facts_sha256(d.built.facts for ds in decide_month(practice=practice,
                                                            month=month).values() for d in ds)
keys = list(BillingLine.objects.values_list("patient_id", "code", "dos"))
print(json.dumps({
    "errors": errors,
    "months": BillingMonth.objects.count(),
    "close_count": billing_month.close_count,
    "duplicate_lines": len(keys) - len(set(keys)),
    "entries": sorted(e for p in patients for e in p.time_entries.values_list("id", flat=True)),
    "stored_ids": sorted(stored_ids),
    "hash_current": billing_month.facts_sha256 == current,
}))
"""


def _admin_url(name: str) -> str:
    config = dj_database_url.parse(URL)
    user = config.get("USER") or "postgres"
    host = config.get("HOST") or "127.0.0.1"
    port = config.get("PORT") or 5432
    return f"postgres://{user}@{host}:{port}/{name}"


def _race_on_postgres() -> dict[str, object]:
    import psycopg

    name = f"careledger_close_{uuid.uuid4().hex[:10]}"
    admin = psycopg.connect(_admin_url("postgres"), autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, "DATABASE_URL": _admin_url(name), "PYTHONDONTWRITEBYTECODE": "1"}
    try:
        subprocess.run(
            [str(CARELEDGER), "migrate", "--no-input", "-v0"],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        run = subprocess.run(
            [str(CARELEDGER), "shell", "-c", SCRIPT],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
    assert run.returncode == 0, run.stderr[-4000:]
    result: dict[str, object] = json.loads(run.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.django_db
def test_two_concurrent_closes_of_one_month_produce_one_result(world: PracticeWorld) -> None:
    if POSTGRES:
        outcome = _race_on_postgres()
        assert outcome["errors"] == []
        assert outcome["months"] == 1
        assert outcome["close_count"] == 4
        assert outcome["duplicate_lines"] == 0
        # Case 21: each entry posted while the closes ran is in the stored facts, or the
        # stored facts hash no longer matches the records, so the next close (or, after
        # approval, a pending amendment) picks it up.
        entries = set(outcome["entries"])  # type: ignore[arg-type]
        stored = set(outcome["stored_ids"])  # type: ignore[arg-type]
        assert len(entries) == 6
        assert entries == stored or outcome["hash_current"] is False
        return
    # SQLite: writers are serialized; the unique constraint keeps the month single.
    rpm_patient(world, 22)
    close_month(practice=world.practice, month=MONTH, actor=None, now=NOW)
    close_month(practice=world.practice, month=MONTH, actor=None, now=NOW)
    assert BillingMonth.objects.filter(practice=world.practice).count() == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        BillingMonth.objects.create(practice=world.practice, month=MONTH.label, created_at=NOW)
