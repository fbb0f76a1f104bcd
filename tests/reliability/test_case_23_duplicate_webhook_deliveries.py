"""Case 23: the same vendor event delivered five times, each signed afresh, is one reading.

Sequentially in the test database, and concurrently in real threads on a scratch database.
Pass: one reading, every reply 2xx with the repeats counted as ``duplicates``, one alert.
"""

from __future__ import annotations

import time

import pytest

from careledger.devices.models import Alert, Reading
from tests.conftest import PracticeWorld
from tests.devices.conftest import Monitored, monitor
from tests.reliability._helpers_b import by_serial, deliver, run_script


@pytest.fixture
def rpm(world: PracticeWorld) -> Monitored:
    return monitor(world, slug="acme-riverside")


@pytest.mark.django_db
def test_case_23_five_sequential_deliveries_store_one_reading_and_raise_one_alert(
    rpm: Monitored,
) -> None:
    critical = by_serial(rpm.cuff, "evt-1", systolic=192, diastolic=124)
    base = int(time.time())  # each delivery signed afresh: a new timestamp, a new signature
    answers = [deliver(rpm.vendor, [critical], timestamp=base - n) for n in range(5)]
    assert [a.status_code for a in answers] == [200] * 5
    assert [a.json()["stored"] for a in answers] == [1, 0, 0, 0, 0]
    assert [a.json()["duplicates"] for a in answers] == [0, 1, 1, 1, 1]
    assert Reading.objects.count() == 1
    assert Alert.objects.count() == 1


SCRIPT = r"""
import json, threading, time
from datetime import date, timedelta
from django.db import connection
from django.test import Client
from django.utils import timezone
from careledger.accounts.access import PracticeContext
from careledger.accounts.models import Membership, Practice, User
from careledger.devices.models import Alert, Reading
from careledger.devices.services import Assignment, assign_device, create_vendor
from careledger.devices.webhooks import sign
from careledger.patients.models import Enrollment, Patient

now = timezone.now()
practice = Practice.objects.create(name="Hook", slug=SLUG, timezone="America/Chicago",
                                   billing_npi="1234567893")
user = User.objects.create(username=SLUG + "-coord")
member = Membership.objects.create(user=user, practice=practice, role="coordinator",
                                   credential="RN")
ctx = PracticeContext(user=user, membership=member, source_ip=None)
patient = Patient.objects.create(practice=practice, mrn="H1", given_name="A", family_name="B",
                                 birth_date=date(1950, 1, 1), sex="female", created_at=now)
Enrollment.objects.create(patient=patient, program="RPM", status="active",
                          billing_practitioner=user, started_on=date(2025, 1, 1),
                          consent_on=date(2025, 1, 1), consent_method="verbal", created_at=now)
vendor = create_vendor(practice=practice, slug=SLUG, name="Acme", now=now)
device = assign_device(ctx=ctx, patient=patient, assignment=Assignment(
    "RPM", "blood_pressure", SLUG, SLUG + "-SN", date(2025, 1, 1)), now=now)
raw = json.dumps({"readings": [{
    "device_serial": device.serial, "vendor_reading_id": "evt-1",
    "measured_at": (now - timedelta(minutes=30)).isoformat(), "type": "blood_pressure",
    "systolic": 195, "diastolic": 125, "unit": "mm[Hg]", "source": "automatic"}]}).encode()
answers, lock = [], threading.Lock()
start = threading.Barrier(5)
base = int(time.time())

def deliver(n):
    stamp = str(base - n)  # each delivery signed afresh
    start.wait()
    try:
        response = Client(HTTP_HOST="localhost").post(
            f"/api/v1/webhooks/{SLUG}/readings", data=raw, content_type="application/json",
            HTTP_X_CARELEDGER_TIMESTAMP=stamp,
            HTTP_X_CARELEDGER_SIGNATURE=sign(vendor.webhook_secret, stamp, raw))
        with lock:
            answers.append([response.status_code, response.json()])
    finally:
        connection.close()

threads = [threading.Thread(target=deliver, args=(n,)) for n in range(5)]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps({
    "answers": answers,
    "readings": Reading.objects.filter(device=device).count(),
    "alerts": Alert.objects.filter(patient=patient).count(),
}))
"""


def test_case_23_five_concurrent_deliveries_store_one_reading_and_raise_one_alert() -> None:
    outcome = run_script(SCRIPT)
    answers = outcome["answers"]
    assert len(answers) == 5
    assert all(200 <= status < 300 for status, _ in answers), answers
    assert sum(body["stored"] for _, body in answers) == 1
    assert sum(body["duplicates"] for _, body in answers) == 4
    assert outcome["readings"] == 1
    assert outcome["alerts"] == 1
