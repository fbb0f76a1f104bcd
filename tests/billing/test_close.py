"""Closing a month: the engine's lines stored with their reasons, decisions kept on re-close."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from careledger.accounts.models import Practice
from careledger.audit.models import AuditEvent
from careledger.billing import services
from careledger.billing.close import close_month
from careledger.billing.exports.claims import claims_837
from careledger.billing.facts import build_month_facts
from careledger.billing.models import BillingLine, BillingMonth, PatientMonth
from careledger.billing.months import parse_month
from careledger.billing.selectors import review_list
from careledger.rules import evaluate_month
from tests.billing.builders import MONTH, NOW, START, enrollment_of, rpm_patient, validate_837
from tests.conftest import PracticeWorld
from tests.factories import EnrollmentFactory, log_minutes

pytestmark = pytest.mark.django_db


def _close(world: PracticeWorld):  # type: ignore[no-untyped-def]
    return close_month(practice=world.practice, month=MONTH, actor=world.user("biller"), now=NOW)


def test_a_closed_demo_month_bills_exactly_what_the_engine_decides_for_every_patient() -> None:
    call_command("demo", patients=30, today=date(2026, 5, 12), stdout=None, stderr=None)
    practice = Practice.objects.get(slug="riverside")
    month = parse_month("2026-04", practice.timezone)
    close_month(practice=practice, month=month, actor=None, now=NOW + timedelta(days=8))
    billing_month = BillingMonth.objects.get(practice=practice, month="2026-04")
    expected = set()
    for pid, built in build_month_facts(practice=practice, month=month).items():
        for practitioner_month in built:
            for line in evaluate_month(practitioner_month.facts).lines:
                expected.add(
                    (pid, practitioner_month.practitioner.pk, line.code, line.units, line.dos)
                )
    stored = {
        (line.patient_id, line.practitioner_id, line.code, line.units, line.dos)
        for line in billing_month.lines.all()
    }
    assert expected, "the demo month bills something"
    assert stored == expected
    assert billing_month.rule_sets == "CMS-PFS-2026"
    assert validate_837(claims_837(billing_month))
    assert len(billing_month.facts_sha256) == 64
    assert PatientMonth.objects.filter(billing_month=billing_month).count() >= len(
        {pid for pid, *_ in expected}
    )


def test_a_close_stores_codes_practitioner_npi_place_and_diagnoses(world: PracticeWorld) -> None:
    patient = rpm_patient(world, 22)
    summary = _close(world)
    line = BillingLine.objects.get(patient=patient)
    assert (line.code, line.units, line.dos) == ("99457", 1, date(2026, 4, 30))
    assert line.practitioner == world.user("practitioner")
    assert line.rendering_npi == "1245319599"
    assert line.billing_npi == world.practice.billing_npi
    assert line.place_of_service == "11"
    assert line.diagnoses == ["I10", "E11.9"]  # the order's indication first
    assert line.status == BillingLine.Status.PROPOSED
    assert summary.as_dict()["by_status"] == {"proposed": 1}
    event = AuditEvent.objects.get(event="month.closed")
    assert event.details["facts_sha256"] == summary.billing_month.facts_sha256


def test_the_facts_hash_is_the_same_for_the_same_facts_and_changes_with_them(
    world: PracticeWorld,
) -> None:
    patient = rpm_patient(world, 22)
    first = _close(world).billing_month.facts_sha256
    assert _close(world).billing_month.facts_sha256 == first
    log_minutes(enrollment_of(patient), 3, start=START + timedelta(days=3))
    assert _close(world).billing_month.facts_sha256 != first


def test_an_rpm_line_without_an_order_needs_review_and_says_why(world: PracticeWorld) -> None:
    patient = rpm_patient(world, 22, ordered=False)
    _close(world)
    line = BillingLine.objects.get(patient=patient)
    assert line.status == BillingLine.Status.NEEDS_REVIEW
    assert [r["code"] for r in line.review_reasons] == ["MISSING_ORDER"]


def test_a_line_without_a_diagnosis_needs_review(world: PracticeWorld) -> None:
    patient = rpm_patient(world, 22, ordered=False, diagnosis=False)
    enrollment = enrollment_of(patient)
    enrollment.ordered_on = date(2026, 1, 4)
    enrollment.ordering_practitioner = world.user("practitioner")
    enrollment.save()
    _close(world)
    line = BillingLine.objects.get(patient=patient)
    assert line.status == BillingLine.Status.NEEDS_REVIEW
    assert [r["code"] for r in line.review_reasons] == ["MISSING_DIAGNOSIS"]


def test_a_re_close_recomputes_undecided_lines(world: PracticeWorld) -> None:
    patient = rpm_patient(world, 22)
    _close(world)
    line = BillingLine.objects.get(patient=patient)
    log_minutes(enrollment_of(patient), 20, start=START + timedelta(days=2))
    summary = _close(world)
    codes = sorted(BillingLine.objects.filter(patient=patient).values_list("code", "units"))
    assert codes == [("99457", 1), ("99458", 1)]
    assert BillingLine.objects.get(patient=patient, code="99457").pk == line.pk
    assert summary.billing_month.close_count == 2
    assert BillingMonth.objects.count() == 1


def test_a_re_close_after_a_manual_hold_keeps_the_hold(world: PracticeWorld) -> None:
    patient = rpm_patient(world, 22)
    _close(world)
    line = BillingLine.objects.get(patient=patient)
    services.decide_line(
        ctx=world.ctx("manager"), line=line, action="hold", reason="Chart check", now=NOW
    )
    log_minutes(enrollment_of(patient), 20, start=START + timedelta(days=2))
    summary = _close(world)
    line.refresh_from_db()
    assert line.status == BillingLine.Status.HELD
    assert line.decision_reason == "Chart check"
    assert line.decided_by == world.user("manager")
    assert summary.decisions_kept == 1


def test_a_re_close_keeps_removed_and_edited_lines_even_when_the_engine_drops_them(
    world: PracticeWorld,
) -> None:
    kept = rpm_patient(world, 22)
    dropped = rpm_patient(world, 22)
    _close(world)
    manager = world.ctx("manager")
    services.edit_line(
        ctx=manager, line=BillingLine.objects.get(patient=kept), units=1, reason="Checked", now=NOW
    )
    removed = BillingLine.objects.get(patient=dropped)
    services.decide_line(ctx=manager, line=removed, action="remove", reason="Duplicate", now=NOW)
    for entry in dropped.time_entries.all():
        entry.voided_at = NOW
        entry.save()
    _close(world)
    removed.refresh_from_db()
    assert removed.status == BillingLine.Status.REMOVED
    assert removed.engine_agrees is False
    assert BillingLine.objects.get(patient=kept).status == BillingLine.Status.APPROVED


def test_an_undecided_line_the_engine_no_longer_proposes_is_dropped(world: PracticeWorld) -> None:
    patient = rpm_patient(world, 22)
    _close(world)
    patient.time_entries.update(voided_at=NOW)
    summary = _close(world)
    assert not BillingLine.objects.filter(patient=patient).exists()
    assert summary.lines_dropped == 1


def test_a_withheld_code_puts_the_patient_month_on_the_review_list_and_a_person_may_add_it(
    world: PracticeWorld,
) -> None:
    patient = rpm_patient(world, 22)
    rtm = EnrollmentFactory(
        patient=patient, program="RTM", billing_practitioner=world.user("practitioner")
    )
    log_minutes(rtm, 22, start=START + timedelta(days=5))
    _close(world)
    listed = list(review_list(BillingMonth.objects.get()))
    assert [pm.patient_id for pm in listed] == [patient.pk]
    assert "RPM_RTM_SAME_PERIOD_CONFLICT" in {f["code"] for f in listed[0].flags}
    assert not BillingLine.objects.filter(patient=patient).exists()
    line = services.add_line(
        ctx=world.ctx("manager"),
        billing_month=BillingMonth.objects.get(),
        manual=services.ManualLine(
            patient=patient,
            code="99457",
            units=1,
            dos=date(2026, 4, 30),
            reason="RTM was a data-entry mistake; RPM is the program delivered.",
        ),
        now=NOW,
    )
    assert (line.status, line.source) == (BillingLine.Status.APPROVED, BillingLine.Source.MANUAL)
    assert line.rendering_npi == "1245319599"
    assert AuditEvent.objects.filter(event="line.added", patient_id=patient.pk).count() == 1
    _close(world)
    assert BillingLine.objects.filter(pk=line.pk, status="approved").exists()


def test_adding_a_line_needs_a_reason_and_a_date_in_the_month(world: PracticeWorld) -> None:
    from django.core.exceptions import ValidationError

    patient = rpm_patient(world, 22)
    _close(world)
    manual = services.ManualLine(
        patient=patient, code="99457", units=1, dos=date(2026, 5, 1), reason=""
    )
    with pytest.raises(ValidationError):
        services.add_line(
            ctx=world.ctx("manager"),
            billing_month=BillingMonth.objects.get(),
            manual=manual,
            now=NOW,
        )


def test_a_close_reads_the_practice_in_a_constant_number_of_queries(world: PracticeWorld) -> None:
    rpm_patient(world, 22)
    _close(world)
    with CaptureQueriesContext(connection) as few:
        _close(world)
    for _ in range(6):
        rpm_patient(world, 22)
    _close(world)
    with CaptureQueriesContext(connection) as many:
        _close(world)
    reads = [q for q in many.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]
    few_reads = [q for q in few.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]
    assert len(reads) == len(few_reads)


def test_the_close_month_command_prints_only_json(
    world: PracticeWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    rpm_patient(world, 22)
    call_command("close_month", "2026-04", practice=world.practice.slug)
    out = capsys.readouterr()
    summary = json.loads(out.out)
    assert summary["month"] == "2026-04"
    assert summary["lines"] == 1
    assert summary["by_status"] == {"proposed": 1}
    assert "Closed" in out.err


@pytest.mark.parametrize(
    ("month", "practice"),
    [
        ("2026-13", "riverside"),
        ("April", "riverside"),
        ("2026-04", "nowhere"),
        ("2999-01", "riverside"),
    ],
)
def test_the_close_month_command_exits_2_on_bad_input(
    world: PracticeWorld, month: str, practice: str
) -> None:
    with pytest.raises(CommandError) as raised:
        call_command("close_month", month, practice=practice)
    assert raised.value.returncode == 2


def test_a_second_billing_month_for_the_same_month_is_refused_by_the_database(
    world: PracticeWorld,
) -> None:
    rpm_patient(world, 22)
    _close(world)
    with pytest.raises(IntegrityError), transaction.atomic():
        BillingMonth.objects.create(practice=world.practice, month="2026-04", created_at=NOW)
