"""A synthetic health system: many practices, coordinators, patients, entries and readings.

``careledger demo --scale health-system`` (or ``--patients N --practices K``) loads it. Unlike
the two-practice demo it does not go through the services row by row: 100,000 patients with
two months of time entries and about eight million readings would take hours that way. It
writes with bulk inserts (``RowWriter``: COPY on PostgreSQL, ``executemany`` on SQLite) inside
one transaction with one ``demo.loaded`` audit event saying what was loaded. The rows are
the ones the services would write for the same facts: active enrollments with consent, an
order for RPM, coordinators and practitioners with memberships, one cuff per RPM patient,
readings with unique vendor ids, time entries with credential, rule class, countability and
the interactive flag. Model history (django-simple-history) is not written for them.

Deterministic: the same seed, sizes and ``today`` give the same rows (one ``random.Random``
per practice, seeded by a string), in any database that starts without them.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import make_password
from django.db import transaction

from careledger.accounts.models import Membership, Practice, User
from careledger.audit.services import record_event
from careledger.demo.data import (
    CHRONIC_CONDITIONS,
    DEMO_PASSWORD,
    FAMILY_NAMES,
    FEMALE_NAMES,
    MALE_NAMES,
)
from careledger.demo.rows import RowWriter, next_id, reset_sequences
from careledger.devices.models import Device, Reading, ReadingBatch, Vendor
from careledger.lib.identifiers import npi_problem
from careledger.patients.models import Condition, Enrollment, Patient, Visit
from careledger.timelog.models import TimeEntry

HEALTH_SYSTEM = {"patients": 100_000, "practices": 50}
SLUG_PREFIX = "hs-"
COORDINATORS_PER_PRACTICE = 8  # 400 coordinators for 50 practices
PRACTITIONERS_PER_PRACTICE = 2
ZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles")
# Program mixes and their shares: about 1.7 patient-programs per patient, 82% on RPM.
PROGRAM_MIXES: tuple[tuple[tuple[str, ...], float], ...] = (
    (("CCM", "RPM"), 0.70),
    (("RPM",), 0.12),
    (("CCM",), 0.12),
    (("PCM",), 0.06),
)
# A month's minutes per patient-program: about a quarter under 20, 45% 20-39, 20% 40-59, 10% 60+.
MINUTE_BANDS: tuple[tuple[float, int, int, tuple[int, int]], ...] = (
    (0.25, 5, 19, (1, 1)),
    (0.70, 20, 39, (1, 2)),
    (0.90, 40, 59, (1, 2)),
    (1.00, 60, 85, (2, 3)),
)
VOICEMAIL_SHARE = 0.2
# Readings: about 30% of RPM patient-months under 16 reading days; 1-3 readings a day.
FEW_DAYS_SHARE = 0.3
READINGS_A_DAY = ((1, 0.15), (2, 0.35), (3, 0.5))
# CMS's MBI format: letters exclude S, L, O, I, B, Z.
_LETTERS = "ACDEFGHJKMNPQRTUVWXY"
_DIGITS = "0123456789"
MBI_POSITIONS = (
    "123456789",
    _LETTERS,
    _LETTERS + _DIGITS,
    _DIGITS,
    _LETTERS,
    _LETTERS + _DIGITS,
    _DIGITS,
    _LETTERS,
    _LETTERS,
    _DIGITS,
    _DIGITS,
)
CONDITION_CODES = tuple(code for code, _ in CHRONIC_CONDITIONS)
CONDITION_WEIGHTS = tuple(weight for _, weight in CHRONIC_CONDITIONS)


@dataclass
class ScaleResult:
    practices: int = 0
    users: int = 0
    patients: int = 0
    enrollments: int = 0
    conditions: int = 0
    visits: int = 0
    devices: int = 0
    time_entries: int = 0
    readings: int = 0


@dataclass(frozen=True)
class ScalePlan:
    """What to generate: sizes, seed, and the two complete months before ``today``."""

    patients: int
    practices: int
    seed: int
    today: date

    @property
    def months(self) -> tuple[date, date]:
        """Return the first days of the two months before today's month, oldest first."""
        first = self.today.replace(day=1)
        previous = (first - timedelta(days=1)).replace(day=1)
        before = (previous - timedelta(days=1)).replace(day=1)
        return before, previous

    def practice_sizes(self) -> list[int]:
        """Spread the patients over the practices as evenly as possible."""
        base, extra = divmod(self.patients, self.practices)
        return [base + (1 if n < extra else 0) for n in range(self.practices)]


def scale_state() -> str:
    """Tell whether a health system is loaded: "empty" or "loaded"."""
    return "loaded" if Practice.objects.filter(slug__startswith=SLUG_PREFIX).exists() else "empty"


def make_npi(number: int) -> str:
    """Return a valid (check digit) NPI for a sequence number."""
    stem = f"1{number % 10**8:08d}"
    for digit in "0123456789":
        if npi_problem(stem + digit) is None:
            return stem + digit
    raise AssertionError("no check digit fits")  # pragma: no cover - Luhn always has one


def _month_days(first: date) -> list[date]:
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return [first + timedelta(days=n) for n in range(last.day)]


def _pick(rng: random.Random, weighted: tuple[tuple[Any, float], ...]) -> Any:
    roll = rng.random()
    total = 0.0
    for value, share in weighted:
        total += share
        if roll < total:
            return value
    return weighted[-1][0]


@dataclass
class _Staff:
    coordinators: list[int]
    practitioners: list[int]


def _create_practice(
    plan: ScalePlan, number: int, now: datetime, password: str
) -> tuple[Practice, _Staff, Vendor, ReadingBatch]:
    slug = f"{SLUG_PREFIX}{number + 1:03d}"
    practice = Practice.objects.create(
        name=f"Health System Practice {number + 1}",
        slug=slug,
        timezone=ZONES[number % len(ZONES)],
        billing_npi=make_npi(plan.seed * 100_000 + number * 100),
        tax_id=f"{(number + 10) % 100:02d}{plan.seed % 10_000_000:07d}",
    )
    people: list[tuple[str, str, str, str]] = [("manager", "manager", "RN", "")]
    people += [
        (f"coordinator{k + 1}", "coordinator", "RN", "") for k in range(COORDINATORS_PER_PRACTICE)
    ]
    people += [
        (
            f"practitioner{k + 1}",
            "practitioner",
            "MD",
            make_npi(plan.seed * 100_000 + number * 100 + k + 1),
        )
        for k in range(PRACTITIONERS_PER_PRACTICE)
    ]
    users = User.objects.bulk_create(
        [
            User(username=f"{slug}-{name}", password=password, first_name=name.title())
            for name, _, _, _ in people
        ]
    )
    Membership.objects.bulk_create(
        [
            Membership(
                user=user,
                practice=practice,
                role=role,
                credential=credential,
                rule_class="physician_qhp" if role == "practitioner" else "clinical_staff",
                npi=npi,
            )
            for user, (_, role, credential, npi) in zip(users, people, strict=True)
        ]
    )
    vendor = Vendor.objects.create(
        practice=practice,
        slug=f"{slug}-cuffs",
        name="Synthetic cuffs",
        webhook_secret=f"scale-{plan.seed}-{number}",
        created_at=now,
    )
    batch = ReadingBatch.objects.create(
        practice=practice, via="import", vendor=vendor, received_at=now, source_name="scale"
    )
    staff = _Staff(
        coordinators=[u.pk for u, p in zip(users, people, strict=True) if p[1] == "coordinator"],
        practitioners=[u.pk for u, p in zip(users, people, strict=True) if p[1] == "practitioner"],
    )
    return practice, staff, vendor, batch


PATIENT_FIELDS = (
    "id",
    "practice",
    "mrn",
    "given_name",
    "family_name",
    "birth_date",
    "sex",
    "coverage",
    "mbi",
    "coordinator",
    "created_at",
)
CONDITION_FIELDS = ("patient", "icd10_code", "description", "chronic", "onset_on", "created_at")
VISIT_FIELDS = ("patient", "practitioner", "visited_on", "kind", "created_at")
ENROLLMENT_FIELDS = (
    "id",
    "patient",
    "program",
    "status",
    "billing_practitioner",
    "started_on",
    "ordered_on",
    "ordering_practitioner",
    "order_indication",
    "consent_on",
    "consent_method",
    "consent_obtained_by",
    "told_cost_sharing",
    "told_one_practitioner",
    "told_right_to_stop",
    "created_at",
)
DEVICE_FIELDS = (
    "id",
    "practice",
    "patient",
    "program",
    "type",
    "vendor",
    "serial",
    "fda_cleared",
    "assigned_on",
    "created_at",
)
ENTRY_FIELDS = (
    "practice",
    "patient",
    "enrollment",
    "program",
    "staff",
    "credential",
    "rule_class",
    "started_at",
    "ended_at",
    "seconds",
    "kind",
    "outcome",
    "summary",
    "source",
    "interactive",
    "countable",
    "not_countable_code",
    "not_countable_reason",
    "created_by",
    "created_at",
    "updated_at",
)
READING_FIELDS = (
    "practice",
    "patient",
    "device",
    "vendor",
    "batch",
    "program",
    "vendor_reading_id",
    "type",
    "measured_at",
    "measured_on",
    "received_at",
    "source",
    "systolic",
    "diastolic",
    "pulse",
    "unit",
    "original_unit",
)


@dataclass
class _Patient:
    id: int
    coordinator: int
    practitioner: int
    programs: tuple[str, ...]
    enrollments: dict[str, int]
    device: int | None
    mrn: str


class _Writers:
    def __init__(self) -> None:
        self.patient = RowWriter(Patient, PATIENT_FIELDS)
        self.condition = RowWriter(Condition, CONDITION_FIELDS)
        self.visit = RowWriter(Visit, VISIT_FIELDS)
        self.enrollment = RowWriter(Enrollment, ENROLLMENT_FIELDS)
        self.device = RowWriter(Device, DEVICE_FIELDS)
        self.entry = RowWriter(TimeEntry, ENTRY_FIELDS)
        self.reading = RowWriter(Reading, READING_FIELDS)


def load_scale(
    *,
    plan: ScalePlan,
    now: datetime,
    on_progress: Callable[[str, int], None] | None = None,
) -> ScaleResult:
    """Generate and store the health system in one transaction; return what was stored.

    ``on_progress(stage, count)`` is told after each practice's patients, entries and readings.
    """
    progress = on_progress or (lambda stage, count: None)
    result = ScaleResult()
    password = make_password(DEMO_PASSWORD)  # hashed once: one known password for every login
    with transaction.atomic():
        writers = _Writers()
        ids = {"patient": next_id(Patient), "enrollment": next_id(Enrollment)}
        ids["device"] = next_id(Device)
        for number, size in enumerate(plan.practice_sizes()):
            practice, staff, vendor, batch = _create_practice(plan, number, now, password)
            rng = random.Random(f"careledger-scale:{plan.seed}:{number}")
            patients = _patients(plan, rng, practice, staff, size, ids, writers, now)
            progress("patients", len(patients))
            entries = writers.entry.write(_entries(plan, rng, practice, patients, now))
            progress("time entries", entries)
            readings = writers.reading.write(
                _readings(plan, rng, practice, vendor, batch, patients)
            )
            progress("readings", readings)
            result.practices += 1
            result.users += 1 + COORDINATORS_PER_PRACTICE + PRACTITIONERS_PER_PRACTICE
        reset_sequences([Patient, Enrollment, Device, Condition, Visit, TimeEntry, Reading])
        result.patients = writers.patient.written
        result.enrollments = writers.enrollment.written
        result.conditions = writers.condition.written
        result.visits = writers.visit.written
        result.devices = writers.device.written
        result.time_entries = writers.entry.written
        result.readings = writers.reading.written
        record_event(
            "demo.loaded",
            actor=None,
            details={
                "scale": True,
                "seed": plan.seed,
                "today": plan.today.isoformat(),
                "months": [m.isoformat()[:7] for m in plan.months],
                **asdict(result),
            },
            now=now,
        )
    return result


def _patients(
    plan: ScalePlan,
    rng: random.Random,
    practice: Practice,
    staff: _Staff,
    size: int,
    ids: dict[str, int],
    writers: _Writers,
    now: datetime,
) -> list[_Patient]:
    """Write the practice's patients, conditions, visits, enrollments and devices."""
    first_month = plan.months[0]
    patients: list[_Patient] = []
    patient_rows, condition_rows, visit_rows, enrollment_rows, device_rows = [], [], [], [], []
    for n in range(size):
        pid = ids["patient"]
        ids["patient"] += 1
        female = rng.random() < 0.55
        given = rng.choice(FEMALE_NAMES if female else MALE_NAMES)
        birth = date(1930 + rng.randrange(30), 1 + rng.randrange(12), 1 + rng.randrange(28))
        coordinator = staff.coordinators[n % len(staff.coordinators)]
        practitioner = staff.practitioners[n % len(staff.practitioners)]
        mrn = f"{practice.slug.upper()}-{n + 1:06d}"
        patient_rows.append(
            (
                pid,
                practice.pk,
                mrn,
                given,
                rng.choice(FAMILY_NAMES),
                birth,
                "female" if female else "male",
                "medicare_ffs",
                "".join(rng.choice(allowed) for allowed in MBI_POSITIONS),
                coordinator,
                now,
            )
        )
        codes: list[str] = []
        while len(codes) < 2 + rng.randrange(3):
            code = rng.choices(CONDITION_CODES, CONDITION_WEIGHTS)[0]
            if code not in codes:
                codes.append(code)
        for code in codes:
            condition_rows.append(
                (pid, code, f"Chronic condition {code}", True, date(2019, 1, 1), now)
            )
        # Seen by the billing practitioner within the year: established, no initiating visit due.
        visit_rows.append(
            (pid, practitioner, first_month - timedelta(days=20 + rng.randrange(300)), "em", now)
        )
        programs: tuple[str, ...] = _pick(rng, PROGRAM_MIXES)
        started = first_month - timedelta(days=60 + rng.randrange(600))
        enrollments: dict[str, int] = {}
        for program in programs:
            eid = ids["enrollment"]
            ids["enrollment"] += 1
            enrollments[program] = eid
            device_program = program == "RPM"
            enrollment_rows.append(
                (
                    eid,
                    pid,
                    program,
                    "active",
                    practitioner,
                    started,
                    started if device_program else None,
                    practitioner if device_program else None,
                    codes[0] if device_program else "",
                    started,
                    "verbal",
                    coordinator,
                    True,
                    True,
                    True,
                    now,
                )
            )
        device = None
        if "RPM" in programs:
            device = ids["device"]
            ids["device"] += 1
            device_rows.append(
                (
                    device,
                    practice.pk,
                    pid,
                    "RPM",
                    "blood_pressure",
                    None,  # vendor: filled below
                    f"{practice.slug.upper()}-CUFF-{n + 1:06d}",
                    True,
                    started,
                    now,
                )
            )
        patients.append(
            _Patient(pid, coordinator, practitioner, programs, enrollments, device, mrn)
        )
    vendor_id = Vendor.objects.filter(practice=practice).values_list("pk", flat=True)[0]
    writers.patient.write(patient_rows)
    writers.condition.write(condition_rows)
    writers.visit.write(visit_rows)
    writers.enrollment.write(enrollment_rows)
    writers.device.write((*row[:5], vendor_id, *row[6:]) for row in device_rows)
    return patients


def _split(rng: random.Random, minutes: int, parts: int) -> list[int]:
    if parts <= 1 or minutes < parts * 5:
        return [minutes]
    cuts = sorted(rng.sample(range(5, minutes - 4), parts - 1)) if minutes - 9 >= parts else []
    if len(cuts) != parts - 1:
        return [minutes]
    bounds = [0, *cuts, minutes]
    return [b - a for a, b in itertools.pairwise(bounds) if b > a]


def _entries(
    plan: ScalePlan,
    rng: random.Random,
    practice: Practice,
    patients: list[_Patient],
    now: datetime,
) -> Iterator[tuple[Any, ...]]:
    """Yield two months of time entries for each patient-program, business hours, local time."""
    zone = ZoneInfo(practice.timezone)
    workdays = {m: [d for d in _month_days(m) if d.weekday() < 5] for m in plan.months}
    for patient in patients:
        for program in patient.programs:
            enrollment = patient.enrollments[program]
            for month in plan.months:
                roll = rng.random()
                band = next(b for b in MINUTE_BANDS if roll < b[0])
                minutes = rng.randint(band[1], band[2])
                parts = _split(rng, minutes, rng.randint(*band[3]))
                calls = [("voicemail", 2)] if rng.random() < VOICEMAIL_SHARE else []
                for index, part in enumerate(parts):
                    if index == 0 and program in ("CCM", "RPM", "PCM"):
                        kind = "interactive_call"
                    else:
                        kind = "data_review" if program == "RPM" else "care_coordination"
                    calls.append((kind, part))
                for kind, part in calls:
                    day = rng.choice(workdays[month])
                    local = datetime.combine(
                        day, time(8 + rng.randrange(8), rng.randrange(60)), tzinfo=zone
                    )
                    started_at = local.astimezone(UTC)
                    ended_at = started_at + timedelta(minutes=part)
                    voicemail = kind == "voicemail"
                    yield (
                        practice.pk,
                        patient.id,
                        enrollment,
                        program,
                        patient.coordinator,
                        "RN",
                        "clinical_staff",
                        started_at,
                        ended_at,
                        part * 60,
                        kind,
                        "left_voicemail"
                        if voicemail
                        else ("reached" if kind == "interactive_call" else "not_applicable"),
                        "" if voicemail else "Reviewed readings and plan; no change needed.",
                        "manual",
                        kind == "interactive_call",
                        not voicemail,
                        "unreached" if voicemail else "",
                        "Did not reach the patient (P3)." if voicemail else "",
                        patient.coordinator,
                        ended_at + timedelta(minutes=5),
                        ended_at + timedelta(minutes=5),
                    )


def _readings(
    plan: ScalePlan,
    rng: random.Random,
    practice: Practice,
    vendor: Vendor,
    batch: ReadingBatch,
    patients: list[_Patient],
) -> Iterator[tuple[Any, ...]]:
    """Yield 0-3 automatic cuff readings a day; about 30% of patient-months under 16 days."""
    zone = ZoneInfo(practice.timezone)
    days_of = {m: _month_days(m) for m in plan.months}
    for patient in patients:
        if patient.device is None:
            continue
        serial = 0
        for month in plan.months:
            days = days_of[month]
            count = (
                rng.randint(4, 15) if rng.random() < FEW_DAYS_SHARE else rng.randint(16, len(days))
            )
            for day in sorted(rng.sample(days, count)):
                for _ in range(_pick(rng, READINGS_A_DAY)):
                    serial += 1
                    local = datetime.combine(
                        day, time(6 + rng.randrange(16), rng.randrange(60)), tzinfo=zone
                    )
                    measured_at = local.astimezone(UTC)
                    yield (
                        practice.pk,
                        patient.id,
                        patient.device,
                        vendor.pk,
                        batch.pk,
                        "RPM",
                        f"{patient.mrn}-{serial}",
                        "blood_pressure",
                        measured_at,
                        day,
                        measured_at + timedelta(minutes=2),
                        "automatic",
                        float(110 + rng.randrange(30)),
                        float(70 + rng.randrange(15)),
                        float(60 + rng.randrange(30)),
                        "mm[Hg]",
                        "mm[Hg]",
                    )
