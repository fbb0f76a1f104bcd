"""Case 17: determinism — the same inputs give byte-identical exports; shuffling the order in
which entries were recorded never changes the CPT results; the rule set is stored with each result.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from careledger.billing.close import close_month
from careledger.billing.exports.claims import claims_837
from careledger.billing.models import BillingLine, BillingMonth, PatientMonth
from careledger.rules.schedules import rule_set_in_force
from tests.billing.builders import MONTH, NOW, START, complete_practice, enrollment_of, rpm_patient
from tests.conftest import PracticeWorld
from tests.factories import log_minutes

pytestmark = pytest.mark.django_db

EXPORTS = ("billing.csv", "billing.json", "claims.837")


def _body(response) -> bytes:  # type: ignore[no-untyped-def]
    assert response.status_code == 200
    return b"".join(response.streaming_content) if response.streaming else response.content


def _exports(client: Client) -> dict[str, bytes]:
    return {name: _body(client.get(f"/api/v1/months/2026-04/{name}")) for name in EXPORTS}


def test_the_same_close_exports_byte_identical_files_every_time(
    world: PracticeWorld,
    api_client,  # type: ignore[no-untyped-def]
) -> None:
    complete_practice(world)
    for minutes in (12, 22, 45, 65):
        rpm_patient(world, minutes)
    close_month(practice=world.practice, month=MONTH, actor=None, now=NOW)
    client: Client = api_client(world.user("biller"))
    first = _exports(client)
    second = _exports(api_client(world.user("manager")))
    assert first == second
    billing_month = BillingMonth.objects.select_related("practice").get()
    charge = {"charge_of": lambda code, on: Decimal("52.00")}
    assert claims_837(billing_month, **charge) == claims_837(billing_month, **charge)


def test_closing_again_on_unchanged_facts_gives_the_same_results_and_hash(
    world: PracticeWorld,
) -> None:
    for minutes in (12, 22, 45):
        rpm_patient(world, minutes)
    close_month(practice=world.practice, month=MONTH, actor=None, now=NOW)
    billing_month = BillingMonth.objects.get()
    first = (billing_month.facts_sha256, _results(billing_month))
    close_month(practice=world.practice, month=MONTH, actor=None, now=NOW + timedelta(hours=1))
    billing_month.refresh_from_db()
    assert billing_month.close_count == 2
    assert (billing_month.facts_sha256, _results(billing_month)) == first


def _results(billing_month: BillingMonth) -> list[tuple[int, str, str, int, str]]:
    return sorted(
        BillingLine.objects.filter(billing_month=billing_month).values_list(
            "patient_id", "program", "code", "units", "dos"
        )
    )


def test_the_rule_set_is_stored_with_every_result(world: PracticeWorld, api_client) -> None:  # type: ignore[no-untyped-def]
    for minutes in (12, 45):
        rpm_patient(world, minutes)
    close_month(practice=world.practice, month=MONTH, actor=None, now=NOW)
    in_force = rule_set_in_force(MONTH.first_on)
    billing_month = BillingMonth.objects.get()
    assert billing_month.rule_sets.split(",") == [in_force.id]
    assert len(billing_month.facts_sha256) == 64
    assert {line.rule_set for line in BillingLine.objects.all()} == {in_force.id}
    assert {pm.rule_set for pm in PatientMonth.objects.all()} == {in_force.id}
    assert all(len(pm.facts_sha256) == 64 for pm in PatientMonth.objects.all())
    document = api_client(world.user("biller")).get("/api/v1/months/2026-04/billing.json").json()
    assert document["rule_sets"] == [in_force.id]


# Minutes of separate contacts for one patient: recorded in a drawn order, the month is the same.
CONTACTS = [3, 7, 5, 9, 4, 12, 6]


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    order=st.permutations(range(len(CONTACTS))),
    days=st.lists(
        st.integers(min_value=0, max_value=20), min_size=len(CONTACTS), max_size=len(CONTACTS)
    ),
)
def test_recording_entries_in_any_order_never_changes_the_cpt_results(
    world: PracticeWorld, order: list[int], days: list[int]
) -> None:
    def close_with(sequence: list[int]) -> tuple[list[tuple[int, str, str, int, str]], str]:
        with transaction.atomic():
            patient = rpm_patient(world, 0)
            enrollment = enrollment_of(patient)
            for index in sequence:
                log_minutes(
                    enrollment,
                    CONTACTS[index],
                    start=START + timedelta(days=days[index], minutes=index * 60),
                )
            close_month(practice=world.practice, month=MONTH, actor=None, now=NOW)
            billing_month = BillingMonth.objects.get(practice=world.practice)
            results = [(0, *row[1:]) for row in _results(billing_month)]
            digest = hashlib.sha256(repr(results).encode()).hexdigest()
            transaction.set_rollback(True)
        return results, digest

    in_order, _ = close_with(list(range(len(CONTACTS))))
    shuffled, _ = close_with(order)
    assert shuffled == in_order
    assert [code for _, _, code, _, _ in in_order] == ["99457", "99458"]  # 46 minutes
