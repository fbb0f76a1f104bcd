"""Write the demo through the same services as the app, so it leaves the same audit events."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import transaction

from careledger.accounts.access import PracticeContext
from careledger.accounts.models import Membership, Practice, User
from careledger.accounts.services import add_member, create_practice
from careledger.audit.services import record_event
from careledger.demo.data import DEMO_PASSWORD, LAKESIDE, PRACTICES, RIVERSIDE, STAFF
from careledger.demo.plan import DemoPlan, PatientSpec
from careledger.demo.time_plan import plan_entries
from careledger.patients.models import Patient
from careledger.patients.services import (
    Consent,
    Order,
    add_condition,
    create_patient,
    enroll,
    record_visit,
)
from careledger.timelog.models import Source
from careledger.timelog.services import Contact, log_contact


class DemoConflict(Exception):
    """The database holds part of the demo, or a user with a demo login's name."""


@dataclass(frozen=True)
class DemoResult:
    practices: int
    users: int
    patients: int
    conditions: int
    visits: int
    enrollments: int
    time_entries: int = 0


def demo_state() -> str:
    """Tell whether the demo is ``"absent"``, ``"loaded"`` or, refused, ``"partial"``."""
    found = Practice.objects.filter(slug__in=list(PRACTICES)).count()
    if found == 0:
        return "absent"
    return "loaded" if found == len(PRACTICES) else "partial"


def load_demo(
    *, plan: DemoPlan, now: datetime, on_patient: Callable[[], None] | None = None
) -> DemoResult:
    """Create the demo practices, logins and the planned patients in one transaction."""
    taken = sorted(
        User.objects.filter(username__in=[s.username for s in STAFF]).values_list(
            "username", flat=True
        )
    )
    if taken:
        raise DemoConflict(
            f"user {', '.join(taken)} already exists; load the demo into a fresh database"
        )
    counts = {"conditions": 0, "visits": 0, "enrollments": 0}
    with transaction.atomic():
        practices = {
            slug: create_practice(actor=None, data=data, now=now)
            for slug, data in PRACTICES.items()
        }
        members: dict[str, Membership] = {}
        for staff in STAFF:
            user = User(
                username=staff.username,
                first_name=staff.first_name,
                last_name=staff.last_name,
                email=f"{staff.username}@{staff.practice}.example.org",
            )
            # set_password skips AUTH_PASSWORD_VALIDATORS on purpose: "demo" is the documented
            # demo password (API.md, "The demo") and would fail every validator.
            user.set_password(DEMO_PASSWORD)
            user.save()
            members[staff.username] = add_member(
                actor=None,
                practice=practices[staff.practice],
                user=user,
                role=staff.role,
                credential=staff.credential,
                npi=staff.npi,
                now=now,
            )
        teams = {
            RIVERSIDE: (members["coordinator"], members["practitioner"]),
            LAKESIDE: (members["coordinator2"], members["practitioner2"]),
        }
        for spec in plan.patients:
            coordinator, practitioner = teams[spec.practice]
            _load_patient(spec, coordinator, practitioner.user, now, counts)
            if on_patient is not None:
                on_patient()
        counts["time_entries"] = _load_entries(plan, practices, teams)
        result = DemoResult(
            practices=len(practices),
            users=len(members),
            patients=len(plan.patients),
            conditions=counts["conditions"],
            visits=counts["visits"],
            enrollments=counts["enrollments"],
            time_entries=counts["time_entries"],
        )
        record_event(
            "demo.loaded",
            actor=None,
            details={
                "seed": plan.seed,
                "today": plan.today.isoformat(),
                "patients": result.patients,
                "practices": sorted(practices),
            },
            now=now,
        )
    return result


def _load_patient(
    spec: PatientSpec,
    coordinator: Membership,
    practitioner: User,
    now: datetime,
    counts: dict[str, int],
) -> None:
    # The coordinator enters the record and obtains consent; the practitioner bills and orders.
    ctx = PracticeContext(user=coordinator.user, membership=coordinator, source_ip=None)
    patient = create_patient(
        ctx=ctx, data={**spec.patient_data(), "coordinator": coordinator.user}, now=now
    )
    for condition in spec.conditions:
        add_condition(
            ctx=ctx,
            patient=patient,
            icd10_code=condition.icd10_code,
            onset_on=condition.onset_on,
            now=now,
        )
        counts["conditions"] += 1
    for visit in spec.visits:
        record_visit(
            ctx=ctx,
            patient=patient,
            practitioner=practitioner,
            visited_on=visit.visited_on,
            kind=visit.kind,
            em_level=visit.em_level,
            now=now,
        )
        counts["visits"] += 1
    for item in spec.enrollments:
        consent = None
        if item.consent_on is not None:
            consent = Consent(
                consent_on=item.consent_on,
                method=item.consent_method,
                obtained_by=coordinator.user,
                told_cost_sharing=True,
                told_one_practitioner=True,
                told_right_to_stop=True,
                told_specialist_consultation=True,
            )
        order = None
        if item.ordered_on is not None:
            order = Order(
                ordered_on=item.ordered_on,
                ordering_practitioner=practitioner,
                indication=item.indication,
            )
        enroll(
            ctx=ctx,
            patient=patient,
            program=item.program,
            billing_practitioner=practitioner,
            started_on=item.started_on,
            consent=consent,
            order=order,
            now=now,
        )
        counts["enrollments"] += 1


def _load_entries(
    plan: DemoPlan,
    practices: dict[str, Practice],
    teams: dict[str, tuple[Membership, Membership]],
) -> int:
    """Log the planned contacts, each posted three minutes after it ended (so none is late)."""
    timezones = {slug: practice.timezone for slug, practice in practices.items()}
    patients = {
        (p.practice.slug, p.mrn): p
        for p in Patient.objects.filter(practice__in=practices.values()).select_related("practice")
    }
    count = 0
    for item in plan_entries(plan, timezones):
        coordinator = teams[item.practice][0]
        ctx = PracticeContext(user=coordinator.user, membership=coordinator, source_ip=None)
        started_at = item.started_at.astimezone(UTC)
        ended_at = started_at + timedelta(minutes=item.minutes)
        contact = Contact(
            program=item.program,
            kind=item.kind,
            outcome=item.outcome,
            started_at=started_at,
            ended_at=ended_at,
            summary=item.summary,
            source=Source.MANUAL,
        )
        log_contact(
            ctx=ctx,
            patient=patients[(item.practice, item.mrn)],
            contact=contact,
            now=ended_at + timedelta(minutes=3),
        )
        count += 1
    return count
