"""``careledger import-other-claims FILE.csv --practice SLUG --user USERNAME [--dry-run]``.

Columns: mrn, practitioner, code, period_start_on, period_end_on (required), practitioner_npi.
Every row is checked first; any problem stores nothing and exits 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from careledger.accounts.access import ContextRefused, command_context
from careledger.accounts.models import Practice
from careledger.programs.importer import ClaimsUnreadable, decode_claims, import_other_claims


class Command(BaseCommand):
    help = (
        "Import other practitioners' claims (CSV: mrn, practitioner, code, period_start_on, "
        "period_end_on[, practitioner_npi]); all or nothing. Exit code 2 on bad input."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", metavar="FILE.csv")
        parser.add_argument("--practice", required=True, metavar="SLUG")
        parser.add_argument(
            "--user",
            required=True,
            metavar="USERNAME",
            help="the biller, manager or admin the claims are recorded by",
        )
        parser.add_argument("--dry-run", action="store_true", help="validate only; store nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        practice = Practice.objects.filter(slug=options["practice"]).first()
        if practice is None:
            raise CommandError(f"no practice with slug {options['practice']!r}", returncode=2)
        try:
            ctx = command_context(
                practice,
                options["user"],
                "facts.import",
                who_may="only billers, managers and admins import claims",
            )
            text = decode_claims(path.read_bytes())
        except ContextRefused as exc:
            raise CommandError(str(exc), returncode=2) from None
        except OSError as exc:
            raise CommandError(f"{path}: {exc.strerror or exc}", returncode=2) from None
        except ClaimsUnreadable as exc:
            raise CommandError(f"{path}: {exc}", returncode=2) from None
        report = import_other_claims(
            ctx=ctx, text=text, now=timezone.now(), dry_run=options["dry_run"]
        )
        for problem in report.problems:
            where = f"{path} line {problem.line}, field {problem.field}"
            self.stderr.write(f"{where}: {problem.message}")
        if not report.ok:
            raise CommandError(
                f"stored 0 of {report.rows} rows: {len(report.problems)} problems", returncode=2
            )
        if report.dry_run:
            self.stdout.write(f"dry run: {report.rows} rows are valid; nothing stored")
        else:
            self.stdout.write(f"stored {report.stored} claims in {practice.slug}")
