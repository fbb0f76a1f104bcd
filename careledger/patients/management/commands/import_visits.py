"""``careledger import-visits FILE.csv --practice SLUG [--dry-run] [--user USERNAME]``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from careledger.accounts.access import PracticeContext
from careledger.accounts.models import Practice
from careledger.lib.csvcommand import CsvImportCommand
from careledger.patients.visit_import import VisitImportReport, decode_visits, import_visits


class Command(CsvImportCommand):
    help = (
        "Import face-to-face visits (columns: mrn, practitioner, visited_on, kind, em_level); "
        "every row is checked first and either all rows are stored or none."
    )
    permission = "patient.import"
    who_may = "only managers and admins import visits"
    user_help = "the manager or admin running the import (default: the system)"

    def decode(self, content: bytes) -> str:
        return decode_visits(content)

    def run(
        self, *, ctx: PracticeContext, text: str, now: datetime, dry_run: bool, source: str
    ) -> VisitImportReport:
        return import_visits(ctx=ctx, text=text, now=now, dry_run=dry_run, source=source)

    def summary(self, report: Any, practice: Practice) -> str:
        if report.dry_run:
            return f"dry run: {report.rows} rows are valid; nothing stored"
        return f"stored {report.stored} visits in {practice.slug}"
