"""Plan the demo's patients as plain values: same seed, same count and same day, same plan.

Nothing here touches the database or the clock. Random choices (names, addresses, diagnoses)
come from ``random.Random(seed)``; the states later features and tests rely on (pending
consent, CCM with RPM, an RPM order, each care plan's review state …) are assigned by position,
never by chance, so every state exists for any ``patients >= 30``. Care plans are planned in
``careledger.demo.careplan_plan``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from careledger.demo.careplan_plan import (
    CarePlanSpec,
    latest_start,
    plan_care_plans,
    review_state,
)
from careledger.demo.data import (
    BEHAVIORAL_CONDITIONS,
    CHRONIC_CONDITIONS,
    FAMILY_NAMES,
    FEMALE_NAMES,
    LAKESIDE,
    MALE_NAMES,
    PLACES,
    RIVERSIDE,
    RPM_INDICATIONS,
    STREETS,
)
from careledger.demo.facts_plan import cocm_started_on, is_complex, revision_on

MIN_PATIENTS = 4
MIN_LAKESIDE_PATIENTS = 3

# CMS "Understanding the Medicare Beneficiary Identifier format": letters exclude S, L, O, I, B, Z.
_MBI_LETTERS = "ACDEFGHJKMNPQRTUVWXY"
_MBI_DIGITS = "0123456789"
_MBI_POSITIONS = (
    "123456789",
    _MBI_LETTERS,
    _MBI_LETTERS + _MBI_DIGITS,
    _MBI_DIGITS,
    _MBI_LETTERS,
    _MBI_LETTERS + _MBI_DIGITS,
    _MBI_DIGITS,
    _MBI_LETTERS,
    _MBI_LETTERS,
    _MBI_DIGITS,
    _MBI_DIGITS,
)

# Riverside's enrollments by position in a cycle of ten: (program, consented). Position 0 holds
# CCM and RPM together, so the lowest-id patient anchors both panels.
_RIVERSIDE_CYCLE: tuple[tuple[tuple[str, bool], ...], ...] = (
    (("CCM", True), ("RPM", True)),
    (("CCM", True),),
    (("RPM", True),),
    (("CCM", False),),  # enrolled, waiting for consent
    (("RPM", False),),  # ordered, waiting for consent
    (("CCM", True), ("BHI", True)),
    (("PCM", True),),
    (("APCM", True),),
    (("CCM", True), ("RPM", True)),
    (),  # not enrolled in any program
)
_CONSENT_METHODS = ("verbal", "written", "electronic")


@dataclass(frozen=True)
class ConditionSpec:
    icd10_code: str
    onset_on: date


@dataclass(frozen=True)
class VisitSpec:
    visited_on: date
    kind: str  # "em", "awv" or "ippe"
    em_level: int | None = None


@dataclass(frozen=True)
class EnrollmentSpec:
    program: str
    started_on: date
    consent_on: date | None  # None: pending, waiting for consent
    consent_method: str = ""
    ordered_on: date | None = None  # RPM/RTM only
    indication: str = ""


@dataclass(frozen=True)
class PatientSpec:
    practice: str
    mrn: str
    given_name: str
    family_name: str
    birth_date: date
    sex: str
    address_line: str
    city: str
    state: str
    postal_code: str
    phone: str
    mbi: str
    coverage: str
    qmb: bool
    conditions: tuple[ConditionSpec, ...]
    visits: tuple[VisitSpec, ...]
    enrollments: tuple[EnrollmentSpec, ...]
    # The problem list is charted on the initiating visit's day, before any care plan, so no
    # diagnosis looks new to a plan's review clock.
    charted_on: date
    care_plans: tuple[CarePlanSpec, ...]

    def patient_data(self) -> dict[str, Any]:
        """Return the fields ``create_patient`` takes."""
        return {
            "mrn": self.mrn,
            "given_name": self.given_name,
            "family_name": self.family_name,
            "birth_date": self.birth_date,
            "sex": self.sex,
            "address_line": self.address_line,
            "city": self.city,
            "state": self.state,
            "postal_code": self.postal_code,
            "phone": self.phone,
            "mbi": self.mbi,
            "coverage": self.coverage,
            "qmb": self.qmb,
        }


@dataclass(frozen=True)
class DemoPlan:
    seed: int
    today: date
    patients: tuple[PatientSpec, ...]

    def of(self, practice: str) -> tuple[PatientSpec, ...]:
        return tuple(p for p in self.patients if p.practice == practice)


def split_patients(total: int) -> tuple[int, int]:
    """Split the total into Riverside's 90% and Lakeside's 10% (at least three)."""
    lakeside = max(MIN_LAKESIDE_PATIENTS, round(total * 0.10))
    return total - lakeside, lakeside


def first_demo_month(today: date) -> date:
    """Return the first day of the earliest demo month (the month two before today's)."""
    month_index = today.year * 12 + today.month - 1 - 2
    return date(month_index // 12, month_index % 12 + 1, 1)


def plan_demo(*, patients: int, seed: int, today: date) -> DemoPlan:
    """Plan ``patients`` synthetic patients, their diagnoses, visits and enrollments."""
    if patients < MIN_PATIENTS:
        raise ValueError(f"the demo needs at least {MIN_PATIENTS} patients")
    rng = random.Random(seed)
    riverside, lakeside = split_patients(patients)
    planner = _Planner(rng=rng, today=today)
    specs = [planner.patient(RIVERSIDE, index) for index in range(riverside)]
    specs += [planner.patient(LAKESIDE, index) for index in range(lakeside)]
    return DemoPlan(seed=seed, today=today, patients=tuple(specs))


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year - years, day=28)


class _Planner:
    def __init__(self, *, rng: random.Random, today: date) -> None:
        self.rng = rng
        self.today = today
        self.yesterday = today - timedelta(days=1)
        self.first_month = first_demo_month(today)
        self.mbis: set[str] = set()
        self.anchored: set[tuple[str, str]] = set()

    def patient(self, practice: str, index: int) -> PatientSpec:
        rng = self.rng
        sex = "female" if rng.random() < 0.56 else "male"
        given = rng.choice(FEMALE_NAMES if sex == "female" else MALE_NAMES)
        family = rng.choice(FAMILY_NAMES)
        oldest = _years_before(self.today, 96) + timedelta(days=1)  # 95 at most
        youngest = _years_before(self.today, 65)
        birth_date = oldest + timedelta(days=rng.randint(0, (youngest - oldest).days))
        city, state, postal_code, area_code = rng.choice(PLACES[practice])
        address = f"{rng.randint(100, 9899)} {rng.choice(STREETS)}"
        phone = f"({area_code}) 555-01{rng.randint(0, 99):02d}"
        programs = self._programs(practice, index)
        conditions = self._conditions(programs)
        enrollments = tuple(
            self._enrollment(practice, index, program, consented, conditions)
            for program, consented in programs
        )
        cocm_on = cocm_started_on(practice, index, self.today, self.first_month)
        if cocm_on is not None:
            # Collaborative care (BHI-2), planned without drawing from rng so that adding it
            # kept every other patient of a seed as it was. The consent covers consultation
            # with the psychiatric consultant (BHI-1).
            enrollments += (EnrollmentSpec("CoCM", cocm_on, cocm_on, "written"),)
            if not any(c.icd10_code[:1] == "F" for c in conditions):
                behavioral = BEHAVIORAL_CONDITIONS[index % len(BEHAVIORAL_CONDITIONS)]
                onset = cocm_on - timedelta(days=60 + index % 90)
                conditions += (ConditionSpec(icd10_code=behavioral, onset_on=onset),)
        mbi = self._mbi()  # drawn before the visits, as ever, so a seed keeps its patients
        visits = self._visits(index, enrollments)
        if is_complex(practice, index):
            # The practitioner sees the patient the day the plan is substantially revised
            # (CCM-2); the visit also keeps CCM's initiating-visit rule met (CCM-7).
            visits += (VisitSpec(visited_on=revision_on(self.today), kind="em", em_level=4),)
        charted_on = visits[0].visited_on
        conditions = tuple(replace(c, onset_on=min(c.onset_on, charted_on)) for c in conditions)
        care_plans = plan_care_plans(
            practice=practice,
            index=index,
            enrollments=[(e.program, e.started_on, e.consent_on is not None) for e in enrollments],
            codes=[c.icd10_code for c in conditions],
            today=self.today,
            first_month=self.first_month,
        )
        # Medicare Advantage only for some patients outside every program (CCM and RPM bill FFS).
        advantage = not programs and index % 20 == 19
        prefix, first = ("RFM", 100001) if practice == RIVERSIDE else ("LIM", 200001)
        return PatientSpec(
            practice=practice,
            mrn=f"{prefix}{first + index}",
            given_name=given,
            family_name=family,
            birth_date=birth_date,
            sex=sex,
            address_line=address,
            city=city,
            state=state,
            postal_code=postal_code,
            phone=phone,
            mbi=mbi,
            coverage="medicare_advantage" if advantage else "medicare_ffs",
            qmb=index % 8 == 3,
            conditions=conditions,
            visits=visits,
            enrollments=enrollments,
            charted_on=charted_on,
            care_plans=care_plans,
        )

    def _programs(self, practice: str, index: int) -> tuple[tuple[str, bool], ...]:
        if practice == LAKESIDE:
            # Lakeside: everyone in CCM with consent, every third patient in RPM too.
            return (("CCM", True), ("RPM", True)) if index % 3 == 0 else (("CCM", True),)
        return _RIVERSIDE_CYCLE[index % len(_RIVERSIDE_CYCLE)]

    def _mbi(self) -> str:
        while True:
            mbi = "".join(self.rng.choice(allowed) for allowed in _MBI_POSITIONS)
            if mbi not in self.mbis:
                self.mbis.add(mbi)
                return mbi

    def _conditions(self, programs: tuple[tuple[str, bool], ...]) -> tuple[ConditionSpec, ...]:
        rng = self.rng
        count = rng.randint(2, 5)
        # The first diagnosis is one an RPM order can be written for, so every patient has one.
        codes = [rng.choice(RPM_INDICATIONS)]
        if any(program == "BHI" for program, _ in programs):
            codes.append(rng.choice(BEHAVIORAL_CONDITIONS))
        pool = [code for code, _ in CHRONIC_CONDITIONS]
        weights = [weight for _, weight in CHRONIC_CONDITIONS]
        while len(codes) < count:
            code = rng.choices(pool, weights)[0]
            # One code per category: E11.9 and E11.65 on one list would contradict each other.
            if all(code[:3] != chosen[:3] for chosen in codes):
                codes.append(code)
        return tuple(
            ConditionSpec(
                icd10_code=code, onset_on=self.today - timedelta(days=rng.randint(400, 15 * 365))
            )
            for code in codes
        )

    def _enrollment(
        self,
        practice: str,
        index: int,
        program: str,
        consented: bool,
        conditions: tuple[ConditionSpec, ...],
    ) -> EnrollmentSpec:
        rng = self.rng
        anchor = consented and (practice, program) not in self.anchored
        if anchor:
            # The lowest-id patient of each program: documented and consented since well
            # before the earliest demo month.
            self.anchored.add((practice, program))
            started_on = self.first_month - timedelta(days=60)
            consent_on: date | None = started_on - timedelta(days=3)
            method = "written"
        elif not consented:
            started_on = self.today - timedelta(days=3 + index % 10)
            consent_on = None
            method = ""
        else:
            if (index // 10) % 4 == 3:
                # A newcomer: enrolled during the previous month.
                previous_month = date(
                    self.today.year - (self.today.month == 1), (self.today.month - 2) % 12 + 1, 1
                )
                started_on = previous_month + timedelta(days=rng.randint(0, 20))
            else:
                started_on = self.first_month - timedelta(days=rng.randint(20, 500))
            consent_on = started_on - timedelta(days=rng.randint(0, 7))
            method = _CONSENT_METHODS[index % len(_CONSENT_METHODS)]
            # A plan published a year or more ago needs an enrollment older than it.
            limit = latest_start(review_state(practice, index, program), self.today)
            if limit is not None and started_on > limit:
                started_on = limit
        started_on = min(started_on, self.yesterday)
        if consent_on is not None:
            consent_on = min(consent_on, started_on)
        ordered_on = None
        indication = ""
        if program == "RPM":
            ordered_on = started_on - timedelta(days=7)
            indication = next(c.icd10_code for c in conditions if c.icd10_code in RPM_INDICATIONS)
        return EnrollmentSpec(
            program=program,
            started_on=started_on,
            consent_on=consent_on,
            consent_method=method,
            ordered_on=ordered_on,
            indication=indication,
        )

    def _visits(self, index: int, enrollments: tuple[EnrollmentSpec, ...]) -> tuple[VisitSpec, ...]:
        rng = self.rng
        # The initiating visit precedes the first enrollment (CCM-7, RPM-10: established patient).
        first_start = min((e.started_on for e in enrollments), default=self.yesterday)
        initiating_on = first_start - timedelta(days=rng.randint(7, 45))
        if index % 3 == 0:
            visits = [VisitSpec(visited_on=initiating_on, kind="awv")]
        else:
            visits = [VisitSpec(visited_on=initiating_on, kind="em", em_level=3 + index % 2)]
        if index % 4 == 1:
            span = (self.yesterday - self.first_month).days
            follow_up = self.first_month + timedelta(days=rng.randint(0, max(span, 0)))
            if follow_up > initiating_on:
                visits.append(VisitSpec(visited_on=follow_up, kind="em", em_level=3))
        return tuple(visits)
