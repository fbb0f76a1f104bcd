"""One shape for every ``careledger import-*`` CSV command.

``careledger import-x FILE.csv --practice SLUG [--user USERNAME] [--dry-run]``: find the
practice, check the user may import, decode the file, run the import, print each problem as
``FILE line L, field F: message`` on stderr and exit 2 when anything is wrong, else print one
summary line. Each command names its permission and supplies ``decode``, ``run`` and
``summary``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Protocol

from django.core.management.base import (
    BaseCommand,
    CommandError,
    CommandParser,
    DjangoHelpFormatter,
)
from django.utils import timezone

from careledger.accounts.access import ContextRefused, PracticeContext, command_context
from careledger.accounts.models import Practice
from careledger.lib.csvimport import RowProblem, Unreadable, refusal


class ImportReport(Protocol):
    """What every import returns: the rows read, every problem, and whether it was a dry run."""

    @property
    def rows(self) -> int: ...

    @property
    def dry_run(self) -> bool: ...

    @property
    def problems(self) -> Sequence[RowProblem]: ...

    @property
    def ok(self) -> bool: ...


class _Formatter(DjangoHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Keep the column table's layout in ``--help``."""


class CsvImportCommand(BaseCommand):
    """Base for the all-or-nothing CSV imports; exit code 2 on any bad input."""

    permission: str
    who_may: str  # completes "'x' is a coordinator; only ... import ..."
    user_required: ClassVar[bool] = False
    user_help: ClassVar[str] = "the manager or admin the import is audited as (default: the system)"
    file_help: ClassVar[str] = "UTF-8 CSV with a header row"
    columns_help: ClassVar[str] = ""  # shown after the options in --help

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        if epilog := self.column_help():
            kwargs.setdefault("formatter_class", _Formatter)
            kwargs.setdefault("epilog", epilog)
        return super().create_parser(prog_name, subcommand, **kwargs)

    def column_help(self) -> str:
        """Describe the file's columns after the options in ``--help`` (blank: nothing)."""
        return self.columns_help

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", metavar="FILE.csv", help=self.file_help)
        parser.add_argument("--practice", required=True, metavar="SLUG", help="the practice")
        parser.add_argument("--dry-run", action="store_true", help="validate only; store nothing")
        parser.add_argument(
            "--user", required=self.user_required, metavar="USERNAME", help=self.user_help
        )

    def decode(self, content: bytes) -> str:
        """Decode the file (raise an ``Unreadable`` when it is not a UTF-8 CSV)."""
        raise NotImplementedError

    def run(
        self, *, ctx: PracticeContext, text: str, now: datetime, dry_run: bool, source: str
    ) -> ImportReport:
        """Check every row and store all of them or none."""
        raise NotImplementedError

    def summary(self, report: Any, practice: Practice) -> str:
        """Say what was stored, or for a dry run what would be."""
        raise NotImplementedError

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        practice = Practice.objects.filter(slug=options["practice"]).first()
        if practice is None:
            raise CommandError(f"no practice with slug {options['practice']!r}", returncode=2)
        try:
            ctx = command_context(practice, options["user"], self.permission, who_may=self.who_may)
            text = self.decode(path.read_bytes())
        except ContextRefused as refused:
            raise CommandError(str(refused), returncode=2) from None
        except OSError as exc:
            raise CommandError(f"{path}: {exc.strerror or exc}", returncode=2) from None
        except Unreadable as exc:
            raise CommandError(f"{path}: {exc}", returncode=2) from None
        report = self.run(
            ctx=ctx, text=text, now=timezone.now(), dry_run=options["dry_run"], source=path.name
        )
        for problem in report.problems:
            self.stderr.write(
                f"{path} line {problem.line}, field {problem.field}: {problem.message}"
            )
        if not report.ok:
            raise CommandError(refusal(rows=report.rows, problems=report.problems), returncode=2)
        self.stdout.write(self.summary(report, practice))
