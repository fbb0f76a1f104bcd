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
from careledger.audit.services import record_events
from careledger.devices.alerts import ALERT_WINDOW, evaluate_readings
from careledger.devices.models import Device, Reading, ReadingBatch, Vendor
from careledger.devices.thresholds import Levels
from careledger.devices.values import DEVICE_SENDS, CheckedReading, Problem, check_reading
from careledger.lib.pgbinding import binding_cursor
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
    """The practice's devices that a batch names, by id and by serial.

    One index serves the whole batch: each chunk loads only the ids and serials it names that no
    earlier chunk did (the devices cannot change inside the batch's transaction).
    """

    def __init__(
        self,
        *,
        practice: Practice,
        vendor: Vendor | None,
        checked: Iterable[CheckedReading] = (),
    ):
        self.practice = practice
        self.vendor = vendor
        self.by_id: dict[int, Device] = {}
        self.by_serial: dict[str, list[Device]] = {}
        self.ids_asked: set[int] = set()
        self.load(checked)

    def load(self, checked: Iterable[CheckedReading]) -> None:
        """Fetch the devices ``checked`` names by an id or serial not asked for before."""
        ids: set[int] = set()
        serials: set[str] = set()
        for c in checked:
            if c.device_id is not None:
                ids.add(c.device_id)
            elif c.device_serial:
                serials.add(c.device_serial)
        ids -= self.ids_asked
        serials.difference_update(self.by_serial)
        if not ids and not serials:
            return
        qs = Device.objects.filter(practice=self.practice).filter(
            Q(pk__in=ids) | Q(serial__in=serials)
        )
        if self.vendor is not None:
            qs = qs.filter(vendor=self.vendor)
        self.ids_asked |= ids
        # Every device with an asked serial comes back, in the model's order: the candidates.
        for serial in serials:
            self.by_serial[serial] = []
        for device in qs.select_related("vendor"):
            self.by_id[device.pk] = device
            if device.serial in serials:
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
        devices = DeviceIndex(practice=practice, vendor=vendor)
        for start in range(0, len(items), chunk):
            part = items[start : start + chunk]
            rows = _check_chunk(
                practice=practice,
                batch_id=result.batch_id,
                items=part,
                offset=start,
                zone=zone,
                now=now,
                result=result,
                locked=locked,
                devices=devices,
            )
            if dry_run or batch is None:
                result.stored += len(rows)
                continue
            stored = _store(batch, rows)
            result.duplicates += len(rows) - len(stored)
            result.stored += len(stored)
            for row in stored:
                patient_id = row[PATIENT]
                stored_by_patient[patient_id] += 1
                sources_by_patient[patient_id][row[SOURCE]] += 1
                if row[LATE]:
                    late_by_patient[patient_id] += 1
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
        each: list[tuple[int | None, dict[str, Any]]] = []
        for patient_id, count in sorted(stored_by_patient.items()):
            details: dict[str, Any] = {
                "via": via,
                "stored": count,
                "sources": dict(sources_by_patient[patient_id]),
            }
            if late_by_patient[patient_id]:
                details["late"] = late_by_patient[patient_id]
            each.append((patient_id, details))
        # One event per patient, appended to the chain together.
        record_events(
            "reading.received",
            actor=actor,
            practice=practice,
            obj=batch,
            source_ip=source_ip,
            now=now,
            each=each,
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
# A row is a tuple of COLUMNS' values, then the id once stored: cheaper than a dict per reading.
Row = tuple[Any, ...]
PATIENT = COLUMNS.index("patient_id")
VENDOR = COLUMNS.index("vendor_id")
VENDOR_READING_ID = COLUMNS.index("vendor_reading_id")
MEASURED_AT = COLUMNS.index("measured_at")
MEASURED_ON = COLUMNS.index("measured_on")
RECEIVED_AT = COLUMNS.index("received_at")
SOURCE = COLUMNS.index("source")
LATE = COLUMNS.index("late")
ID = len(COLUMNS)
ROWS_PER_INSERT = 500  # 24 columns x 500 rows stays under SQLite's and PostgreSQL's limits
# PostgreSQL takes a whole chunk in one statement: one array per column, not a placeholder a value.
ARRAY_TYPES = {
    "patient_id": "bigint",
    "device_id": "bigint",
    "vendor_id": "bigint",
    "program": "text",
    "vendor_reading_id": "text",
    "type": "text",
    "measured_at": "timestamptz",
    "measured_on": "date",
    "source": "text",
    "systolic": "float8",
    "diastolic": "float8",
    "pulse": "float8",
    "value": "float8",
    "unit": "text",
    "pef": "float8",
    "fasting": "boolean",
    "original_value": "float8",
    "original_unit": "text",
    "late": "boolean",
    "late_reason": "text",
}
# The columns every row of a batch shares, sent once as plain parameters.
SHARED = ("practice_id", "batch_id", "received_at", "excluded_reason")
SHARED_TYPES = {"practice_id": "bigint", "batch_id": "bigint", "received_at": "timestamptz"}
ARRAY_INDEXES = tuple(COLUMNS.index(name) for name in ARRAY_TYPES)
SHARED_INDEXES = tuple(COLUMNS.index(name) for name in SHARED)


def _check_chunk(
    *,
    practice: Practice,
    batch_id: int | None,
    items: Sequence[Any],
    offset: int,
    zone: ZoneInfo,
    now: datetime,
    result: IngestResult,
    locked: LockedMonths,
    devices: DeviceIndex,
) -> list[Row]:
    checked: list[CheckedReading] = []
    for index, item in enumerate(items, start=offset):
        outcome = check_reading(index, item, now=now)
        if isinstance(outcome, Problem):
            result.errors.append(outcome)
        else:
            checked.append(outcome)
    devices.load(checked)
    practice_id = practice.pk
    late_on: dict[date, str | None] = {}  # local date -> late reason, None when not late
    rows: list[Row] = []
    append = rows.append
    for c in checked:
        measured_on = c.measured_at.astimezone(zone).date()
        device = devices.find(c, measured_on)
        if isinstance(device, Problem):
            result.errors.append(device)
            continue
        if measured_on in late_on:
            reason = late_on[measured_on]
        else:
            locked_month = locked.has(f"{measured_on:%Y-%m}")
            reason = late_on[measured_on] = late_reason(measured_on, zone) if locked_month else None
        values = c.values
        get = values.get
        append(
            (
                practice_id,
                device.patient_id,
                device.pk,
                device.vendor_id,
                batch_id,
                device.program,
                c.vendor_reading_id,
                c.type,
                c.measured_at,
                measured_on,
                now,
                c.source,
                get("systolic"),
                get("diastolic"),
                get("pulse"),
                get("value"),
                get("unit", ""),
                get("pef"),
                get("fasting"),
                get("original_value"),
                get("original_unit", ""),
                reason is not None,
                reason or "",
                "",
            )
        )
    result.errors.sort(key=lambda p: p.index)
    return rows


_RETURNING = (
    "ON CONFLICT (vendor_id, vendor_reading_id) DO NOTHING "
    "RETURNING id, vendor_id, vendor_reading_id"
)


def _insert_sql(count: int) -> str:
    table = Reading._meta.db_table
    names = ", ".join(connection.ops.quote_name(c) for c in COLUMNS)
    one = "(" + ", ".join(["%s"] * len(COLUMNS)) + ")"
    return f"INSERT INTO {table} ({names}) VALUES {', '.join([one] * count)} {_RETURNING}"


def _unnest_sql() -> str:
    """The PostgreSQL insert of one chunk: shared values once, the rest one array a column."""
    quote = connection.ops.quote_name
    table = Reading._meta.db_table
    names = ", ".join(quote(c) for c in COLUMNS)
    picked = ", ".join(
        f"%s::{SHARED_TYPES[c]}" if c in SHARED_TYPES else ("%s" if c in SHARED else f"u.{c}")
        for c in COLUMNS
    )
    arrays = ", ".join(f"%b::{kind}[]" for kind in ARRAY_TYPES.values())
    # The values of SHARED come first in the parameters, in COLUMNS order, then the arrays.
    return (
        f"INSERT INTO {table} ({names}) SELECT {picked} "
        f"FROM unnest({arrays}) AS u({', '.join(ARRAY_TYPES)}) {_RETURNING}"
    )


def _store(batch: ReadingBatch, rows: list[Row]) -> list[Row]:
    """Insert the rows not stored before; return the ones this batch stored, with their id.

    INSERT ... ON CONFLICT DO NOTHING RETURNING (SQLite 3.35+ and PostgreSQL): the unique
    (vendor, vendor reading id) constraint decides what is a duplicate, even against a
    concurrent batch, and RETURNING says which rows this statement inserted. On PostgreSQL one
    statement takes the rows as binary column arrays through unnest and a server-side binding
    cursor (``lib/pgbinding.py``: thousands of placeholders, or arrays quoted into the text,
    cost more to split and bind than the insert itself); on SQLite, one multi-row VALUES per
    slice. Django's bulk_create compiles every value through
    the ORM, which costs more than the insert.
    """
    if not rows:
        return []
    stored: list[Row] = []
    if connection.vendor == "postgresql":
        slices = [rows]
    else:
        slices = [rows[i : i + ROWS_PER_INSERT] for i in range(0, len(rows), ROWS_PER_INSERT)]
    for part in slices:
        if connection.vendor == "postgresql":
            first = part[0]
            params: list[Any] = [first[i] for i in SHARED_INDEXES]
            params[SHARED.index("batch_id")] = batch.pk
            columns = list(zip(*part, strict=True))
            # Each column one binary array (psycopg dumps it, escaping included).
            params.extend(list(columns[i]) for i in ARRAY_INDEXES)
            with binding_cursor() as cursor:
                cursor.execute(_unnest_sql(), params)
                found = cursor.fetchall()
        else:
            with connection.cursor() as cursor:
                cursor.execute(_insert_sql(len(part)), _values_params(batch, part))
                found = cursor.fetchall()
        inserted = {(vendor_id, ident): pk for pk, vendor_id, ident in found}
        for row in part:
            # A reading repeated inside the slice is inserted once: the first one claims the id.
            pk = inserted.pop((row[VENDOR], row[VENDOR_READING_ID]), None)
            if pk is not None:
                stored.append((*row, pk))
    return stored


def _values_params(batch: ReadingBatch, part: list[Row]) -> list[Any]:
    """Flatten rows into a VALUES list's parameters, times and dates as the backend takes them."""
    ops = connection.ops
    adapt_datetime = ops.adapt_datetimefield_value
    adapt_date = ops.adapt_datefield_value
    batch_id = batch.pk
    params: list[Any] = []
    extend = params.extend
    for row in part:
        extend(row[:4])
        params.append(batch_id)
        extend(row[5:MEASURED_AT])
        params.append(adapt_datetime(row[MEASURED_AT]))
        params.append(adapt_date(row[MEASURED_ON]))
        params.append(adapt_datetime(row[RECEIVED_AT]))
        extend(row[RECEIVED_AT + 1 :])
    return params


def _for_alerts(rows: list[Row], now: datetime) -> list[Reading]:
    """Make Reading objects of the stored rows recent enough to raise alerts."""
    since = now - ALERT_WINDOW
    return [
        Reading(id=row[ID], **dict(zip(COLUMNS, row[:ID], strict=True)))
        for row in rows
        if row[MEASURED_AT] >= since
    ]
