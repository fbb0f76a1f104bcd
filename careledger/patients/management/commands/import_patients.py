"""``careledger import-patients FILE.csv --practice SLUG [--dry-run] [--user USERNAME]``.

The columns are documented in ``careledger.patients.importer``; a sample roster ships as
``careledger/demo/samples/patients.csv``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from careledger.accounts.access import PracticeContext
from careledger.accounts.models import Practice
from careledger.lib.csvcommand import CsvImportCommand
from careledger.patients.importer import ImportReport, decode_roster, import_roster


class Command(CsvImportCommand):
    help = (
        "Import a patient roster (patients and their conditions) from CSV: every row is "
        "validated first and the file is stored all or nothing. Exit code 2 on bad input."
    )
    permission = "patient.import"
    who_may = "only managers and admins import rosters"
    file_help = "the roster, UTF-8 CSV with a header"

    def decode(self, content: bytes) -> str:
        return decode_roster(content)

    def run(
        self, *, ctx: PracticeContext, text: str, now: datetime, dry_run: bool, source: str
    ) -> ImportReport:
        return import_roster(ctx=ctx, text=text, now=now, dry_run=dry_run, source=source)

    def summary(self, report: Any, practice: Practice) -> str:
        if report.dry_run:
            return (
                f"dry run: {report.rows} rows are valid ({report.rows} patients, "
                f"{report.conditions_found} conditions); nothing stored"
            )
        return (
            f"stored {report.patients_stored} patients, {report.conditions_stored} "
            f"conditions in {practice.slug}"
        )
