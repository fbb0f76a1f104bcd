"""``careledger import-readings FILE --practice SLUG [--vendor SLUG] [--dry-run]``.

FILE is CSV (columns in ``careledger.devices.importer.CSV_COLUMNS``) or a FHIR R4 Bundle of
vital-signs Observations. The file is one batch: every reading is checked first and the file
is stored all or nothing. Prints a JSON summary to stdout; problems go to stderr; exit 2 for bad
input.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from careledger.accounts.models import Practice
from careledger.audit.models import AuditEvent
from careledger.audit.services import record_event
from careledger.devices.importer import (
    FileUnreadable,
    Parsed,
    looks_like_fhir,
    operation_outcome,
    parse_file,
)
from careledger.devices.ingest import IngestResult, ingest_readings
from careledger.devices.models import Vendor, Via


class _Refused(Exception):
    def __init__(self, result: IngestResult) -> None:
        self.result = result


class Command(BaseCommand):
    help = (
        "Import device readings from CSV or a FHIR R4 Bundle of vital-signs Observations: "
        "stored all or nothing, repeated readings stored once. Exit code 2 on bad input."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", metavar="FILE", help="CSV with a header, or a FHIR Bundle")
        parser.add_argument("--practice", required=True, metavar="SLUG", help="the practice")
        parser.add_argument(
            "--vendor", metavar="SLUG", help="only this vendor's devices may be named"
        )
        parser.add_argument("--dry-run", action="store_true", help="check only; store nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        practice = Practice.objects.filter(slug=options["practice"]).first()
        if practice is None:
            raise CommandError(f"no practice with slug {options['practice']!r}", returncode=2)
        vendor = None
        if options["vendor"]:
            vendor = Vendor.objects.filter(practice=practice, slug=options["vendor"]).first()
            if vendor is None:
                raise CommandError(
                    f"no vendor {options['vendor']!r} in {practice.slug}", returncode=2
                )
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"{path}: {exc.strerror or exc}", returncode=2) from None
        fhir = looks_like_fhir(content)
        try:
            parsed = parse_file(content, name=path.name)
        except FileUnreadable as exc:
            self._refused(practice, path, str(exc))
            if fhir:
                # Case 12: a refused FHIR document is answered with an OperationOutcome.
                summary = {
                    "file": path.name,
                    "readings": 0,
                    "stored": 0,
                    "duplicates": 0,
                    "errors": 1,
                    "dry_run": options["dry_run"],
                    "outcome": operation_outcome([("file", "file", str(exc))]),
                }
                self.stdout.write(json.dumps(summary))
            raise CommandError(f"{path}: {exc}", returncode=2) from None
        now = timezone.now()
        dry_run = options["dry_run"]
        try:
            result = import_parsed(
                practice=practice,
                vendor=vendor,
                parsed=parsed,
                now=now,
                dry_run=dry_run,
                source_name=path.name,
            )
        except _Refused as refused:
            result = refused.result
        problems = [(where, f, reason) for where, f, reason in parsed.problems] + [
            (parsed.where[p.index], p.field, p.reason) for p in result.errors
        ]
        for where, field, reason in problems:
            self.stderr.write(f"{path} {where}, field {field}: {reason}")
        summary = {
            "file": path.name,
            "readings": len(parsed.items) + len(parsed.problems),
            "stored": 0 if problems else result.stored,
            "duplicates": 0 if problems else result.duplicates,
            "errors": len(problems),
            "dry_run": dry_run,
        }
        if fhir and problems:
            summary["outcome"] = operation_outcome(problems)
        self.stdout.write(json.dumps(summary))
        if problems:
            self._refused(practice, path, f"{len(problems)} readings refused")
            raise CommandError(
                f"stored 0 readings: {len(problems)} of {summary['readings']} have errors",
                returncode=2,
            )

    def _refused(self, practice: Practice, path: Path, reason: str) -> None:
        record_event(
            "reading.import_refused",
            actor=None,
            practice=practice,
            outcome=AuditEvent.Outcome.FAILURE,
            details={"file": path.name[:100], "reason": reason[:200], "command": "import-readings"},
        )


def import_parsed(
    *,
    practice: Practice,
    vendor: Vendor | None,
    parsed: Parsed,
    now: Any,
    dry_run: bool,
    source_name: str,
) -> IngestResult:
    """Store the file's readings as one batch; roll everything back if any is refused."""
    with transaction.atomic():
        result = ingest_readings(
            practice=practice,
            items=parsed.items,
            via=Via.IMPORT,
            vendor=vendor,
            now=now,
            source_name=source_name,
            dry_run=dry_run,
        )
        if result.errors or parsed.problems:
            transaction.set_rollback(True)
            raise _Refused(result)
        if dry_run:
            return result
        record_event(
            "reading.imported",
            actor=None,
            practice=practice,
            details={
                "file": source_name[:100],
                "stored": result.stored,
                "duplicates": result.duplicates,
                "command": "import-readings",
            },
            now=now,
        )
    return result
