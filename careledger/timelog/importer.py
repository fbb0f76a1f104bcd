"""Import time entries from a spreadsheet (CSV): every row checked, then all stored or none.

For programs moving from spreadsheets. The file is UTF-8 (a byte-order mark is accepted),
comma-separated, CRLF or LF line endings, with a header row naming the columns in any order
(case and surrounding spaces ignored):

==========  ========  ==================================================================
column      required  meaning
==========  ========  ==================================================================
mrn         yes       the patient's medical record number in this practice
program     yes       CCM, PCM, RPM, RTM, BHI, CoCM or APCM; the patient must be enrolled
staff       yes       username of the member of the practice who did the work
date        yes       YYYY-MM-DD, the practice's local date the contact started
start_time  yes       HH:MM (24-hour), the practice's local time
end_time    one of    HH:MM, local, on the same date and after ``start_time``
minutes     one of    whole minutes, 1 to 240 (instead of ``end_time``, or agreeing with it)
kind        yes       interactive_call, video, secure_message, voicemail, data_review,
                      care_coordination, care_plan_update, medication_reconciliation,
                      registry_review or scheduling
outcome     yes       reached, left_voicemail, no_answer, wrong_number or not_applicable
summary     yes       what happened: two sentences for a countable entry (or the practice's
                      setting), one for a voicemail or an unanswered attempt
reason      no        why the entry is recorded now; required for every entry that ended more
                      than 48 hours before the import, or that falls in a locked month
==========  ========  ==================================================================

Each row goes through the same service as a manual entry (``log_contact``, source ``import``),
with the real time of the import as "now": an entry must have ended, may last at most 4 hours,
may not overlap another entry of the same staff member (stored, or an earlier row of the same
file), and, since spreadsheets are usually older than 48 hours, needs a ``reason`` to be late.

Local times are the practice's zone. On the autumn night when clocks go back, a time in the
repeated hour means its first occurrence (daylight time, ``fold=0``); give ``minutes`` for work
in the second one. A time that does not exist (the spring-forward gap) is an error on its field.
Work past local midnight gives ``minutes`` rather than an ``end_time`` on the next day.

Blank lines are skipped. Rows are validated in order inside one transaction, so later rows see
the earlier good rows of the file; at the end everything is rolled back if any row had a
problem (or for a dry run). Each problem is reported as (line, field, message).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction

from careledger.accounts.access import PracticeContext, system_context
from careledger.accounts.models import Membership
from careledger.audit.services import record_event
from careledger.lib.csvimport import (
    Problems,
    RowProblem,
    Unreadable,
    decode_csv,
    parse_iso_date,
    read_table,
)
from careledger.patients.models import Patient, Program
from careledger.timelog.models import Kind, Outcome, Source
from careledger.timelog.services import MAX_ENTRY, Contact, log_contact

__all__ = [
    "COLUMNS",
    "MAX_BYTES",
    "MAX_ROWS",
    "EntriesUnreadable",
    "ImportReport",
    "RowProblem",
    "decode_entries",
    "import_entries",
    "system_context",
]

COLUMNS = (
    "mrn",
    "program",
    "staff",
    "date",
    "start_time",
    "end_time",
    "minutes",
    "kind",
    "outcome",
    "summary",
    "reason",
)
# (column, required, meaning): shown by ``--help`` and on the upload page.
COLUMN_GUIDE = (
    ("mrn", "yes", "the patient's medical record number in this practice"),
    ("program", "yes", "CCM, PCM, RPM, RTM, BHI, CoCM or APCM; the patient must be enrolled"),
    ("staff", "yes", "username of the practice member who did the work"),
    ("date", "yes", "YYYY-MM-DD, the practice's local date the contact started"),
    ("start_time", "yes", "HH:MM (24-hour), practice-local"),
    ("end_time", "or minutes", "HH:MM, practice-local, on the same date, after start_time"),
    ("minutes", "or end_time", "whole minutes from 1 to 240 (agreeing with end_time if both)"),
    ("kind", "yes", ", ".join(Kind.values)),
    ("outcome", "yes", ", ".join(Outcome.values)),
    (
        "summary",
        "yes",
        "what happened: two sentences for countable time (or the practice's setting), "
        "one for a voicemail or unanswered attempt",
    ),
    (
        "reason",
        "no",
        "why the entry is recorded now: required when it ended more than 48 hours before "
        "the import (most spreadsheet rows) or falls in a locked month",
    ),
)
REQUIRED_COLUMNS = ("mrn", "program", "staff", "date", "start_time", "kind", "outcome", "summary")
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5_000  # each row is one service call with its own checks; keep one import short

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME = re.compile(r"(\d{1,2}):(\d{2})")
_PROGRAMS = {value.upper(): value for value in Program.values}
# The service names the model's fields; the report names the file's columns.
_SERVICE_FIELDS = {"started_at": "start_time", "ended_at": "end_time"}
_FIELD_ORDER = {name: index for index, name in enumerate(("header", "row", *COLUMNS))}


@dataclass(frozen=True)
class ImportReport:
    """What an import found and did."""

    rows: int
    problems: tuple[RowProblem, ...] = ()
    entries_stored: int = 0
    entries_valid: int = 0
    minutes: int = 0
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def bad_rows(self) -> int:
        return len({p.line for p in self.problems})

    @property
    def file_refused(self) -> bool:
        """Tell whether the file as a whole cannot be read (header or CSV structure)."""
        return any(p.line == 1 for p in self.problems)


class EntriesUnreadable(Unreadable):
    """The file cannot be read as a UTF-8 CSV at all (not a row problem)."""


@dataclass(frozen=True)
class _Row:
    line: int
    patient: Patient
    membership: Membership
    contact: Contact
    end_field: str  # "end_time" or "minutes": where a problem with the end is reported


@dataclass
class _Problems(Problems):
    def add_error(
        self, line: int, error: ValidationError, *, end_field: str, skip: frozenset[str]
    ) -> None:
        if not hasattr(error, "error_dict"):
            self.add(line, "row", " ".join(error.messages))
            return
        for name, errors in error.error_dict.items():
            if name in skip:
                continue
            column = end_field if name == "ended_at" else _SERVICE_FIELDS.get(name, name)
            for item in errors:
                self.add(line, column, " ".join(item.messages))

    def sorted(self) -> tuple[RowProblem, ...]:
        return tuple(sorted(self.items, key=lambda p: (p.line, _FIELD_ORDER.get(p.field, 99))))


class _Rollback(Exception):
    """Raised inside the import's transaction to undo it (a problem, or a dry run)."""


def decode_entries(content: bytes) -> str:
    """Decode the file's bytes as UTF-8, dropping a byte-order mark."""
    return decode_csv(content, max_bytes=MAX_BYTES, error=EntriesUnreadable)


def import_entries(
    *,
    ctx: PracticeContext,
    text: str,
    now: datetime,
    dry_run: bool = False,
    source: str = "",
) -> ImportReport:
    """Validate every row of a time-entry file by storing it, then keep all rows or none.

    ``ctx`` is the manager or admin who imports (entries are created by them, for the staff
    member named on each row), or ``system_context(practice)``: then each entry is created by
    its own staff member and the batch event has no actor.
    """
    problems = _Problems()
    rows, row_count = _parse(ctx, text, problems)
    if any(p.line == 1 for p in problems.items):
        return ImportReport(rows=row_count, problems=problems.sorted(), dry_run=dry_run)
    system = not ctx.user.is_authenticated
    stored = 0
    minutes = 0
    try:
        with transaction.atomic():
            spans: dict[int, list[tuple[datetime, datetime, int]]] = {}
            for row in rows:
                clash = _clash(spans.get(row.membership.user_id, []), row.contact)
                if clash is not None:
                    problems.add(
                        row.line,
                        "start_time",
                        f"Overlaps line {clash} of this file for the same staff member; "
                        "one person cannot log two contacts at the same time.",
                    )
                row_ctx = (
                    PracticeContext(
                        user=row.membership.user, membership=row.membership, source_ip=None
                    )
                    if system
                    else ctx
                )
                try:
                    # A savepoint per row: a refused row leaves the earlier good rows in place.
                    with transaction.atomic():
                        entry = log_contact(
                            ctx=row_ctx,
                            patient=row.patient,
                            contact=row.contact,
                            now=now,
                            staff=row.membership.user,
                        )
                except ValidationError as exc:
                    # An overlap with an earlier row is already reported by line, not entry id.
                    skip = frozenset({"started_at"}) if clash is not None else frozenset()
                    problems.add_error(row.line, exc, end_field=row.end_field, skip=skip)
                    continue
                spans.setdefault(row.membership.user_id, []).append(
                    (row.contact.started_at, row.contact.ended_at, row.line)
                )
                stored += 1
                minutes += entry.minutes
            if problems.items or dry_run:
                raise _Rollback
            record_event(
                "timeentry.imported",
                actor=ctx.user,
                practice=ctx.practice,
                source_ip=ctx.source_ip,
                details={"source": source, "entries": stored, "minutes": minutes},
                now=now,
            )
    except _Rollback:
        if problems.items:
            return ImportReport(rows=row_count, problems=problems.sorted(), dry_run=dry_run)
        return ImportReport(rows=row_count, entries_valid=stored, minutes=minutes, dry_run=dry_run)
    return ImportReport(
        rows=row_count, entries_stored=stored, entries_valid=stored, minutes=minutes
    )


def _clash(spans: list[tuple[datetime, datetime, int]], contact: Contact) -> int | None:
    for start, end, line in spans:
        if start < contact.ended_at and contact.started_at < end:
            return line
    return None


def _parse(ctx: PracticeContext, text: str, problems: _Problems) -> tuple[list[_Row], int]:
    """Return the rows whose cells are fine, in file order, and how many data rows there are."""
    table = read_table(
        text, columns=COLUMNS, required=REQUIRED_COLUMNS, max_rows=MAX_ROWS, problems=problems
    )
    if table.columns and "end_time" not in table.columns and "minutes" not in table.columns:
        problems.add(1, "end_time", "Give an end_time or a minutes column.")
    if any(problem.line == 1 for problem in problems.items):
        return [], 0
    cells_by_line = list(table.rows)
    mrns = {values["mrn"] for _, values in cells_by_line if values["mrn"]}
    patients = {p.mrn: p for p in Patient.objects.filter(practice=ctx.practice, mrn__in=mrns)}
    members = {
        m.user.get_username(): m
        for m in Membership.objects.filter(
            practice=ctx.practice, is_active=True, user__is_active=True
        ).select_related("user", "practice")
    }
    zone = ZoneInfo(ctx.practice.timezone)
    rows = []
    for line, values in cells_by_line:
        row = _parse_row(line, values, patients, members, zone, problems)
        if row is not None:
            rows.append(row)
    return rows, table.count


def _parse_row(
    line: int,
    values: dict[str, str],
    patients: dict[str, Patient],
    members: dict[str, Membership],
    zone: ZoneInfo,
    problems: _Problems,
) -> _Row | None:
    before = len(problems.items)
    mrn = values["mrn"]
    patient = patients.get(mrn)
    if not mrn:
        problems.add(line, "mrn", "This field is required.")
    elif patient is None:
        problems.add(line, "mrn", f"No patient of this practice has MRN {mrn}.")
    program = _PROGRAMS.get(values["program"].upper())
    if program is None:
        problems.add(line, "program", f"Choose one of: {', '.join(Program.values)}.")
    username = values["staff"]
    membership = members.get(username)
    if not username:
        problems.add(line, "staff", "This field is required (a username).")
    elif membership is None:
        problems.add(line, "staff", f"No member of this practice has username {username!r}.")
    kind = values["kind"].lower()
    if kind not in Kind.values:
        problems.add(line, "kind", f"Choose one of: {', '.join(Kind.values)}.")
    outcome = values["outcome"].lower()
    if outcome not in Outcome.values:
        problems.add(line, "outcome", f"Choose one of: {', '.join(Outcome.values)}.")

    day = parse_iso_date(values["date"], line, "date", problems)
    start_clock = _parse_clock(values["start_time"], line, "start_time", problems)
    end_raw, minutes_raw = values.get("end_time", ""), values.get("minutes", "")
    end_clock = _parse_clock(end_raw, line, "end_time", problems) if end_raw else None
    duration = _parse_minutes(minutes_raw, line, problems) if minutes_raw else None
    if not end_raw and not minutes_raw:
        problems.add(line, "end_time", "Give the end_time (HH:MM) or the minutes.")

    started_at = ended_at = None
    if day is not None and start_clock is not None:
        started_at = _aware(day, start_clock, zone, line, "start_time", problems)
    if day is not None and end_clock is not None:
        ended_at = _aware(day, end_clock, zone, line, "end_time", problems)
    if started_at is not None and ended_at is not None and ended_at <= started_at:
        problems.add(
            line,
            "end_time",
            "The end must be after the start on the same date; for work past midnight "
            "give minutes instead.",
        )
    if started_at is not None and duration is not None:
        by_minutes = started_at + timedelta(minutes=duration)
        if ended_at is not None and ended_at != by_minutes:
            problems.add(
                line, "minutes", f"{duration} minutes does not match the end_time {end_raw}."
            )
        ended_at = by_minutes
    if len(problems.items) > before:
        return None
    assert patient is not None and membership is not None and program is not None
    assert started_at is not None and ended_at is not None
    contact = Contact(
        program=program,
        kind=kind,
        outcome=outcome,
        started_at=started_at,
        ended_at=ended_at,
        summary=values["summary"],
        source=Source.IMPORT,
        reason=values.get("reason", ""),
    )
    end_field = "end_time" if end_raw else "minutes"
    return _Row(line, patient, membership, contact, end_field)


def _parse_clock(raw: str, line: int, name: str, problems: _Problems) -> time | None:
    if not raw:
        problems.add(line, name, "This field is required (HH:MM).")
        return None
    match = _TIME.fullmatch(raw)
    if match is None:
        problems.add(line, name, f"{raw!r} is not a time; write HH:MM (24-hour).")
        return None
    hours, minutes = int(match.group(1)), int(match.group(2))
    if hours > 23 or minutes > 59:
        problems.add(line, name, f"{raw} is not a time of day.")
        return None
    return time(hours, minutes)


def _parse_minutes(raw: str, line: int, problems: _Problems) -> int | None:
    limit = int(MAX_ENTRY.total_seconds() // 60)
    if not raw.isdigit() or not 1 <= int(raw) <= limit:
        problems.add(
            line, "minutes", f"{raw!r} is not a whole number of minutes from 1 to {limit}."
        )
        return None
    return int(raw)


def _aware(
    day: date, clock: time, zone: ZoneInfo, line: int, name: str, problems: _Problems
) -> datetime | None:
    """Return the local ``day`` and ``clock`` as an aware time, or report a skipped local time."""
    local = datetime.combine(day, clock, tzinfo=zone).replace(fold=0)
    # A wall time in the spring-forward gap does not survive the round trip through UTC.
    back = local.astimezone(UTC).astimezone(zone)
    if back.replace(tzinfo=None) != local.replace(tzinfo=None):
        problems.add(
            line,
            name,
            f"{day.isoformat()} {clock:%H:%M} does not exist in {zone.key}: clocks went "
            "forward that night.",
        )
        return None
    # In UTC, so that adding minutes and comparing are real time across a DST change (case 28).
    return local.astimezone(UTC)
