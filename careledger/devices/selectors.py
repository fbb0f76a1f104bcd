"""Read devices, readings, reading days and alerts, always within one practice.

Reading days (RPM-4, P5): per patient and program, consecutive 30-day device periods. The first
starts on the first automatic reading on or after the enrollment's start (and consent); each
next one starts the day after the previous ends, or, after a period with no reading at all, on
the next automatic reading. A day counts when it holds at least one automatic, non-excluded
reading from any of the program's devices, in the practice's local calendar.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Case, IntegerField, QuerySet, Value, When

from careledger.accounts.models import Practice
from careledger.devices.models import Alert, Device, Reading, ReadingType, Source
from careledger.devices.thresholds import Levels, levels_for
from careledger.lib.idset import id_array
from careledger.patients.models import DEVICE_PROGRAMS, Enrollment, Patient
from careledger.rules.facts import DevicePeriod
from careledger.timelog.models import TimeEntry

PERIOD_DAYS = 30
# RPM-1, RTM-1: 2-15 days bill 99445/98984-6, 16-30 days bill 99454/98976-8.
DAY_THRESHOLDS = (2, 16)


def devices_of(patient: Patient) -> QuerySet[Device]:
    return (
        Device.objects.filter(patient=patient)
        .select_related("vendor")
        .order_by("-assigned_on", "id")
    )


def _spans(patient: Patient, program: str) -> list[tuple[date, date | None]]:
    """Return the enrollment spans (from the later of start and consent) in the program."""
    spans: list[tuple[date, date | None]] = []
    for e in (
        Enrollment.objects.filter(patient=patient, program=program)
        .exclude(status=Enrollment.Status.PENDING)
        .order_by("started_on")
    ):
        start = max(e.started_on, e.consent_on) if e.consent_on else e.started_on
        spans.append((start, e.ended_on))
    return spans


def automatic_reading_dates(
    patient: Patient, program: str, *, as_of: date | None = None
) -> list[date]:
    """Return the sorted local dates with an automatic, non-excluded reading in the program.

    With ``as_of``, only readings measured on or before that local day.
    """
    qs = Reading.objects.filter(
        patient=patient, program=program, source=Source.AUTOMATIC, excluded_at__isnull=True
    )
    if as_of is not None:
        qs = qs.filter(measured_on__lte=as_of)
    return sorted(set(qs.values_list("measured_on", flat=True)))


def build_periods(
    dates: list[date], spans: list[tuple[date, date | None]], program: str
) -> list[DevicePeriod]:
    """Cut reading dates into consecutive 30-day periods within the enrollment spans (pure).

    ``dates`` in any order, repeats allowed. Linear in the dates: each period takes its days as
    a slice of the sorted dates (a close cuts every device episode of the practice).
    """
    ordered = sorted(set(dates))
    periods: list[DevicePeriod] = []
    step = timedelta(days=PERIOD_DAYS)
    for span_start, span_end in spans:
        low = bisect_left(ordered, span_start)
        high = len(ordered) if span_end is None else bisect_right(ordered, span_end)
        inside = ordered[low:high]
        first = 0  # index of the period's first reading day in ``inside``
        start: date | None = inside[0] if inside else None
        while start is not None:
            end = start + timedelta(days=PERIOD_DAYS - 1)
            after = bisect_right(inside, end, first)
            days = frozenset(inside[first:after])
            periods.append(
                DevicePeriod(
                    program=program,
                    period_start_on=start,
                    period_end_on=end,
                    reading_dates=days,
                    reading_day_count=len(days),
                    period_id=f"{program} period {start.isoformat()}",
                )
            )
            if after == len(inside):
                break
            # Back to back while readings continue; after a silent period, restart on the next one.
            following = inside[after]
            start = end + timedelta(days=1) if following <= end + step else following
            first = after
    return periods


def device_periods_for(
    patient: Patient,
    program: str,
    month_start: date,
    month_end: date,
    as_of: date | None = None,
) -> list[DevicePeriod]:
    """Return the program's device periods that share a day with the month, for the engine.

    The engine bills a period in the month containing its end; a period still running (its end
    after ``as_of``) is returned too, with the days counted so far.
    """
    if program not in DEVICE_PROGRAMS:
        return []
    periods = device_periods_by_patient(
        patient_ids=[patient.pk], month_start=month_start, month_end=month_end, as_of=as_of
    ).get(patient.pk, [])
    return [p for p in periods if p.program == program]


def device_periods_by_patient(
    *,
    patient_ids: Iterable[int],
    month_start: date,
    month_end: date,
    as_of: date | None = None,
) -> dict[int, list[DevicePeriod]]:
    """Return ``device_periods_for`` for many patients at once, in two queries.

    The month's facts builder reads a whole panel through here (no query per patient).
    """
    ids = list(patient_ids)
    spans: dict[tuple[int, str], list[tuple[date, date | None]]] = {}
    # Plain rows, not model instances: a close reads every device enrollment of the practice.
    for patient_id, program, started_on, consent_on, ended_on in (
        Enrollment.objects.filter(patient_id__in_ids=ids, program__in=DEVICE_PROGRAMS)
        .exclude(status=Enrollment.Status.PENDING)
        .order_by("started_on", "id")
        .values_list("patient_id", "program", "started_on", "consent_on", "ended_on")
    ):
        start = max(started_on, consent_on) if consent_on else started_on
        spans.setdefault((patient_id, program), []).append((start, ended_on))
    # A period that shares a day with the month ends within 29 days of the month's end, and
    # a later reading never changes an earlier period: readings after that are not read.
    until = month_end + timedelta(days=PERIOD_DAYS - 1)
    if as_of is not None:
        until = min(until, as_of)
    dates: dict[tuple[int, str], list[date]] = {}
    for patient_id, program, measured_on in _reading_days(ids, until):
        dates.setdefault((patient_id, program), []).append(measured_on)
    out: dict[int, list[DevicePeriod]] = {}
    for (patient_id, program), days in dates.items():
        periods = build_periods(days, spans.get((patient_id, program), []), program)
        kept = [
            p
            for p in periods
            if p.overlaps(month_start, month_end) and (as_of is None or p.period_start_on <= as_of)
        ]
        if kept:
            out.setdefault(patient_id, []).extend(kept)
    return out


# Hand-written, for the largest read of a close (every reading day of a practice's device
# episodes): literal source and exclusion terms, so that SQLite, like PostgreSQL, serves it
# from the partial ``automatic_reading_days`` index alone, and rows come back without the
# ORM's per-value converters: SQLite's day goes as text (an expression has no declared type,
# so the driver's date converter is skipped), parsed once per distinct day below.
READING_DAYS_SQL = """
SELECT patient_id, program, {day} FROM {table}
WHERE patient_id {ids} AND program IN ({programs}) AND measured_on <= %s
  AND source = '{automatic}' AND excluded_at IS NULL
GROUP BY patient_id, program, measured_on
ORDER BY patient_id, program, measured_on
"""


def _reading_days(ids: list[int], until: date) -> list[tuple[int, str, date]]:
    """Return (patient, program, local day) with an automatic, non-excluded reading, sorted."""
    if not ids:
        return []
    in_ids, param = id_array(ids, connection.vendor)
    sql = READING_DAYS_SQL.format(
        table=Reading._meta.db_table,
        ids=in_ids,
        day="measured_on" if connection.vendor == "postgresql" else "CAST(measured_on AS TEXT)",
        programs=", ".join(f"'{program}'" for program in sorted(DEVICE_PROGRAMS)),
        automatic=Source.AUTOMATIC.value,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [param, until])
        rows = cursor.fetchall()
    days: dict[Any, date] = {}
    out = []
    for patient_id, program, measured_on in rows:
        day = days.get(measured_on)
        if day is None:
            day = days[measured_on] = (
                measured_on if isinstance(measured_on, date) else date.fromisoformat(measured_on)
            )
        out.append((patient_id, program, day))
    return out


@dataclass(frozen=True)
class PeriodProgress:
    """Where a device period stands on ``today``."""

    period: DevicePeriod
    today: date
    days: int
    days_left: int
    days_possible: int
    reaches_2: bool
    reaches_16: bool
    needs_every_day: bool


def period_progress(period: DevicePeriod, today: date) -> PeriodProgress:
    """Count days so far, days still possible, and whether 2 and 16 days can still be reached."""
    dates = period.reading_dates or frozenset()
    days = len(dates)
    if today > period.period_end_on:
        left = 0
    else:
        first_open = max(today, period.period_start_on)
        left = (period.period_end_on - first_open).days + 1
        if today in dates:
            left -= 1  # today already counts
    possible = days + left
    return PeriodProgress(
        period=period,
        today=today,
        days=days,
        days_left=left,
        days_possible=possible,
        reaches_2=possible >= DAY_THRESHOLDS[0],
        reaches_16=possible >= DAY_THRESHOLDS[1],
        needs_every_day=days < DAY_THRESHOLDS[1] and possible == DAY_THRESHOLDS[1],
    )


def current_period(patient: Patient, program: str, today: date) -> DevicePeriod | None:
    """Return the period containing ``today``, else the latest one before it."""
    dates = automatic_reading_dates(patient, program, as_of=today)
    periods = build_periods(dates, _spans(patient, program), program)
    for period in reversed(periods):
        if period.period_start_on <= today:
            return period
    return None


def alerts_of(
    practice: Practice, *, patient_id: int | None = None, status: str = ""
) -> QuerySet[Alert]:
    """Return the practice's alerts; ``status=open`` keeps open and acknowledged ones."""
    qs = Alert.objects.filter(practice=practice).select_related(
        "patient", "reading", "acknowledged_by", "resolved_by"
    )
    if patient_id is not None:
        qs = qs.filter(patient_id=patient_id)
    if status == "open":
        qs = qs.filter(status__in=[Alert.Status.OPEN, Alert.Status.ACKNOWLEDGED])
    elif status:
        qs = qs.filter(status=status)
    return qs


def alert_queue(practice: Practice) -> QuerySet[Alert]:
    """Return the open alerts, critical first, then unacknowledged, then oldest first."""
    return alerts_of(practice, status="open").order_by(
        Case(
            When(severity=Alert.Severity.CRITICAL, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        ),
        Case(
            When(status=Alert.Status.OPEN, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        ),
        "opened_at",
        "id",
    )


def _calendar(progress: PeriodProgress) -> list[dict[str, Any]]:
    period = progress.period
    dates = period.reading_dates or frozenset()
    cells = []
    for offset in range(period.length_days):
        day = period.period_start_on + timedelta(days=offset)
        cells.append(
            {
                "date": day,
                "read": day in dates,
                "future": day > progress.today,
                "today": day == progress.today,
            }
        )
    return cells


def _bands(levels: Levels, metric: str, top: float) -> list[dict[str, Any]]:
    """Shade the warning and critical ranges of a metric for the chart."""
    bands: list[dict[str, Any]] = []
    above = levels.get(metric, "above")
    if above is not None:
        if above.warning is not None:
            end = above.critical if above.critical is not None else top
            bands.append({"from": above.warning, "to": end, "level": "warning", "metric": metric})
        if above.critical is not None:
            bands.append({"from": above.critical, "to": top, "level": "critical", "metric": metric})
    below = levels.get(metric, "below")
    if below is not None:
        if below.warning is not None:
            start = below.critical if below.critical is not None else 0
            bands.append({"from": start, "to": below.warning, "level": "warning", "metric": metric})
        if below.critical is not None:
            bands.append({"from": 0, "to": below.critical, "level": "critical", "metric": metric})
    return bands


def _series(patient: Patient, today: date, zone: ZoneInfo) -> dict[str, Any]:
    since = datetime.combine(today - timedelta(days=29), time.min, zone)
    readings = list(
        Reading.objects.filter(patient=patient, measured_at__gte=since, excluded_at__isnull=True)
        .order_by("measured_at")
        .values("type", "measured_at", "systolic", "diastolic", "value", "unit", "source")
    )
    levels = levels_for(patient, today)
    charts: dict[str, Any] = {}
    for kind in ReadingType.values:
        rows = [r for r in readings if r["type"] == kind]
        if not rows:
            continue
        labels = [r["measured_at"].astimezone(zone).strftime("%b %d %H:%M") for r in rows]
        if kind == ReadingType.BLOOD_PRESSURE:
            series = [
                {"label": "Systolic", "data": [r["systolic"] for r in rows]},
                {"label": "Diastolic", "data": [r["diastolic"] for r in rows]},
            ]
            bands = _bands(levels, "systolic", 300)  # diastolic bands would overlap; see the alert
            unit = "mm[Hg]"
        else:
            series = [{"label": ReadingType(kind).label, "data": [r["value"] for r in rows]}]
            unit = rows[-1]["unit"]
            metric = {"glucose": "glucose", "spo2": "spo2"}.get(kind)
            bands = _bands(levels, metric, 1000 if kind == "glucose" else 100) if metric else []
        charts[kind] = {
            "element_id": f"reading-chart-{kind}",
            "title": ReadingType(kind).label,
            "unit": unit,
            "labels": labels,
            "series": series,
            "bands": bands,
        }
    return {"charts": charts, "goal_source": levels.source}


def panel_context(patient: Patient, today: date) -> dict[str, Any]:
    """Gather what the patient page's device panel shows on ``today`` (practice-local)."""
    zone = ZoneInfo(patient.practice.timezone)
    devices = list(devices_of(patient))
    programs = sorted({d.program for d in devices})
    month_start = datetime.combine(today.replace(day=1), time.min, zone)
    periods = []
    for program in programs:
        seconds = TimeEntry.objects.filter(
            patient=patient,
            program=program,
            countable=True,
            voided_at__isnull=True,
            started_at__gte=month_start,
        ).values_list("seconds", flat=True)
        period = current_period(patient, program, today)
        progress = period_progress(period, today) if period is not None else None
        periods.append(
            {
                "program": program,
                "progress": progress,
                "calendar": _calendar(progress) if progress is not None else [],
                "minutes": sum(seconds) // 60,  # P8: floor the month's seconds, never round up
            }
        )
    alerts = list(
        alerts_of(patient.practice, patient_id=patient.pk).order_by("-opened_at", "-id")[:20]
    )
    return {
        "patient": patient,
        "timezone": patient.practice.timezone,
        "today": today,
        "devices": devices,
        "periods": periods,
        "chart": _series(patient, today, zone),
        "alerts": alerts,
        "open_alerts": sum(1 for a in alerts if a.is_open),
        # Case 26: readings that arrived after their month was locked.
        "late_readings": Reading.objects.filter(patient=patient, late=True).count(),
    }
