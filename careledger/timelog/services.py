"""Log contacts, amend and void them, and run timers; each write leaves one audit event."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction

from careledger.accounts.access import PracticeContext
from careledger.accounts.models import Membership, User
from careledger.accounts.roles import RuleClass
from careledger.audit.services import record_event
from careledger.lib.text import count_sentences
from careledger.locks.models import month_is_locked
from careledger.patients.models import Enrollment, Patient
from careledger.timelog.models import (
    INTERACTIVE_KINDS,
    UNREACHED_OUTCOMES,
    Kind,
    NotCountable,
    Outcome,
    Source,
    TimeEntry,
    Timer,
)

MAX_ENTRY = timedelta(hours=4)
LATE_AFTER = timedelta(hours=48)
CLOCK_SKEW = timedelta(seconds=60)
AMENDABLE = ("program", "kind", "outcome", "started_at", "ended_at", "summary")


@dataclass(frozen=True)
class Contact:
    """What a coordinator says about one contact or stretch of work."""

    program: str
    kind: str
    outcome: str
    started_at: datetime
    ended_at: datetime
    summary: str = ""
    source: str = Source.MANUAL
    reason: str = ""


@dataclass(frozen=True)
class Countability:
    interactive: bool
    countable: bool
    reason: str
    code: str = ""


class EntryErrors:
    """Collect every problem with an entry, each under its field."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(message)

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)


def _local_date(moment: datetime, tz: str) -> date:
    return moment.astimezone(ZoneInfo(tz)).date()


def _month_of(moment: datetime, tz: str) -> str:
    return _local_date(moment, tz).strftime("%Y-%m")


def enrollment_for(patient: Patient, program: str, on: date) -> Enrollment | None:
    """Pick the patient's enrollment in ``program`` that spans ``on``, else the latest one."""
    enrollments = list(patient.enrollments.filter(program=program).order_by("-started_on", "-id"))
    for enrollment in enrollments:
        if enrollment.started_on <= on and (
            enrollment.ended_on is None or on <= enrollment.ended_on
        ):
            return enrollment
    return enrollments[0] if enrollments else None


def countability(
    *, kind: str, outcome: str, rule_class: str, enrollment: Enrollment, on: date
) -> Countability:
    """Decide whether an entry is interactive and countable, with the reason when it is not."""
    interactive = kind in INTERACTIVE_KINDS and outcome == Outcome.REACHED
    if kind == Kind.VOICEMAIL or outcome in UNREACHED_OUTCOMES:
        reason = "P3: a voicemail or an attempt that did not reach the patient is not counted."
        return Countability(False, False, reason, NotCountable.UNREACHED)
    if rule_class == RuleClass.NON_CLINICAL:
        reason = "CCM-4: non-clinical staff time never counts."
        return Countability(interactive, False, reason, NotCountable.NON_CLINICAL)
    if enrollment.consent_on is None:
        reason = "P12: no consent is recorded for this program."
        return Countability(interactive, False, reason, NotCountable.NO_CONSENT)
    if on < enrollment.consent_on:
        reason = f"P12: before the patient's consent on {enrollment.consent_on.isoformat()}."
        return Countability(interactive, False, reason, NotCountable.BEFORE_CONSENT)
    if on < enrollment.started_on or (enrollment.ended_on is not None and on > enrollment.ended_on):
        reason = "Outside the enrollment's active span."
        return Countability(interactive, False, reason, NotCountable.OUTSIDE_ENROLLMENT)
    return Countability(interactive, True, "")


def _membership(ctx: PracticeContext, staff: User | None) -> Membership:
    if staff is None or staff.pk == ctx.user.pk:
        return ctx.membership
    membership = Membership.objects.filter(
        practice=ctx.practice, user=staff, is_active=True
    ).first()
    if membership is None:
        raise ValidationError({"staff": ["This person is not a member of the practice."]})
    return membership


def _check(
    *,
    ctx: PracticeContext,
    patient: Patient,
    contact: Contact,
    membership: Membership,
    now: datetime,
    entry_id: int | None = None,
) -> tuple[Enrollment, Countability, bool]:
    """Validate a contact; return its enrollment, countability and whether it is late."""
    errors = EntryErrors()
    tz = ctx.practice.timezone
    start, end = contact.started_at, contact.ended_at
    for name, value in (("started_at", start), ("ended_at", end)):
        if value.tzinfo is None:
            errors.add(name, "Give the time with its UTC offset.")
    errors.raise_if_any()
    if contact.kind not in Kind.values:
        errors.add("kind", f"Choose one of: {', '.join(Kind.values)}.")
    if contact.outcome not in Outcome.values:
        errors.add("outcome", f"Choose one of: {', '.join(Outcome.values)}.")
    elif contact.kind in INTERACTIVE_KINDS and contact.outcome == Outcome.NOT_APPLICABLE:
        errors.add("outcome", "Say whether the call reached the patient.")
    if contact.source not in Source.values:
        errors.add("source", f"Choose one of: {', '.join(Source.values)}.")
    if end <= start:
        errors.add("ended_at", "The end must be after the start.")
    elif end - start > MAX_ENTRY:
        errors.add("ended_at", "An entry may last at most 4 hours; split longer work.")
    if end > now + CLOCK_SKEW:
        errors.add("ended_at", "An entry cannot end in the future.")
    on = _local_date(start, tz)
    enrollment = enrollment_for(patient, contact.program, on)
    if enrollment is None:
        errors.add("program", f"The patient has no {contact.program} enrollment.")
    errors.raise_if_any()
    assert enrollment is not None
    decision = countability(
        kind=contact.kind,
        outcome=contact.outcome,
        rule_class=membership.rule_class,
        enrollment=enrollment,
        on=on,
    )
    needed = ctx.practice.min_summary_sentences if decision.countable else 1
    if count_sentences(contact.summary) < needed:
        errors.add(
            "summary",
            f"Write at least {needed} sentence{'s' if needed > 1 else ''} of what happened"
            + (" (clinical content)." if decision.countable else "."),
        )
    locked = any(
        month_is_locked(practice=ctx.practice, month=_month_of(t, tz)) for t in (start, end)
    )
    late = locked or now - end > LATE_AFTER
    if late and not contact.reason.strip():
        why = "falls in a locked month" if locked else "is posted more than 48 hours after it ended"
        errors.add("reason", f"This entry {why}: say why it is recorded now.")
    overlapping = TimeEntry.objects.filter(
        staff_id=membership.user_id, voided_at__isnull=True, started_at__lt=end, ended_at__gt=start
    )
    if entry_id is not None:
        overlapping = overlapping.exclude(pk=entry_id)
    clash = overlapping.order_by("started_at").first()
    if clash is not None:
        local = clash.started_at.astimezone(ZoneInfo(tz))
        errors.add(
            "started_at",
            f"Overlaps entry {clash.pk} by {membership.user.get_username()} that started "
            f"{local:%Y-%m-%d %H:%M}; one person cannot log two contacts at the same time.",
        )
    errors.raise_if_any()
    return enrollment, decision, late


def _lock_staff(user_id: int) -> None:
    # Serialize one person's writes so two overlapping entries cannot both pass the check.
    User.objects.select_for_update().filter(pk=user_id).first()


def _in_utc(contact: Contact) -> Contact:
    """Put the times in UTC (case 28): Python subtracts and compares two times of one zone
    by their wall clocks, so a span across a daylight-saving change would be an hour off."""
    return replace(
        contact,
        started_at=contact.started_at.astimezone(UTC),
        ended_at=contact.ended_at.astimezone(UTC),
    )


def log_contact(
    *,
    ctx: PracticeContext,
    patient: Patient,
    contact: Contact,
    now: datetime,
    staff: User | None = None,
) -> TimeEntry:
    """Record one contact for the caller (or a named staff member of the practice)."""
    contact = _in_utc(contact)
    membership = _membership(ctx, staff)
    with transaction.atomic():
        _lock_staff(membership.user_id)
        enrollment, decision, late = _check(
            ctx=ctx, patient=patient, contact=contact, membership=membership, now=now
        )
        entry = TimeEntry(
            practice=ctx.practice,
            patient=patient,
            enrollment=enrollment,
            program=contact.program,
            staff_id=membership.user_id,
            credential=membership.credential,
            rule_class=membership.rule_class,
            bh_care_manager=membership.bh_care_manager,
            started_at=contact.started_at,
            ended_at=contact.ended_at,
            seconds=int((contact.ended_at - contact.started_at).total_seconds()),
            kind=contact.kind,
            outcome=contact.outcome,
            summary=contact.summary.strip(),
            source=contact.source,
            interactive=decision.interactive,
            countable=decision.countable,
            not_countable_code=decision.code,
            not_countable_reason=decision.reason,
            late=late,
            late_reason=contact.reason.strip() if late else "",
            created_by=ctx.user,
            created_at=now,
            updated_at=now,
        )
        entry._history_user = ctx.user  # type: ignore[attr-defined]
        entry._history_date = now  # type: ignore[attr-defined]
        entry._change_reason = "created"  # type: ignore[attr-defined]
        entry.save()
        record_event(
            "timeentry.created",
            actor=ctx.user,
            practice=ctx.practice,
            patient_id=patient.pk,
            obj=entry,
            source_ip=ctx.source_ip,
            details={
                "program": entry.program,
                "seconds": entry.seconds,
                "countable": entry.countable,
                "late": entry.late,
                "source": entry.source,
            },
            now=now,
        )
    return entry


def amend_entry(
    *, ctx: PracticeContext, entry: TimeEntry, changes: dict[str, Any], reason: str, now: datetime
) -> TimeEntry:
    """Amend an entry: the old version stays in its history with who, when and why."""
    if not reason.strip():
        raise ValidationError({"reason": ["Say why the entry is amended."]})
    if entry.voided:
        raise ValidationError({"reason": ["A voided entry cannot be amended."]})
    unknown = set(changes) - set(AMENDABLE)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: ["This field cannot be amended."]})
    current = Contact(
        program=entry.program,
        kind=entry.kind,
        outcome=entry.outcome,
        started_at=entry.started_at,
        ended_at=entry.ended_at,
        summary=entry.summary,
        source=entry.source,
    )
    amended = _in_utc(replace(current, **changes, reason=reason))
    changed = sorted(k for k in changes if getattr(current, k) != getattr(amended, k))
    if not changed:
        raise ValidationError({"reason": ["Nothing would change."]})
    membership = Membership(
        user_id=entry.staff_id,
        practice=ctx.practice,
        credential=entry.credential,
        rule_class=entry.rule_class,
        bh_care_manager=entry.bh_care_manager,
    )
    with transaction.atomic():
        _lock_staff(entry.staff_id)
        # An amendment made now may be late even if the first version was not.
        enrollment, decision, _late = _check(
            ctx=ctx,
            patient=entry.patient,
            contact=replace(amended, reason=reason or "amendment"),
            membership=membership,
            now=now,
            entry_id=entry.pk,
        )
        for name in AMENDABLE:
            setattr(entry, name, getattr(amended, name))
        entry.summary = amended.summary.strip()
        entry.enrollment = enrollment
        entry.seconds = int((amended.ended_at - amended.started_at).total_seconds())
        entry.interactive = decision.interactive
        entry.countable = decision.countable
        entry.not_countable_code = decision.code
        entry.not_countable_reason = decision.reason
        entry.version += 1
        entry.updated_at = now
        entry._history_user = ctx.user  # type: ignore[attr-defined]
        entry._history_date = now  # type: ignore[attr-defined]
        entry._change_reason = reason.strip()[:100]  # type: ignore[attr-defined]
        entry.save()
        record_event(
            "timeentry.amended",
            actor=ctx.user,
            practice=ctx.practice,
            patient_id=entry.patient_id,
            obj=entry,
            source_ip=ctx.source_ip,
            details={"changed": changed, "version": entry.version, "reason": reason.strip()},
            now=now,
        )
    return entry


def void_entry(*, ctx: PracticeContext, entry: TimeEntry, reason: str, now: datetime) -> TimeEntry:
    """Void a mistaken entry: it stays on record, stops counting, and says why."""
    if not reason.strip():
        raise ValidationError({"reason": ["Say why the entry is voided."]})
    if entry.voided:
        raise ValidationError({"reason": ["This entry is already voided."]})
    with transaction.atomic():
        entry.voided_at = now
        entry.void_reason = reason.strip()[:500]
        entry.version += 1
        entry.updated_at = now
        entry._history_user = ctx.user  # type: ignore[attr-defined]
        entry._history_date = now  # type: ignore[attr-defined]
        entry._change_reason = f"voided: {reason.strip()}"[:100]  # type: ignore[attr-defined]
        entry.save()
        record_event(
            "timeentry.voided",
            actor=ctx.user,
            practice=ctx.practice,
            patient_id=entry.patient_id,
            obj=entry,
            source_ip=ctx.source_ip,
            details={"reason": entry.void_reason, "version": entry.version},
            now=now,
        )
    return entry


def running_timer(user: User) -> Timer | None:
    """Return the user's running timer, if any."""
    return (
        Timer.objects.select_related("patient").filter(user=user, stopped_at__isnull=True).first()
    )


def start_timer(*, ctx: PracticeContext, patient: Patient, program: str, now: datetime) -> Timer:
    """Start the caller's timer on a patient; a user has one running timer at a time."""
    if enrollment_for(patient, program, _local_date(now, ctx.practice.timezone)) is None:
        raise ValidationError({"program": [f"The patient has no {program} enrollment."]})
    with transaction.atomic():
        _lock_staff(ctx.user.pk)
        existing = running_timer(ctx.user)
        if existing is not None:
            raise ValidationError(
                {"timer": ["Your timer is already running; stop it before starting another."]}
            )
        timer = Timer.objects.create(
            user=ctx.user,
            practice=ctx.practice,
            patient=patient,
            program=program,
            started_at=now,
            last_activity_at=now,
        )
        record_event(
            "timer.started",
            actor=ctx.user,
            practice=ctx.practice,
            patient_id=patient.pk,
            obj=timer,
            source_ip=ctx.source_ip,
            details={"program": program},
            now=now,
        )
    return timer


def touch_timer(*, ctx: PracticeContext, timer: Timer, now: datetime) -> Timer:
    """Record that the user is still working (answers the idle prompt with "still counts")."""
    Timer.objects.filter(pk=timer.pk, stopped_at__isnull=True).update(last_activity_at=now)
    timer.last_activity_at = now
    return timer


def stop_timer(
    *,
    ctx: PracticeContext,
    timer: Timer,
    kind: str,
    outcome: str,
    summary: str,
    now: datetime,
    ended_at: datetime | None = None,
) -> TimeEntry:
    """Stop the timer and save the entry it measured (``ended_at`` trims idle time)."""
    if not timer.running:
        raise ValidationError({"timer": ["This timer is not running."]})
    end = ended_at or now
    if end > now or end <= timer.started_at:
        raise ValidationError({"ended_at": ["The end must lie between the start and now."]})
    contact = Contact(
        program=timer.program,
        kind=kind,
        outcome=outcome,
        started_at=timer.started_at,
        ended_at=end,
        summary=summary,
        source=Source.TIMER,
    )
    with transaction.atomic():
        entry = log_contact(ctx=ctx, patient=timer.patient, contact=contact, now=now)
        timer.stopped_at = now
        timer.entry = entry
        timer.save(update_fields=["stopped_at", "entry"])
        record_event(
            "timer.stopped",
            actor=ctx.user,
            practice=ctx.practice,
            patient_id=timer.patient_id,
            obj=timer,
            source_ip=ctx.source_ip,
            details={"entry": entry.pk},
            now=now,
        )
    return entry


def discard_timer(*, ctx: PracticeContext, timer: Timer, reason: str, now: datetime) -> Timer:
    """Stop a timer without logging time (started by mistake, or the time did not count)."""
    if not timer.running:
        raise ValidationError({"timer": ["This timer is not running."]})
    with transaction.atomic():
        timer.stopped_at = now
        timer.discard_reason = (reason.strip() or "discarded")[:200]
        timer.save(update_fields=["stopped_at", "discard_reason"])
        record_event(
            "timer.discarded",
            actor=ctx.user,
            practice=ctx.practice,
            patient_id=timer.patient_id,
            obj=timer,
            source_ip=ctx.source_ip,
            details={"reason": timer.discard_reason},
            now=now,
        )
    return timer
