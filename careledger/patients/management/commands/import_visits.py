"""``careledger import-visits FILE.csv --practice SLUG [--dry-run] [--user USERNAME]``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from careledger.accounts.access import ContextRefused, command_context
from careledger.accounts.models import Practice
from careledger.lib.csvimport import refusal
from careledger.patients.visit_import import VisitsUnreadable, decode_visits, import_visits


class Command(BaseCommand):
    help = (
        "Import face-to-face visits (columns: mrn, practitioner, visited_on, kind, em_level); "
        "every row is checked first and either all rows are stored or none."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--practice", required=True)
        parser.add_argument("--dry-run", action="store_true")
        parser.add_argument("--user", help="the manager or admin running the import")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        practice = Practice.objects.filter(slug=options["practice"]).first()
        if practice is None:
            raise CommandError(f"no practice {options['practice']!r}", returncode=2)
        try:
            ctx = command_context(
                practice,
                options["user"],
                "patient.import",
                who_may="only managers and admins import visits",
            )
            text = decode_visits(path.read_bytes())
        except ContextRefused as refused:
            raise CommandError(str(refused), returncode=2) from None
        except (OSError, VisitsUnreadable) as exc:
            raise CommandError(f"{path}: {exc}", returncode=2) from None
        report = import_visits(
            ctx=ctx, text=text, now=timezone.now(), dry_run=options["dry_run"], source=path.name
        )
        for problem in report.problems:
            self.stderr.write(
                f"{path} line {problem.line}, field {problem.field}: {problem.message}"
            )
        if not report.ok:
            raise CommandError(refusal(rows=report.rows, problems=report.problems), returncode=2)
        if report.dry_run:
            self.stdout.write(f"dry run: {report.rows} rows are valid; nothing stored")
        else:
            self.stdout.write(f"stored {report.stored} visits in {practice.slug}")
