"""The same batch sent concurrently is stored once, and raises one alert (cases 22, 23).

Threads need committed rows, which ordinary (rolled-back) tests never have, and flushing is
impossible (the audit log refuses deletes). So this test runs a small careledger on a scratch
database in a subprocess, with real threads and connections, then drops it: a PostgreSQL
database when the suite runs on PostgreSQL, a SQLite file otherwise (where IMMEDIATE
transactions serialize the writers; the test then proves no "database is locked" reaches a
caller and nothing is stored twice).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import dj_database_url

ROOT = Path(__file__).resolve().parents[2]
CARELEDGER = Path(sys.executable).parent / "careledger"
URL = os.environ.get("DATABASE_URL", "")

POSTGRES = URL.startswith(("postgres://", "postgresql://"))

SCRIPT = r"""
import json, threading, time
from datetime import date, timedelta
from django.db import connection
from django.test import Client
from django.utils import timezone
from careledger.accounts.access import PracticeContext
from careledger.accounts.models import ApiToken, Membership, Practice, User
from careledger.audit.models import AuditEvent
from careledger.devices.models import Alert, Reading
from careledger.devices.services import Assignment, assign_device, create_vendor
from careledger.devices.webhooks import sign
from careledger.patients.models import Enrollment, Patient

now = timezone.now()
practice = Practice.objects.create(name="Race", slug="race", timezone="America/Chicago",
                                   billing_npi="1234567893")
user = User.objects.create(username="coord")
member = Membership.objects.create(user=user, practice=practice, role="coordinator",
                                   credential="RN")
ctx = PracticeContext(user=user, membership=member, source_ip=None)
patient = Patient.objects.create(practice=practice, mrn="R1", given_name="A", family_name="B",
                                 birth_date=date(1950, 1, 1), sex="female", created_at=now)
Enrollment.objects.create(patient=patient, program="RPM", status="active",
                          billing_practitioner=user, started_on=date(2025, 1, 1),
                          consent_on=date(2025, 1, 1), consent_method="verbal", created_at=now)
vendor = create_vendor(practice=practice, slug="acme", name="Acme", now=now)
device = assign_device(ctx=ctx, patient=patient, assignment=Assignment(
    "RPM", "blood_pressure", "acme", "SN-1", date(2025, 1, 1)), now=now)
key, key_hash = ApiToken.new_key()
ApiToken.objects.create(user=user, key_hash=key_hash, created_at=now,
                        expires_at=now + timedelta(hours=1))

at = (now - timedelta(minutes=30)).isoformat()
batch = [{"device_id": device.pk, "vendor_reading_id": f"r-{n}", "measured_at": at,
          "type": "blood_pressure", "systolic": 150 + n, "diastolic": 95, "unit": "mm[Hg]",
          "source": "automatic"} for n in range(20)]
batch.append({"device_id": device.pk, "vendor_reading_id": "crit", "measured_at": at,
              "type": "blood_pressure", "systolic": 199, "diastolic": 125, "unit": "mm[Hg]"})
body = json.dumps({"readings": batch})
answers, lock = [], threading.Lock()
start = threading.Barrier(12)

def post_api():
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}", HTTP_HOST="localhost")
    start.wait()
    response = client.post("/api/v1/readings", data=body, content_type="application/json")
    with lock:
        answers.append(("api", response.status_code, response.json()))
    connection.close()

base = int(time.time())

def post_webhook(n):
    raw = body.encode()
    stamp = str(base - n)  # each delivery signed afresh
    start.wait()
    response = Client(HTTP_HOST="localhost").post("/api/v1/webhooks/acme/readings", data=raw,
                             content_type="application/json",
                             HTTP_X_CARELEDGER_TIMESTAMP=stamp,
                             HTTP_X_CARELEDGER_SIGNATURE=sign(vendor.webhook_secret, stamp, raw))
    with lock:
        answers.append(("webhook", response.status_code, response.json()))
    connection.close()

threads = [threading.Thread(target=post_api) for _ in range(6)]
threads += [threading.Thread(target=post_webhook, args=(n,)) for n in range(6)]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps({
    "answers": answers,
    "readings": Reading.objects.count(),
    "alerts": list(Alert.objects.values_list("kind", "severity")),
    "refused": list(AuditEvent.objects.filter(event="webhook.refused").values_list("details")),
}))
"""


def _admin_url(name: str) -> str:
    config = dj_database_url.parse(URL)
    user = config.get("USER") or "postgres"
    host = config.get("HOST") or "127.0.0.1"
    port = config.get("PORT") or 5432
    return f"postgres://{user}@{host}:{port}/{name}"


def _scratch_database(tmp_path: Path) -> tuple[str, object]:
    """Return a fresh database URL and a function that drops it."""
    if not POSTGRES:
        return f"sqlite:///{tmp_path / 'race.sqlite3'}", lambda: None
    import psycopg

    name = f"careledger_race_{uuid.uuid4().hex[:10]}"
    admin = psycopg.connect(_admin_url("postgres"), autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()

    return _admin_url(name), drop


def test_the_same_batch_posted_and_delivered_concurrently_is_stored_once_with_one_alert(
    tmp_path: Path,
) -> None:
    url, drop = _scratch_database(tmp_path)
    env = {**os.environ, "DATABASE_URL": url, "PYTHONDONTWRITEBYTECODE": "1"}
    try:
        subprocess.run(
            [str(CARELEDGER), "migrate", "--no-input", "-v0"],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [str(CARELEDGER), "createcachetable"],
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
        drop()  # type: ignore[operator]
    assert run.returncode == 0, run.stderr[-4000:]
    outcome = json.loads(run.stdout.strip().splitlines()[-1])
    assert outcome["answers"], run.stderr[-3000:]
    assert [status for _, status, _ in outcome["answers"]] == [200] * 12, outcome
    assert sum(a["stored"] for _, _, a in outcome["answers"]) == 21
    assert all(a["stored"] + a["duplicates"] == 21 for _, _, a in outcome["answers"])
    assert outcome["readings"] == 21
    assert outcome["alerts"] == [["bp_high", "critical"]]
