"""Import face-to-face visits from a CSV: every row checked, then every row stored or none.

Columns (a header row names them, in any order, case ignored):

| column | meaning |
|---|---|
| ``mrn`` | the patient's MRN in the practice (required) |
| ``practitioner`` | the username of the practice's billing practitioner seen (required) |
| ``visited_on`` | the visit date, YYYY-MM-DD (required) |
| ``kind`` | ``em``, ``awv`` or ``ippe`` (required) |
| ``em_level`` | 1 to 5, for an E/M visit |

UTF-8 with or without a byte-order mark; at most 5 MB and 20,000 rows. Each row goes through
the same service as the visit form (``record_visit``), so each stored visit leaves its own
audit event, and the batch one more (``visit.imported``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from careledger.accounts.access import PracticeContext
from careledger.audit.services import record_event
from careledger.lib.csvimport import (
    Problems,
    RowProblem,
    Unreadable,
    decode_csv,
    parse_iso_date,
    read_table,
)
from careledger.patients.models import Patient, Visit
from careledger.patients.services import record_visit

COLUMNS = ("mrn", "practitioner", "visited_on", "kind", "em_level")
REQUIRED_COLUMNS = ("mrn", "practitioner", "visited_on", "kind")
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000


class VisitsUnreadable(Unreadable):
    """The file cannot be read as a UTF-8 CSV at all (not a row problem)."""


@dataclass(frozen=True)
class VisitImportReport:
    rows: int
    problems: tuple[RowProblem, ...] = ()
    stored: int = 0
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems


class _Rollback(Exception):
    """Undo the import's transaction (a problem, or a dry run)."""


def decode_visits(content: bytes) -> str:
    """Decode the file's bytes as UTF-8, dropping a byte-order mark."""
    return decode_csv(content, max_bytes=MAX_BYTES, error=VisitsUnreadable)


def import_visits(
    *, ctx: PracticeContext, text: str, now: datetime, dry_run: bool = False, source: str = ""
) -> VisitImportReport:
    """Check every row, then store all of them (or, with a problem or a dry run, none)."""
    problems = Problems()
    table = read_table(
        text, columns=COLUMNS, required=REQUIRED_COLUMNS, max_rows=MAX_ROWS, problems=problems
    )
    patients = {
        p.mrn: p
        for p in Patient.objects.filter(
            practice=ctx.practice, mrn__in={values["mrn"] for _, values in table.rows}
        )
    }
    members = {
        m.user.get_username(): m.user_id
        for m in ctx.practice.memberships.filter(is_active=True).select_related("user")
    }
    stored = 0
    try:
        with transaction.atomic():
            for line, values in table.rows:
                patient = patients.get(values["mrn"])
                if patient is None:
                    problems.add(line, "mrn", f"No patient with MRN {values['mrn']!r} here.")
                practitioner = members.get(values["practitioner"])
                if practitioner is None:
                    problems.add(line, "practitioner", "Not a member of the practice.")
                visited_on = parse_iso_date(values["visited_on"], line, "visited_on", problems)
                kind = values["kind"].lower()
                if kind not in Visit.Kind.values:
                    problems.add(line, "kind", f"Use one of: {', '.join(Visit.Kind.values)}.")
                level = values.get("em_level", "")
                em_level = int(level) if level.isdigit() else None
                if level and em_level is None:
                    problems.add(line, "em_level", "Give the E/M level as a number 1 to 5.")
                if patient is None or practitioner is None or visited_on is None:
                    continue
                if kind not in Visit.Kind.values or (level and em_level is None):
                    continue
                try:
                    with transaction.atomic():
                        record_visit(
                            ctx=ctx,
                            patient=patient,
                            practitioner=practitioner,
                            visited_on=visited_on,
                            kind=kind,
                            em_level=em_level,
                            now=now,
                        )
                        stored += 1
                except ValidationError as error:
                    for name, messages in error.message_dict.items():
                        for message in messages:
                            problems.add(line, name, message)
            if problems.items or dry_run:
                raise _Rollback
            record_event(
                "visit.imported",
                actor=ctx.user,
                practice=ctx.practice,
                source_ip=ctx.source_ip,
                details={"source": source, "visits": stored},
                now=now,
            )
    except _Rollback:
        pass
    return VisitImportReport(
        rows=table.count,
        problems=tuple(problems.items),
        stored=0 if problems.items or dry_run else stored,
        dry_run=dry_run,
    )
