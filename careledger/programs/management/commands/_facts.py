"""The shared shape of the program-fact import commands (one kind of fact per command)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from careledger.accounts.access import PracticeContext
from careledger.accounts.models import Practice
from careledger.lib.csvcommand import CsvImportCommand
from careledger.programs.fact_imports import FactImport, FactsReport, decode_facts, import_facts


class FactImportCommand(CsvImportCommand):
    """Import one kind of program fact; the rows are recorded by ``--user``."""

    kind: ClassVar[FactImport]
    user_required = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.permission = self.kind.permission
        self.who_may = self.kind.who_may

    def column_help(self) -> str:
        return self.kind.column_help()

    def decode(self, content: bytes) -> str:
        return decode_facts(content)

    def run(
        self, *, ctx: PracticeContext, text: str, now: datetime, dry_run: bool, source: str
    ) -> FactsReport:
        return import_facts(self.kind, ctx=ctx, text=text, now=now, dry_run=dry_run)

    def summary(self, report: Any, practice: Practice) -> str:
        if report.dry_run:
            return f"dry run: {report.rows} rows are valid; nothing stored"
        return f"stored {report.stored} {self.kind.noun} in {practice.slug}"
