"""Raise, acknowledge and resolve alerts; check adherence. Each write is audited.

One alert per patient and condition per episode: while an alert of a kind is open or
acknowledged, further out-of-range readings join it (a critical one escalates it) instead of
raising another. A reading measured before the last alert of its kind was resolved belongs to
that finished episode and raises nothing (case 26: alerting uses measured time).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Min, Q

from careledger.accounts.access import PracticeContext
from careledger.accounts.models import Practice
from careledger.audit.services import record_event
from careledger.devices.models import Alert, Device, Reading, ReadingType, Source
from careledger.devices.thresholds import (
    NO_READING_DAYS,
    Finding,
    Levels,
    check_values,
    levels_for,
    weight_gain_findings,
)
from careledger.patients.models import Enrollment, Patient
from careledger.timelog.services import Contact, log_contact

# Readings measured longer ago than this are stored without raising alerts: nobody can act on them.
ALERT_WINDOW = timedelta(days=7)
OPEN = (Alert.Status.OPEN, Alert.Status.ACKNOWLEDGED)


def _values_of(reading: Reading) -> dict[str, Any]:
    return {
        "systolic": reading.systolic,
        "diastolic": reading.diastolic,
        "pulse": reading.pulse,
        "value": reading.value,
        "fasting": reading.fasting,
    }


def evaluate_readings(
    *,
    practice: Practice,
    readings: Sequence[Reading],
    now: datetime,
    levels_cache: dict[int, Levels] | None = None,
) -> list[Alert]:
    """Check newly stored readings against each patient's thresholds; return alerts raised.

    Call inside the transaction that stored the readings; a batch passes one ``levels_cache``
    for all its chunks.
    """
    recent = [r for r in readings if r.measured_at >= now - ALERT_WINDOW]
    if not recent:
        return []
    zone = ZoneInfo(practice.timezone)
    today = now.astimezone(zone).date()
    limits_cache: dict[int, Levels] = {} if levels_cache is None else levels_cache
    patients = {p.pk: p for p in Patient.objects.filter(pk__in={r.patient_id for r in recent})}

    def limits(patient_id: int) -> Levels:
        if patient_id not in limits_cache:
            limits_cache[patient_id] = levels_for(patients[patient_id], today)
        return limits_cache[patient_id]

    findings: list[tuple[Reading, Finding]] = []
    weights: dict[int, list[Reading]] = defaultdict(list)
    for reading in recent:
        if reading.type == ReadingType.WEIGHT:
            weights[reading.patient_id].append(reading)
            continue
        for finding in check_values(_values_of(reading), reading.type, limits(reading.patient_id)):
            findings.append((reading, finding))
    for patient_id, batch in weights.items():
        findings.extend(_weight_findings(patient_id, batch, limits(patient_id)))
    raised: list[Alert] = []
    for reading, finding in sorted(findings, key=lambda f: (f[0].measured_at, f[0].pk or 0)):
        alert = _raise(
            practice=practice,
            patient=patients[reading.patient_id],
            program=reading.program,
            finding=finding,
            reading=reading,
            source=limits(reading.patient_id).source,
            now=now,
        )
        if alert is not None:
            raised.append(alert)
    _close_no_reading_alerts(practice=practice, readings=recent, now=now)
    return raised


def _weight_findings(
    patient_id: int, batch: list[Reading], limits: Levels
) -> list[tuple[Reading, Finding]]:
    earliest = min(r.measured_at for r in batch) - timedelta(days=7)
    latest = max(r.measured_at for r in batch)
    history = list(
        Reading.objects.filter(
            patient_id=patient_id,
            type=ReadingType.WEIGHT,
            excluded_at__isnull=True,
            measured_at__gte=earliest,
            measured_at__lte=latest,
        ).values_list("measured_at", "value")
    )
    out: list[tuple[Reading, Finding]] = []
    for reading in batch:
        assert reading.value is not None
        at = reading.measured_at
        day = [v for t, v in history if at - timedelta(hours=24) <= t < at and v is not None]
        week = [v for t, v in history if at - timedelta(days=7) <= t < at and v is not None]
        for finding in weight_gain_findings(
            reading.value, min(day) if day else None, min(week) if week else None, limits
        ):
            out.append((reading, finding))
    return out


def _raise(
    *,
    practice: Practice,
    patient: Patient,
    program: str,
    finding: Finding,
    reading: Reading | None,
    source: str,
    now: datetime,
    measured_at: datetime | None = None,
) -> Alert | None:
    """Open an alert for the finding, or add the reading to the episode's open alert."""
    if reading is not None:
        measured_at = reading.measured_at
    current = (
        Alert.objects.select_for_update()
        .filter(patient=patient, kind=finding.kind, status__in=OPEN)
        .first()
    )
    if current is None and measured_at is not None:
        last_resolved = Alert.objects.filter(
            patient=patient, kind=finding.kind, status=Alert.Status.RESOLVED
        ).aggregate(at=Max("resolved_at"))["at"]
        if last_resolved is not None and measured_at <= last_resolved:
            return None
    if current is None:
        try:
            with transaction.atomic():
                alert = Alert.objects.create(
                    practice=practice,
                    patient=patient,
                    program=program,
                    kind=finding.kind,
                    severity=finding.severity,
                    message=finding.message,
                    threshold_source=source,
                    reading=reading,
                    reading_count=1 if reading is not None else 0,
                    measured_at=measured_at,
                    opened_at=now,
                )
        except IntegrityError:
            # Another delivery opened this episode's alert a moment ago: join it.
            current = Alert.objects.filter(
                patient=patient, kind=finding.kind, status__in=OPEN
            ).first()
            if current is None:
                raise
        else:
            record_event(
                "alert.raised",
                actor=None,
                practice=practice,
                patient_id=patient.pk,
                obj=alert,
                details={"kind": alert.kind, "severity": alert.severity, "source": source},
                now=now,
            )
            return alert
    escalate = (
        finding.severity == Alert.Severity.CRITICAL and current.severity != Alert.Severity.CRITICAL
    )
    changes: dict[str, Any] = {"reading_count": current.reading_count + (1 if reading else 0)}
    if escalate:
        changes.update(severity=finding.severity, message=finding.message, reading=reading)
    Alert.objects.filter(pk=current.pk).update(**changes)
    if escalate:
        record_event(
            "alert.escalated",
            actor=None,
            practice=practice,
            patient_id=patient.pk,
            obj=current,
            details={"kind": current.kind, "severity": finding.severity},
            now=now,
        )
    return None


def _close_no_reading_alerts(
    *, practice: Practice, readings: Iterable[Reading], now: datetime
) -> None:
    """Resolve open no-reading alerts of patients whose automatic readings resumed."""
    latest: dict[int, datetime] = {}
    for r in readings:
        if r.source == Source.AUTOMATIC and r.measured_at > latest.get(r.patient_id, r.measured_at):
            latest[r.patient_id] = r.measured_at
        elif r.source == Source.AUTOMATIC:
            latest.setdefault(r.patient_id, r.measured_at)
    waiting = Alert.objects.filter(
        practice=practice,
        patient_id__in=list(latest),
        kind=Alert.Kind.NO_READINGS,
        status__in=OPEN,
    )
    for alert in waiting:
        # measured_at of a no-reading alert is when the silence began.
        if alert.measured_at is not None and latest[alert.patient_id] <= alert.measured_at:
            continue
        Alert.objects.filter(pk=alert.pk).update(
            status=Alert.Status.RESOLVED,
            resolved_at=now,
            resolution_note="Readings resumed.",
        )
        record_event(
            "alert.resolved",
            actor=None,
            practice=practice,
            patient_id=alert.patient_id,
            obj=alert,
            details={"kind": alert.kind, "automatic": True},
            now=now,
        )


@dataclass(frozen=True)
class AdherenceResult:
    checked: int
    raised: int


def check_adherence(*, practice: Practice, now: datetime) -> AdherenceResult:
    """Raise a no-reading alert for each monitored patient silent for the threshold's days.

    Monitored: an active device and an active, consented RPM/RTM enrollment. Run it daily
    (``careledger check-adherence``); a second run raises nothing new for the same silence.
    """
    zone = ZoneInfo(practice.timezone)
    today = now.astimezone(zone).date()
    devices = (
        Device.objects.filter(practice=practice, returned_on__isnull=True, assigned_on__lte=today)
        .values("patient_id", "program")
        .annotate(assigned_on=Min("assigned_on"))
    )
    active = set(
        Enrollment.objects.filter(
            patient__practice=practice,
            status=Enrollment.Status.ACTIVE,
            consent_on__isnull=False,
            started_on__lte=today,
        )
        .filter(Q(ended_on__isnull=True) | Q(ended_on__gte=today))
        .values_list("patient_id", "program")
    )
    last_seen = dict(
        Reading.objects.filter(practice=practice, excluded_at__isnull=True, source="automatic")
        .values("patient_id")
        .annotate(last=Max("measured_at"))
        .values_list("patient_id", "last")
    )
    raised = checked = 0
    with transaction.atomic():
        for row in devices:
            key = (row["patient_id"], row["program"])
            if key not in active:
                continue
            checked += 1
            patient = Patient.objects.get(pk=row["patient_id"])
            since: datetime | date = last_seen.get(row["patient_id"]) or row["assigned_on"]
            silent_since = (
                since
                if isinstance(since, datetime)
                else datetime.combine(since, datetime.min.time(), zone)
            )
            days = (now - silent_since).total_seconds() / 86400
            if days < NO_READING_DAYS:
                continue
            what = (
                "since the device was assigned"
                if row["patient_id"] not in last_seen
                else (f"since {silent_since.astimezone(zone):%b %-d}")
            )
            finding = Finding(
                "no_readings", "warning", f"No automatic reading for {int(days)} days {what}"
            )
            if _raise(
                practice=practice,
                patient=patient,
                program=row["program"],
                finding=finding,
                reading=None,
                source="practice default",
                now=now,
                measured_at=silent_since,
            ):
                raised += 1
        record_event(
            "alert.adherence_checked",
            actor=None,
            practice=practice,
            details={"checked": checked, "raised": raised},
            now=now,
        )
    return AdherenceResult(checked=checked, raised=raised)


def _alert_of(ctx: PracticeContext, alert_id: int) -> Alert:
    from django.http import Http404

    alert = (
        Alert.objects.select_for_update()
        .filter(pk=alert_id, practice=ctx.practice)
        .select_related("patient")
        .first()
    )
    if alert is None:
        raise Http404("No such alert.")
    return alert


def acknowledge_alert(*, ctx: PracticeContext, alert_id: int, now: datetime) -> Alert:
    """Say someone is looking at the alert; it stays in the queue until resolved."""
    with transaction.atomic():
        alert = _alert_of(ctx, alert_id)
        if alert.status != Alert.Status.OPEN:
            raise ValidationError({"status": [f"The alert is already {alert.status}."]})
        alert.status = Alert.Status.ACKNOWLEDGED
        alert.acknowledged_at = now
        alert.acknowledged_by = ctx.user
        alert.save(update_fields=["status", "acknowledged_at", "acknowledged_by"])
        record_event(
            "alert.acknowledged",
            actor=ctx.user,
            practice=ctx.practice,
            patient_id=alert.patient_id,
            obj=alert,
            source_ip=ctx.source_ip,
            details={"kind": alert.kind},
            now=now,
        )
    return alert


@dataclass(frozen=True)
class Call:
    """The call that resolved an alert, logged as a time entry in the same step."""

    started_at: datetime
    ended_at: datetime
    summary: str
    kind: str = "interactive_call"
    outcome: str = "reached"


def resolve_alert(
    *, ctx: PracticeContext, alert_id: int, note: str, now: datetime, call: Call | None = None
) -> Alert:
    """Resolve the alert with a note; with ``call``, log the call as a time entry too.

    Both happen or neither does: an entry the time log refuses leaves the alert open.
    """
    if not note.strip():
        raise ValidationError({"note": ["Say what was done about the alert."]})
    with transaction.atomic():
        alert = _alert_of(ctx, alert_id)
        if alert.status == Alert.Status.RESOLVED:
            raise ValidationError({"status": ["The alert is already resolved."]})
        entry = None
        if call is not None:
            entry = log_contact(
                ctx=ctx,
                patient=alert.patient,
                contact=Contact(
                    program=alert.program,
                    kind=call.kind,
                    outcome=call.outcome,
                    started_at=call.started_at,
                    ended_at=call.ended_at,
                    summary=call.summary,
                ),
                now=now,
            )
        alert.status = Alert.Status.RESOLVED
        alert.resolved_at = now
        alert.resolved_by = ctx.user
        alert.resolution_note = note.strip()
        alert.time_entry = entry
        if alert.acknowledged_at is None:
            alert.acknowledged_at = now
            alert.acknowledged_by = ctx.user
        alert.save()
        record_event(
            "alert.resolved",
            actor=ctx.user,
            practice=ctx.practice,
            patient_id=alert.patient_id,
            obj=alert,
            source_ip=ctx.source_ip,
            details={"kind": alert.kind, "time_entry": entry.pk if entry else None},
            now=now,
        )
    return alert
