"""Assigning outreach and setting fees: one row and one audit event per write, managers only."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from careledger.audit.models import AuditEvent
from careledger.billing.months import parse_month
from careledger.worklists.models import OutreachAssignment, PracticeFee
from careledger.worklists.services import assign_outreach, set_practice_fee
from tests.conftest import PracticeWorld

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 4, 26, 17, 0, tzinfo=UTC)
APRIL = parse_month("2026-04", "America/Chicago")


def test_assigning_writes_one_row_and_one_event(world: PracticeWorld) -> None:
    assignment = assign_outreach(
        ctx=world.ctx("manager"),
        patient=world.patient,
        program="CCM",
        month=APRIL,
        assigned_to=world.user("coordinator"),
        now=NOW,
    )
    assert (assignment.month, assignment.assigned_at) == ("2026-04", NOW)
    (event,) = AuditEvent.objects.filter(event="worklist.assigned")
    assert event.object_id == str(assignment.pk)
    assert event.details == {
        "month": "2026-04",
        "program": "CCM",
        "assigned_to": world.user("coordinator").get_username(),
    }


def test_a_coordinator_may_not_assign(world: PracticeWorld) -> None:
    with pytest.raises(PermissionDenied):
        assign_outreach(
            ctx=world.ctx("coordinator"),
            patient=world.patient,
            program="CCM",
            month=APRIL,
            assigned_to=world.user("coordinator"),
            now=NOW,
        )
    assert not AuditEvent.objects.filter(event="worklist.assigned").exists()


def test_outreach_goes_only_to_members_who_log_time_in_the_practice(
    world: PracticeWorld, other_world: PracticeWorld
) -> None:
    for person in (other_world.user("coordinator"), world.user("biller")):
        with pytest.raises(ValidationError) as error:
            assign_outreach(
                ctx=world.ctx("admin"),
                patient=world.patient,
                program="CCM",
                month=APRIL,
                assigned_to=person,
                now=NOW,
            )
        assert "assigned_to" in error.value.message_dict
    assert not OutreachAssignment.objects.exists()


def test_another_practices_patient_is_refused(
    world: PracticeWorld, other_world: PracticeWorld
) -> None:
    with pytest.raises(ValidationError):
        assign_outreach(
            ctx=world.ctx("admin"),
            patient=other_world.patient,
            program="CCM",
            month=APRIL,
            assigned_to=world.user("coordinator"),
            now=NOW,
        )


def test_setting_a_fee_adds_a_row_and_one_event(world: PracticeWorld) -> None:
    fee = set_practice_fee(
        ctx=world.ctx("manager"),
        code="99490",
        amount=Decimal("60.00"),
        effective_on=date(2026, 4, 1),
        now=NOW,
    )
    assert (fee.estimate, fee.created_by) == (True, world.user("manager"))
    assert AuditEvent.objects.filter(event="fee.updated").count() == 1


@pytest.mark.parametrize(
    ("code", "amount", "field"),
    [("ABCDE", Decimal("1"), "code"), ("99457", Decimal("-1"), "amount")],
)
def test_a_fee_for_an_unknown_code_or_below_zero_is_refused(
    world: PracticeWorld, code: str, amount: Decimal, field: str
) -> None:
    with pytest.raises(ValidationError) as error:
        set_practice_fee(
            ctx=world.ctx("admin"), code=code, amount=amount, effective_on=date(2026, 4, 1), now=NOW
        )
    assert field in error.value.message_dict
    assert not PracticeFee.objects.exists()


def test_a_biller_may_not_set_fees(world: PracticeWorld) -> None:
    with pytest.raises(PermissionDenied):
        set_practice_fee(
            ctx=world.ctx("biller"),
            code="99457",
            amount=Decimal("1"),
            effective_on=date(2026, 4, 1),
            now=NOW,
        )
