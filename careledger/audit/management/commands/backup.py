"""careledger backup FILE: a consistent copy of the whole database, taken while it is in use."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from careledger.audit.chain import verify_chain
from careledger.audit.management.commands._database import (
    format_counts,
    pg_env,
    pg_tool,
    refuse,
    row_counts,
)


class Command(BaseCommand):
    help = (
        "Back the database up to FILE: SQLite's online backup API, or pg_dump's custom format "
        "(-Fc) on PostgreSQL. Never overwrites FILE. Prints the audit chain's state and the row "
        "count of every table."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", metavar="FILE", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        target: Path = options["file"]
        if target.exists():
            raise refuse(f"{target} already exists; backups never overwrite a file")
        if not target.parent.is_dir():
            raise refuse(f"{target.parent} is not a directory")
        partial = target.with_name(target.name + ".partial")
        partial.unlink(missing_ok=True)
        # Counted before the copy: a live database only grows, so the backup holds at least these.
        counts = row_counts()
        report = verify_chain()
        try:
            if connection.vendor == "sqlite":
                self._sqlite(partial)
            elif connection.vendor == "postgresql":
                self._postgres(partial)
            else:
                raise refuse(f"no backup for {connection.vendor} databases")
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
        self.stdout.write(f"backed up {connection.vendor} database to {target}")
        (self.stdout if report.intact else self.stderr).write(report.summary())
        self.stdout.write("\n".join(format_counts(counts)))

    def _sqlite(self, partial: Path) -> None:
        connection.ensure_connection()
        source = connection.connection
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy)  # page by page; writers may carry on meanwhile
        finally:
            copy.close()

    def _postgres(self, partial: Path) -> None:
        pg_dump = pg_tool("pg_dump")
        run = subprocess.run(
            [pg_dump, "--format=custom", "--no-password", f"--file={partial}"],
            env=pg_env(),
            capture_output=True,
            text=True,
        )
        if run.returncode != 0:
            raise CommandError(f"pg_dump failed: {run.stderr.strip()}")
