"""The evidence packet holds the reading days with their devices, the care-plan version in force
and when it was shared, and any amendment; its PDF renders (synthetic data only)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pypdfium2
import pytest
import time_machine

from careledger.billing import services
from careledger.billing.amendments import accept_amendment
from careledger.billing.close import close_month
from careledger.billing.evidence import evidence_packet
from careledger.billing.models import BillingMonth
from careledger.careplans import services as careplans
from careledger.devices.ingest import ingest_readings
from careledger.devices.services import Assignment, assign_device, create_vendor
from careledger.patients.models import Visit
from careledger.timelog.services import Contact, log_contact
from tests.billing.builders import MONTH, NOW
from tests.careplans.conftest import LONG_AGO, add_conditions, complete_content, publish_signed
from tests.conftest import PracticeWorld
from tests.factories import EnrollmentFactory, log_minutes

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")
READING_DAYS = [date(2026, 4, d) for d in range(3, 21)]  # 18 days, one April period


@pytest.fixture(autouse=True)
def _frozen() -> Any:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def monitored(world: PracticeWorld) -> PracticeWorld:
    """world.patient: RPM with a cuff and a scale, 22 minutes in April, a shared care plan."""
    doctor = world.user("practitioner")
    enrollment = EnrollmentFactory(
        patient=world.patient,
        program="RPM",
        billing_practitioner=doctor,
        started_on=date(2026, 1, 5),
        consent_on=date(2026, 1, 5),
        ordered_on=date(2026, 1, 4),
        ordering_practitioner=doctor,
        order_indication="I10",
    )
    log_minutes(enrollment, 22, start=datetime(2026, 4, 7, 15, 0, tzinfo=UTC))
    # An established patient (RPM-10) with a diagnosis for the claim.
    Visit.objects.create(
        patient=world.patient,
        practitioner=doctor,
        visited_on=date(2026, 1, 5),
        kind="em",
        created_at=LONG_AGO,
    )
    create_vendor(practice=world.practice, slug="acme-ev", name="Acme Cellular", now=NOW)
    for kind, serial in (("blood_pressure", "BP-EV1"), ("weight", "WT-EV1")):
        assign_device(
            ctx=world.ctx(),
            patient=world.patient,
            assignment=Assignment("RPM", kind, "acme-ev", serial, date(2026, 1, 2)),
            now=NOW,
        )
    items: list[dict[str, Any]] = []
    for day in READING_DAYS:
        at = datetime.combine(day, time(8), CHICAGO).isoformat()
        items.append(
            {
                "device_serial": "BP-EV1",
                "vendor_reading_id": f"bp-{day}",
                "measured_at": at,
                "source": "automatic",
                "type": "blood_pressure",
                "systolic": 126,
                "diastolic": 80,
                "unit": "mm[Hg]",
            }
        )
        if day.day % 2 == 0:
            items.append(
                {
                    "device_serial": "WT-EV1",
                    "vendor_reading_id": f"wt-{day}",
                    "measured_at": at,
                    "source": "automatic",
                    "type": "weight",
                    "value": 81.5,
                    "unit": "kg",
                }
            )
    assert ingest_readings(practice=world.practice, items=items, via="api", now=NOW).errors == []
    conditions = list(add_conditions(world))
    plan = careplans.start_plan(
        ctx=world.ctx("coordinator"), patient=world.patient, kind="comprehensive", now=LONG_AGO
    )
    careplans.save_draft(
        ctx=world.ctx("coordinator"),
        plan=plan,
        expected_revision=1,
        content=complete_content(conditions),
        now=LONG_AGO,
    )
    published = datetime(2026, 2, 10, 16, 0, tzinfo=UTC)
    first = publish_signed(world, plan, published, reason="First plan")
    careplans.record_sharing(
        ctx=world.ctx("coordinator"),
        version=first,
        shared_on=date(2026, 2, 12),
        channel="mail",
        now=published + timedelta(days=2),
    )
    return world


def _closed(world: PracticeWorld) -> BillingMonth:
    close_month(practice=world.practice, month=MONTH, actor=None, now=NOW)
    return BillingMonth.objects.get(practice=world.practice)


def test_the_packet_lists_each_reading_day_with_its_date_and_devices(
    monitored: PracticeWorld,
) -> None:
    packet = evidence_packet(billing_month=_closed(monitored), patient=monitored.patient)
    [period] = packet.device_periods
    assert (period.program, period.starts_on, period.ends_on) == (
        "RPM",
        date(2026, 4, 3),
        date(2026, 5, 2),
    )
    assert not period.billed_this_month  # the period ends in May: billed there (P7)
    assert [d.day for d in period.days] == READING_DAYS
    assert [label.split()[-1] for label in period.days[0].devices] == ["BP-EV1"]
    even = next(d for d in period.days if d.day == date(2026, 4, 4))
    assert len(even.devices) == 2 and even.readings == 2
    assert packet.summary["reading_days"] == 18
    assert {d.serial for d in packet.devices} == {"BP-EV1", "WT-EV1"}


def test_the_packet_shows_the_care_plan_version_in_force_and_when_it_was_shared(
    monitored: PracticeWorld,
) -> None:
    billing_month = _closed(monitored)
    # Version 2, published and shared after April, is not the one in force for April.
    plan = monitored.patient.care_plans.get()
    plan.refresh_from_db()
    careplans.save_draft(
        ctx=monitored.ctx("coordinator"),
        plan=plan,
        expected_revision=plan.revision,
        content=complete_content(list(monitored.patient.conditions.all())),
        now=datetime(2026, 5, 2, 15, 0, tzinfo=UTC),
    )
    later = publish_signed(monitored, plan, datetime(2026, 5, 3, 15, 0, tzinfo=UTC), "Review")
    careplans.record_sharing(
        ctx=monitored.ctx("coordinator"),
        version=later,
        shared_on=date(2026, 5, 4),
        channel="portal",
        now=NOW,
    )
    packet = evidence_packet(billing_month=billing_month, patient=monitored.patient)
    [in_force] = packet.plans
    assert in_force.version is not None and in_force.version.number == 1
    assert [s.shared_on for s in in_force.shared_by_month_end] == [date(2026, 2, 12)]
    assert in_force.status.current
    assert packet.summary["plan_versions"] == [1]


def test_the_page_and_pdf_carry_reading_days_care_plan_and_amendment(
    monitored: PracticeWorld, login
) -> None:  # type: ignore[no-untyped-def]
    billing_month = _closed(monitored)
    services.approve_month(ctx=monitored.ctx("manager"), billing_month=billing_month, now=NOW)
    billing_month.refresh_from_db()
    assert billing_month.approved
    start = datetime(2026, 4, 21, 15, 0, tzinfo=UTC)
    log_contact(
        ctx=monitored.ctx("coordinator"),
        patient=monitored.patient,
        now=NOW + timedelta(hours=1),
        contact=Contact(
            program="RPM",
            kind="interactive_call",
            outcome="reached",
            started_at=start,
            ended_at=start + timedelta(minutes=20),
            summary="Reviewed the week's readings. Agreed on a salt-reduction plan.",
            reason="Call documented on paper during the outage",
        ),
    )
    client = login(monitored, "auditor")
    pending = client.get(f"/billing/2026-04/evidence/{monitored.patient.pk}/").content.decode()
    assert "Pending (not yet accepted)" in pending and "99458" in pending
    accept_amendment(
        ctx=monitored.ctx("manager"),
        billing_month=billing_month,
        patient=monitored.patient,
        reason="Call documented on paper during the outage.",
        now=NOW + timedelta(hours=2),
    )
    html = client.get(f"/billing/2026-04/evidence/{monitored.patient.pk}/").content.decode()
    assert "2026-04-03" in html and "2026-04-20" in html and "BP-EV1" in html
    assert "WT-EV1" in html
    assert "Version 1 (First plan)" in html and "2026-02-12" in html
    assert "Batch 1" in html and "Call documented on paper during the outage." in html
    pdf = client.get(f"/billing/2026-04/evidence/{monitored.patient.pk}/pdf/")
    assert pdf.content.startswith(b"%PDF")
    document = pypdfium2.PdfDocument(pdf.content)
    text = "".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    assert "Evidence packet" in text
    assert "BP-EV1" in text and "Version 1" in text and "Batch 1" in text
    image = document[0].render(scale=1).to_pil()
    assert image.width > 500 and image.height > 500
