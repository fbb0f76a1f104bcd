"""The demo plan: synthetic, valid, deterministic, and every state placed by position."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from careledger.careplans.review import ChangeFacts, State, VersionFacts, review_status
from careledger.demo.careplan_plan import CarePlanSpec
from careledger.demo.data import (
    BEHAVIORAL_CONDITIONS,
    CHRONIC_CONDITIONS,
    LAKESIDE,
    PRACTICES,
    RIVERSIDE,
    RPM_INDICATIONS,
    STAFF,
)
from careledger.demo.plan import first_demo_month, plan_demo, split_patients
from careledger.lib.identifiers import icd10_problem, mbi_problem, npi_problem, timezone_problem

TODAY = date(2026, 3, 16)


def test_every_diagnosis_the_demo_uses_is_a_billable_icd10_cm_code() -> None:
    codes = {code for code, _ in CHRONIC_CONDITIONS} | set(RPM_INDICATIONS)
    codes |= set(BEHAVIORAL_CONDITIONS)
    assert {code: icd10_problem(code) for code in codes} == dict.fromkeys(codes)


def test_practice_and_practitioner_npis_pass_the_check_digit_and_zones_exist() -> None:
    npis = [p["billing_npi"] for p in PRACTICES.values()] + [s.npi for s in STAFF if s.npi]
    assert len(npis) == 4
    assert [npi_problem(npi) for npi in npis] == [None] * 4
    assert [timezone_problem(p["timezone"]) for p in PRACTICES.values()] == [None, None]


@pytest.mark.parametrize(
    ("total", "riverside", "lakeside"), [(200, 180, 20), (30, 27, 3), (4, 1, 3)]
)
def test_riverside_gets_ninety_percent_and_lakeside_at_least_three(
    total: int, riverside: int, lakeside: int
) -> None:
    assert split_patients(total) == (riverside, lakeside)


def test_the_earliest_demo_month_is_two_months_before_today_across_a_year_end() -> None:
    assert first_demo_month(date(2026, 3, 16)) == date(2026, 1, 1)
    assert first_demo_month(date(2026, 1, 31)) == date(2025, 11, 1)
    assert first_demo_month(date(2026, 2, 1)) == date(2025, 12, 1)


def test_the_same_seed_plans_the_same_patients_and_another_seed_does_not() -> None:
    plan = plan_demo(patients=60, seed=7, today=TODAY)
    assert plan == plan_demo(patients=60, seed=7, today=TODAY)
    assert plan.patients != plan_demo(patients=60, seed=8, today=TODAY).patients


@pytest.mark.parametrize("patients", [30, 200])
def test_planned_patients_are_valid_medicare_patients_aged_65_to_95(patients: int) -> None:
    plan = plan_demo(patients=patients, seed=3, today=TODAY)
    assert len(plan.patients) == patients
    assert len({p.mrn for p in plan.patients}) == patients
    assert len({p.mbi for p in plan.patients}) == patients
    for patient in plan.patients:
        assert mbi_problem(patient.mbi) is None
        age = (
            TODAY.year
            - patient.birth_date.year
            - ((TODAY.month, TODAY.day) < (patient.birth_date.month, patient.birth_date.day))
        )
        assert 65 <= age <= 95
        assert 2 <= len(patient.conditions) <= 5
        assert len({c.icd10_code[:3] for c in patient.conditions}) == len(patient.conditions)
        for item in patient.enrollments:
            assert item.started_on < TODAY
            assert item.consent_on is None or item.consent_on <= item.started_on
            if item.program == "RPM":
                assert item.indication in {c.icd10_code for c in patient.conditions}
                assert item.ordered_on is not None and item.ordered_on < item.started_on
        assert all(visit.visited_on < TODAY for visit in patient.visits)


def test_the_first_patient_of_each_program_consented_before_the_earliest_demo_month() -> None:
    plan = plan_demo(patients=30, seed=1, today=TODAY)
    first_month = first_demo_month(TODAY)
    seen: set[str] = set()
    for patient in plan.of(RIVERSIDE):
        for item in patient.enrollments:
            if item.program in seen:
                continue
            seen.add(item.program)
            assert item.consent_on is not None and item.consent_on < first_month
            assert item.started_on < first_month
    assert seen == {"CCM", "RPM", "BHI", "PCM", "APCM", "CoCM"}


def test_every_lakeside_patient_is_planned_with_consent() -> None:
    plan = plan_demo(patients=30, seed=1, today=TODAY)
    assert all(
        patient.enrollments and all(e.consent_on for e in patient.enrollments)
        for patient in plan.of(LAKESIDE)
    )


def test_fewer_than_four_patients_cannot_be_planned() -> None:
    with pytest.raises(ValueError, match="at least 4"):
        plan_demo(patients=3, seed=1, today=TODAY)


def _planned_state(plan: CarePlanSpec | None, on: date) -> str:
    """Run the review clock over a planned care plan, as the database would see it on ``on``."""
    if plan is None:
        return State.MISSING
    published = [v for v in plan.versions if v.published_on <= on]
    if not published:
        return State.MISSING
    latest = published[-1]
    facts = VersionFacts(
        number=len(published),
        published_at=datetime.combine(latest.published_on, time(16), tzinfo=UTC),
        published_on=latest.published_on,
        shared_on=tuple(d for d in (latest.shared_on,) if d is not None),
    )
    stay = plan.hospital_stay
    events = ("Hospital stay",) if stay is not None and stay.discharged_on <= on else ()
    return review_status(facts, ChangeFacts(acute_events=events), on).state


@pytest.mark.parametrize("year", [2026, 2028])  # 2028 has a 29 February
def test_every_care_plan_state_is_planned_whatever_the_day(year: int) -> None:
    every_state = {
        State.MISSING,
        State.UNSHARED,
        State.DUE_SOON,
        State.OVERDUE,
        State.CHANGED,
        State.CURRENT,
    }
    today = date(year, 1, 1)
    while today.year == year:
        plan = plan_demo(patients=30, seed=1, today=today)
        month_end = today.replace(day=1) - timedelta(days=1)  # the previous month's last day
        states: set[str] = set()
        previous: set[str] = set()
        for patient in plan.of(RIVERSIDE):
            ccm = [e for e in patient.enrollments if e.program == "CCM" and e.consent_on]
            for care_plan in patient.care_plans:
                assert patient.charted_on < care_plan.versions[0].drafted_on
                assert all(v.published_on < today for v in care_plan.versions)
                assert all(v.shared_on is None or v.shared_on < today for v in care_plan.versions)
            assert all(c.onset_on <= patient.charted_on for c in patient.conditions)
            if not ccm:
                continue
            comprehensive = next((p for p in patient.care_plans if p.kind == "comprehensive"), None)
            state = _planned_state(comprehensive, today)
            assert comprehensive is None or comprehensive.state == state, (today, patient.mrn)
            states.add(state)
            if ccm[0].started_on <= month_end:
                previous.add(_planned_state(comprehensive, month_end))
        assert states == every_state, today
        assert {State.MISSING, State.CURRENT} <= previous, today
        first = plan.of(RIVERSIDE)[0].care_plans[0]
        assert _planned_state(first, first_demo_month(today) - timedelta(days=1)) == State.CURRENT
        today += timedelta(days=1)
