"""Approving a month: lines that need no review approved, the rest held and listed, month locked.

After the lock nothing changes silently: services refuse, database triggers refuse raw writes,
and a late time entry becomes a pending amendment a manager may accept into a supplementary batch.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction

from careledger.audit.models import AuditEvent
from careledger.billing import services
from careledger.billing.amendments import accept_amendment, pending_amendments
from careledger.billing.close import MonthAlreadyApproved, close_month
from careledger.billing.models import Amendment, BillingLine, BillingMonth, PatientMonth
from careledger.locks.models import month_is_locked
from careledger.timelog.services import Contact, log_contact
from tests.billing.builders import MONTH, NOW, rpm_patient
from tests.conftest import PracticeWorld

pytestmark = pytest.mark.django_db


def _approved(world: PracticeWorld):  # type: ignore[no-untyped-def]
    close_month(practice=world.practice, month=MONTH, actor=None, now=NOW)
    billing_month = BillingMonth.objects.get(practice=world.practice)
    return services.approve_month(ctx=world.ctx("manager"), billing_month=billing_month, now=NOW)


def test_approval_approves_clean_lines_holds_the_rest_lists_them_and_locks_the_month(
    world: PracticeWorld,
) -> None:
    clean = rpm_patient(world, 22)
    unordered = rpm_patient(world, 22, ordered=False)
    approval = _approved(world)
    assert BillingLine.objects.get(patient=clean).status == BillingLine.Status.APPROVED
    held = BillingLine.objects.get(patient=unordered)
    assert held.status == BillingLine.Status.HELD
    assert approval.as_dict()["held"] == [
        {
            "line_id": held.pk,
            "patient_id": unordered.pk,
            "program": "RPM",
            "code": "99457",
            "reasons": held.review_reasons,
        }
    ]
    assert approval.approved == 1
    assert month_is_locked(practice=world.practice, month="2026-04")
    assert AuditEvent.objects.filter(event="month.approved").count() == 1


def test_a_locked_month_refuses_another_close_and_any_line_decision(world: PracticeWorld) -> None:
    patient = rpm_patient(world, 22)
    _approved(world)
    line = BillingLine.objects.get(patient=patient)
    with pytest.raises(MonthAlreadyApproved):
        close_month(practice=world.practice, month=MONTH, actor=None, now=NOW)
    with pytest.raises(MonthAlreadyApproved):
        services.decide_line(
            ctx=world.ctx("manager"), line=line, action="remove", reason="x", now=NOW
        )
    with pytest.raises(MonthAlreadyApproved):
        services.approve_month(ctx=world.ctx("manager"), billing_month=line.billing_month, now=NOW)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda bm: BillingLine.objects.filter(billing_month=bm).update(units=9),
        lambda bm: BillingLine.objects.filter(billing_month=bm).delete(),
        lambda bm: BillingMonth.objects.filter(pk=bm.pk).update(status="draft"),
        lambda bm: BillingMonth.objects.filter(pk=bm.pk).delete(),
        lambda bm: PatientMonth.objects.filter(billing_month=bm).update(flags=[]),
        lambda bm: BillingLine.objects.create(
            **{
                **{
                    f.attname: getattr(
                        BillingLine.objects.filter(billing_month=bm).first(), f.attname
                    )
                    for f in BillingLine._meta.concrete_fields
                    if f.attname != "id"
                },
            }
        ),
    ],
    ids=["update-line", "delete-line", "reopen-month", "delete-month", "update-flags", "insert"],
)
def test_the_database_refuses_raw_writes_to_a_locked_month(world: PracticeWorld, tamper) -> None:  # type: ignore[no-untyped-def]
    patient = rpm_patient(world, 22)
    _approved(world)
    billing_month = BillingMonth.objects.get()
    with pytest.raises(DatabaseError), transaction.atomic():
        tamper(billing_month)
    assert BillingLine.objects.get(patient=patient).units == 1


def test_the_database_lets_a_draft_month_be_recomputed(world: PracticeWorld) -> None:
    rpm_patient(world, 22)
    close_month(practice=world.practice, month=MONTH, actor=None, now=NOW)
    assert BillingLine.objects.update(units=2) == 1


def _late_call(world: PracticeWorld, patient, minutes: int, reason: str = "Found on paper"):  # type: ignore[no-untyped-def]
    start = datetime(2026, 4, 21, 15, 0, tzinfo=UTC)
    return log_contact(
        ctx=world.ctx("coordinator"),
        patient=patient,
        now=NOW + timedelta(days=1),
        contact=Contact(
            program="RPM",
            kind="interactive_call",
            outcome="reached",
            started_at=start,
            ended_at=start + timedelta(minutes=minutes),
            summary="Reviewed the week's readings. Agreed on a salt-reduction plan.",
            reason=reason,
        ),
    )


def test_a_time_entry_into_a_locked_month_needs_a_reason(world: PracticeWorld) -> None:
    patient = rpm_patient(world, 22)
    _approved(world)
    with pytest.raises(ValidationError) as refused:
        _late_call(world, patient, 20, reason="")
    assert "locked month" in str(refused.value)


def test_a_late_entry_is_a_pending_amendment_that_leaves_approved_lines_unchanged(
    world: PracticeWorld,
) -> None:
    patient = rpm_patient(world, 22)
    other = rpm_patient(world, 22)
    _approved(world)
    billing_month = BillingMonth.objects.get()
    before = list(BillingLine.objects.values_list("id", "code", "units", "status"))
    entry = _late_call(world, patient, 20)
    assert entry.late
    pending = pending_amendments(billing_month)
    assert [p.patient_id for p in pending] == [patient.pk]
    assert pending[0].gained == [
        {
            "practitioner_id": world.user("practitioner").pk,
            "program": "RPM",
            "code": "99458",
            "dos": "2026-04-30",
            "units": 1,
        }
    ]
    assert pending[0].lost == []
    assert [e["id"] for e in pending[0].entries] == [entry.pk]
    assert list(BillingLine.objects.values_list("id", "code", "units", "status")) == before
    assert other.pk not in [p.patient_id for p in pending]


def test_accepting_an_amendment_adds_a_supplementary_batch_and_clears_it(
    world: PracticeWorld,
) -> None:
    patient = rpm_patient(world, 22)
    _approved(world)
    billing_month = BillingMonth.objects.get()
    _late_call(world, patient, 20)
    amendment = accept_amendment(
        ctx=world.ctx("manager"),
        billing_month=billing_month,
        patient=patient,
        reason="Call documented on paper during the outage.",
        now=NOW + timedelta(days=2),
    )
    assert amendment.batch == 1
    added = BillingLine.objects.get(batch=1)
    assert (added.code, added.units, added.source) == ("99458", 1, "amendment")
    assert pending_amendments(billing_month) == []
    assert AuditEvent.objects.filter(event="amendment.accepted", patient_id=patient.pk).exists()
    with pytest.raises(DatabaseError), transaction.atomic():
        Amendment.objects.filter(pk=amendment.pk).update(reason="changed")


def test_a_voided_entry_after_the_lock_shows_the_line_it_loses(world: PracticeWorld) -> None:
    from careledger.timelog.services import void_entry

    patient = rpm_patient(world, 22)
    _approved(world)
    entry = patient.time_entries.get()
    void_entry(ctx=world.ctx("manager"), entry=entry, reason="Wrong patient", now=NOW)
    pending = pending_amendments(BillingMonth.objects.get())
    assert [(p.patient_id, [x["code"] for x in p.lost]) for p in pending] == [
        (patient.pk, ["99457"])
    ]


def test_an_amendment_cannot_be_accepted_without_a_change(world: PracticeWorld) -> None:
    patient = rpm_patient(world, 22)
    _approved(world)
    with pytest.raises(ValidationError):
        accept_amendment(
            ctx=world.ctx("manager"),
            billing_month=BillingMonth.objects.get(),
            patient=patient,
            reason="Nothing",
            now=NOW,
        )
