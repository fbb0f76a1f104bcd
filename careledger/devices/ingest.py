"""Store a batch of readings exactly once: each reading checked on its own, the batch atomic.

The answer always accounts for every reading sent: ``stored + duplicates + len(errors)`` equals
the number sent. A repeated delivery (same vendor, same vendor reading id) is a duplicate, in the
same batch, an earlier one, or a concurrent one (the unique constraint decides, and
``ignore_conflicts`` turns the loser into a duplicate rather than an error). A reading measured
in a month the practice has locked is stored and marked late (case 26), whichever way it came.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Q

from careledger.accounts.models import Practice, User
from careledger.audit.services import record_event
from careledger.devices.alerts import ALERT_WINDOW, evaluate_readings
from careledger.devices.models import Device, Reading, ReadingBatch, Vendor
from careledger.devices.thresholds import Levels
from careledger.devices.values import DEVICE_SENDS, CheckedReading, Problem, check_reading
from careledger.locks.models import month_is_locked

MAX_BATCH = 5000
CHUNK = 2000


@dataclass
class IngestResult:
    """What happened to a batch: counts, refused readings and the alerts it raised."""

    sent: int = 0
    stored: int = 0
    duplicates: int = 0
    errors: list[Problem] = field(default_factory=list)
    alerts: int = 0
    late: int = 0  # stored readings measured in a locked month (case 26)
    batch_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "stored": self.stored,
            "duplicates": self.duplicates,
            "errors": [
                {"index": p.index, "field": p.field, "reason": p.reason} for p in self.errors
            ],
        }


class LockedMonths:
    """The practice's locked months (YYYY-MM, practice-local), each asked once per batch."""

    def __init__(self, practice: Practice) -> None:
        self.practice = practice
        self.known: dict[str, bool] = {}

    def has(self, month: str) -> bool:
        if month not in self.known:
            self.known[month] = month_is_locked(practice=self.practice, month=month)
        return self.known[month]


def late_reason(measured_on: date, zone: ZoneInfo) -> str:
    """Say why a reading is late: its practice-local month was locked when it arrived."""
    return (
        f"measured {measured_on.isoformat()} ({zone.key}), in {measured_on:%Y-%m}, "
        "a month already locked when the reading arrived"
    )


class DeviceIndex:
    """The practice's devices that a batch names, by id and by serial."""

    def __init__(
        self, *, practice: Practice, vendor: Vendor | None, checked: Iterable[CheckedReading]
    ):
        ids = {c.device_id for c in checked if c.device_id is not None}
        serials = {c.device_serial for c in checked if c.device_id is None and c.device_serial}
        qs = Device.objects.filter(practice=practice).filter(Q(pk__in=ids) | Q(serial__in=serials))
        if vendor is not None:
            qs = qs.filter(vendor=vendor)
        self.by_id: dict[int, Device] = {}
        self.by_serial: dict[str, list[Device]] = defaultdict(list)
        for device in qs.select_related("vendor"):
            self.by_id[device.pk] = device
            self.by_serial[device.serial].append(device)

    def find(self, checked: CheckedReading, on: date) -> Device | Problem:
        """Return the device that was with its patient on the local date ``on``."""
        if checked.device_id is not None:
            device = self.by_id.get(checked.device_id)
            if device is None:
                # Case 6: a device of another practice is simply not found here.
                return Problem(checked.index, "device_id", "no such device in this practice")
            candidates = [device]
            field_name = "device_id"
        else:
            candidates = self.by_serial.get(checked.device_serial, [])
            field_name = "device_serial"
            if not candidates:
                return Problem(checked.index, field_name, "no device with this serial here")
        for device in candidates:
            if device.assigned_on <= on and (
                device.returned_on is None or on <= device.returned_on
            ):
                if checked.type not in DEVICE_SENDS[device.type]:
                    return Problem(
                        checked.index,
                        "type",
                        f"a {device.get_type_display().lower()} does not send {checked.type}",
                    )
                return device
        return Problem(
            checked.index, "measured_at", "the device was not assigned to a patient on that date"
        )


def ingest_readings(
    *,
    practice: Practice,
    items: Sequence[Any],
    via: str,
    now: datetime,
    actor: User | None = None,
    vendor: Vendor | None = None,
    source_ip: str | None = None,
    source_name: str = "",
    dry_run: bool = False,
    chunk: int | None = None,
    levels_cache: dict[int, Levels] | None = None,
) -> IngestResult:
    """Check and store a batch of readings for ``practice``; audit it per patient.

    The whole batch is one transaction: a crash part-way leaves nothing of it (case 25). A
    caller delivering many batches while no care plan changes (the demo) may pass one
    ``levels_cache`` for all of them.
    """
    result = IngestResult(sent=len(items))
    chunk = chunk or CHUNK
    zone = ZoneInfo(practice.timezone)
    with transaction.atomic():
        batch = None
        if not dry_run:
            batch = ReadingBatch.objects.create(
                practice=practice,
                via=via,
                vendor=vendor,
                posted_by=actor if actor is not None and actor.is_authenticated else None,
                received_at=now,
                sent=len(items),
                source_name=source_name[:200],
            )
            result.batch_id = batch.pk
        stored_by_patient: Counter[int] = Counter()
        if levels_cache is None:
            levels_cache = {}
        sources_by_patient: dict[int, Counter[str]] = defaultdict(Counter)
        late_by_patient: Counter[int] = Counter()
        locked = LockedMonths(practice)
        for start in range(0, len(items), chunk):
            part = items[start : start + chunk]
            rows = _check_chunk(
                practice=practice,
                vendor=vendor,
                items=part,
                offset=start,
                zone=zone,
                now=now,
                result=result,
                locked=locked,
            )
            if dry_run or batch is None:
                result.stored += len(rows)
                continue
            stored = _store(batch, rows)
            result.duplicates += len(rows) - len(stored)
            result.stored += len(stored)
            for row in stored:
                stored_by_patient[row["patient_id"]] += 1
                sources_by_patient[row["patient_id"]][row["source"]] += 1
                if row["late"]:
                    late_by_patient[row["patient_id"]] += 1
                    result.late += 1
            recent = _for_alerts(stored, now)
            result.alerts += len(
                evaluate_readings(
                    practice=practice, readings=recent, now=now, levels_cache=levels_cache
                )
            )
        if batch is None:
            return result
        ReadingBatch.objects.filter(pk=batch.pk).update(
            stored=result.stored, duplicates=result.duplicates, refused=len(result.errors)
        )
        for patient_id, count in sorted(stored_by_patient.items()):
            details: dict[str, Any] = {
                "via": via,
                "stored": count,
                "sources": dict(sources_by_patient[patient_id]),
            }
            if late_by_patient[patient_id]:
                details["late"] = late_by_patient[patient_id]
            record_event(
                "reading.received",
                actor=actor,
                practice=practice,
                patient_id=patient_id,
                obj=batch,
                source_ip=source_ip,
                details=details,
                now=now,
            )
    return result


COLUMNS = (
    "practice_id",
    "patient_id",
    "device_id",
    "vendor_id",
    "batch_id",
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
    "value",
    "unit",
    "pef",
    "fasting",
    "original_value",
    "original_unit",
    "late",
    "late_reason",
    "excluded_reason",
)
ROWS_PER_INSERT = 500  # 24 columns x 500 rows stays under SQLite's and PostgreSQL's limits


def _check_chunk(
    *,
    practice: Practice,
    vendor: Vendor | None,
    items: Sequence[Any],
    offset: int,
    zone: ZoneInfo,
    now: datetime,
    result: IngestResult,
    locked: LockedMonths,
) -> list[dict[str, Any]]:
    checked: list[CheckedReading] = []
    for index, item in enumerate(items, start=offset):
        outcome = check_reading(index, item, now=now)
        if isinstance(outcome, Problem):
            result.errors.append(outcome)
        else:
            checked.append(outcome)
    devices = DeviceIndex(practice=practice, vendor=vendor, checked=checked)
    rows: list[dict[str, Any]] = []
    for c in checked:
        measured_on = c.measured_at.astimezone(zone).date()
        device = devices.find(c, measured_on)
        if isinstance(device, Problem):
            result.errors.append(device)
            continue
        late = locked.has(f"{measured_on:%Y-%m}")
        rows.append(
            {
                "practice_id": practice.pk,
                "patient_id": device.patient_id,
                "device_id": device.pk,
                "vendor_id": device.vendor_id,
                "program": device.program,
                "vendor_reading_id": c.vendor_reading_id,
                "type": c.type,
                "measured_at": c.measured_at,
                "measured_on": measured_on,
                "received_at": now,
                "source": c.source,
                "late": late,
                "late_reason": late_reason(measured_on, zone) if late else "",
                **c.values,
            }
        )
    result.errors.sort(key=lambda p: p.index)
    return rows


def _insert_sql(count: int) -> str:
    table = Reading._meta.db_table
    names = ", ".join(connection.ops.quote_name(c) for c in COLUMNS)
    one = "(" + ", ".join(["%s"] * len(COLUMNS)) + ")"
    return (
        f"INSERT INTO {table} ({names}) VALUES {', '.join([one] * count)} "
        "ON CONFLICT (vendor_id, vendor_reading_id) DO NOTHING "
        "RETURNING id, vendor_id, vendor_reading_id"
    )


def _store(batch: ReadingBatch, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Insert the rows not stored before; return the ones this batch stored, with their id.

    One multi-row INSERT ... ON CONFLICT DO NOTHING RETURNING per slice (SQLite 3.35+ and
    PostgreSQL): the unique (vendor, vendor reading id) constraint decides what is a duplicate,
    even against a concurrent batch, and RETURNING says which rows this statement inserted.
    Django's bulk_create compiles every value through the ORM, which costs more than the insert.
    """
    ops = connection.ops
    stored: list[dict[str, Any]] = []
    for offset in range(0, len(rows), ROWS_PER_INSERT):
        part = rows[offset : offset + ROWS_PER_INSERT]
        params: list[Any] = []
        for row in part:
            params.extend(
                (
                    row["practice_id"],
                    row["patient_id"],
                    row["device_id"],
                    row["vendor_id"],
                    batch.pk,
                    row["program"],
                    row["vendor_reading_id"],
                    row["type"],
                    ops.adapt_datetimefield_value(row["measured_at"]),
                    ops.adapt_datefield_value(row["measured_on"]),
                    ops.adapt_datetimefield_value(row["received_at"]),
                    row["source"],
                    row.get("systolic"),
                    row.get("diastolic"),
                    row.get("pulse"),
                    row.get("value"),
                    row.get("unit", ""),
                    row.get("pef"),
                    row.get("fasting"),
                    row.get("original_value"),
                    row.get("original_unit", ""),
                    row["late"],
                    row["late_reason"],
                    "",
                )
            )
        with connection.cursor() as cursor:
            cursor.execute(_insert_sql(len(part)), params)
            inserted = {(vendor_id, ident): pk for pk, vendor_id, ident in cursor.fetchall()}
        for row in part:
            # A reading repeated inside the slice is inserted once: the first one claims the id.
            pk = inserted.pop((row["vendor_id"], row["vendor_reading_id"]), None)
            if pk is not None:
                stored.append({**row, "id": pk, "batch_id": batch.pk})
    return stored


def _for_alerts(rows: list[dict[str, Any]], now: datetime) -> list[Reading]:
    """Make Reading objects of the stored rows recent enough to raise alerts."""
    since = now - ALERT_WINDOW
    fields = set(COLUMNS) | {"id"}
    return [
        Reading(**{k: v for k, v in row.items() if k in fields})
        for row in rows
        if row["measured_at"] >= since
    ]
