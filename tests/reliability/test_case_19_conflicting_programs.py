"""Case 19: exclusive or conflicting programs in one patient-month (cms-rules-2026.md section 7).

Pass: a deterministic outcome — whatever order programs and entries arrive in — with a
machine-readable reason: a flag ``code`` (UPPER_SNAKE), the ``program`` and the ``rule`` it cites.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from careledger.billing.close import close_month
from careledger.billing.models import BillingLine, PatientMonth
from careledger.rules import evaluate_month
from careledger.rules.scenario import parse_scenario
from tests.billing.builders import MONTH, NOW, rpm_patient
from tests.conftest import PracticeWorld
from tests.rules.test_thresholds import entry, period, scenario

CODE = re.compile(r"^[A-Z0-9_]+$")
RULE = re.compile(r"^[A-Z]+-?\d+$")

# (programs, entries, device periods, other claims, lines expected, flag code, cited rule)
CONFLICTS: list[tuple[Any, ...]] = [
    (
        ["CCM", "PCM"],
        [entry(25, "CCM"), entry(35, "PCM", role="physician_qhp")],
        [],
        [],
        [],
        "CCM_PCM_SAME_PRACTITIONER_CONFLICT",
        "P14",
    ),
    (
        ["BHI", "CoCM"],
        [entry(25, "BHI"), entry(75, "CoCM", role="bh_care_manager")],
        [],
        [],
        [],
        "BHI_COCM_SAME_MONTH_CONFLICT",
        "BHI-3",
    ),
    (
        ["RPM", "RTM"],
        [entry(25, "RPM"), entry(25, "RTM")],
        [period(20, "RPM"), period(20, "RTM")],
        [],
        [],
        "RPM_RTM_SAME_PERIOD_CONFLICT",
        "RTM-3",
    ),
    (
        ["CCM"],
        [entry(25, "CCM")],
        [],
        [
            {
                "practitioner": "P2",
                "code": "99490",
                "period_start": "2026-04-01",
                "period_end": "2026-04-30",
            }
        ],
        [],
        "CCM_BILLED_BY_OTHER_PRACTITIONER",
        "CCM-6",
    ),
]


def _evaluate(programs: list[str], entries: list[Any], periods: list[Any], claims: list[Any]):  # type: ignore[no-untyped-def]
    data = scenario(programs, entries=entries, periods=periods)
    if claims:
        data["other_practitioner_claims"] = claims
    return evaluate_month(parse_scenario(data))


@pytest.mark.parametrize(
    ("programs", "entries", "periods", "claims", "lines", "flag", "rule"),
    CONFLICTS,
    ids=[c[5] for c in CONFLICTS],
)
def test_each_conflict_has_one_outcome_and_a_machine_readable_reason(
    programs: list[str],
    entries: list[Any],
    periods: list[Any],
    claims: list[Any],
    lines: list[str],
    flag: str,
    rule: str,
) -> None:
    result = _evaluate(programs, entries, periods, claims)
    assert [line.code for line in result.lines] == lines
    flags = [f.as_dict() for f in result.flags]
    conflict = next(f for f in flags if f["code"] == flag)
    assert conflict["rule"] == rule
    assert conflict["program"] in programs
    assert conflict["message"]
    for each in flags:
        assert CODE.match(each["code"]), each
        assert RULE.match(each["rule"]), each
    # Deterministic: the order programs, entries and periods arrive in changes nothing.
    again = _evaluate(programs[::-1], entries[::-1], periods[::-1], claims)
    assert [line.as_dict() for line in again.lines] == [line.as_dict() for line in result.lines]
    assert sorted(f["code"] for f in (g.as_dict() for g in again.flags)) == sorted(
        f["code"] for f in flags
    )
    assert _evaluate(programs, entries, periods, claims) == result


@pytest.mark.django_db
def test_a_stored_rpm_month_against_another_practitioners_rtm_claim_is_held_with_its_code(
    world: PracticeWorld,
    api_client,  # type: ignore[no-untyped-def]
) -> None:
    patient = rpm_patient(world, 22)
    manager = api_client(world.user("manager"))
    before = manager.get(f"/api/v1/patients/{patient.pk}/months/2026-04").json()
    assert [line["code"] for line in before["decision"]["lines"]] == ["99457"]
    claim = manager.post(
        f"/api/v1/patients/{patient.pk}/other-claims",
        {
            "practitioner": "Dr. Elsewhere",
            "code": "98977",
            "period_start_on": "2026-04-01",
            "period_end_on": "2026-04-30",
        },
        content_type="application/json",
    )
    assert claim.status_code == 201, claim.content
    live = manager.get(f"/api/v1/patients/{patient.pk}/months/2026-04").json()
    assert live["decision"]["lines"] == []
    reasons = {f["code"]: f for f in live["decision"]["flags"]}
    assert "RPM_RTM_SAME_PERIOD_CONFLICT" in reasons
    assert all(CODE.match(code) for code in reasons)
    close_month(practice=world.practice, month=MONTH, actor=None, now=NOW)
    again = manager.get(f"/api/v1/patients/{patient.pk}/months/2026-04").json()
    assert again["decision"] == live["decision"]  # the same answer every time
    stored = PatientMonth.objects.get(patient=patient)
    assert "RPM_RTM_SAME_PERIOD_CONFLICT" in json.dumps(stored.flags)
    assert not BillingLine.objects.filter(patient=patient, program="RPM", code="99457").exists()
    csv_body = manager.get("/api/v1/months/2026-04/billing.csv")
    body = b"".join(csv_body.streaming_content) if csv_body.streaming else csv_body.content
    assert b"99457" not in body
