"""The month close writes a practice in a constant number of statements, and hashes as before."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from careledger.accounts.models import Practice
from careledger.billing.close import CloseSummary, close_month, decide_month
from careledger.billing.decide import facts_sha256
from careledger.billing.models import BillingMonth, PatientMonth
from careledger.billing.months import parse_month

NOW = datetime(2026, 5, 10, 17, tzinfo=UTC)

pytestmark = pytest.mark.django_db


def load(patients: int) -> Practice:
    call_command(
        "demo",
        "--patients",
        str(patients),
        "--practices",
        "1",
        "--today",
        "2026-05-10",
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    return Practice.objects.get(slug="hs-001")


def close(practice: Practice) -> CloseSummary:
    return close_month(
        practice=practice, month=parse_month("2026-04", practice.timezone), actor=None, now=NOW
    )


def statements_to_close(patients: int) -> tuple[int, int]:
    count = [0]

    def counter(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        count[0] += 1
        return execute(sql, params, many, context)

    with transaction.atomic():
        practice = load(patients)
        with connection.execute_wrapper(counter):
            summary = close(practice)
        transaction.set_rollback(True)
    return count[0], sum(summary.by_status.values())


def test_closing_four_times_the_patients_takes_the_same_number_of_statements() -> None:
    small, small_lines = statements_to_close(20)
    large, large_lines = statements_to_close(80)

    assert large_lines > 3 * small_lines
    assert large == small


def test_the_stored_hashes_are_the_facts_sha256_of_the_decided_facts() -> None:
    practice = load(30)
    month = parse_month("2026-04", practice.timezone)
    decided = decide_month(practice=practice, month=month)

    close(practice)

    billing_month = BillingMonth.objects.get(practice=practice, month="2026-04")
    every = [d.built.facts for ds in decided.values() for d in ds]
    assert billing_month.facts_sha256 == facts_sha256(every)
    for patient_month in PatientMonth.objects.filter(billing_month=billing_month):
        facts = [
            d.built.facts
            for d in decided[patient_month.patient_id]
            if d.built.practitioner.pk == patient_month.practitioner_id
        ]
        assert patient_month.facts_sha256 == facts_sha256(facts)


def test_a_re_close_updates_every_line_in_place() -> None:
    practice = load(30)
    first = close(practice)

    again = close(practice)

    assert again.lines_created == 0
    assert again.lines_updated == first.lines_created
    assert again.by_status == first.by_status
    assert PatientMonth.objects.count() == first.patients
