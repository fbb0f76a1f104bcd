"""careledger restore FILE: load a backup into a new, empty database, then check it."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from careledger.audit.chain import verify_chain
from careledger.audit.management.commands._database import (
    PGDUMP_MAGIC,
    SQLITE_MAGIC,
    format_counts,
    pg_env,
    pg_tool,
    refuse,
    row_counts,
)


class Command(BaseCommand):
    help = (
        "Restore a backup made by `careledger backup` into the configured database, which must "
        "be empty (no tables): restore never overwrites data and has no --force. Then verifies "
        "the audit chain (exit 1 if broken) and prints the row count of every table."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", metavar="FILE", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        source: Path = options["file"]
        if not source.is_file():
            raise refuse(f"{source} is not a file")
        with source.open("rb") as handle:
            magic = handle.read(len(SQLITE_MAGIC))
        vendor = connection.vendor
        if vendor == "sqlite" and magic == SQLITE_MAGIC:
            self._refuse_unless_empty()
            self._sqlite(source)
        elif vendor == "postgresql" and magic.startswith(PGDUMP_MAGIC):
            self._refuse_unless_empty()
            self._postgres(source)
        else:
            kind = {SQLITE_MAGIC: "a SQLite backup"}.get(magic, "")
            kind = kind or ("a pg_dump backup" if magic.startswith(PGDUMP_MAGIC) else "unknown")
            raise refuse(f"{source} is {kind}, which cannot be restored into a {vendor} database")
        connection.close()  # read the restored database afresh
        self.stdout.write(f"restored {source} into the {vendor} database")
        report = verify_chain()
        counts = row_counts()
        self.stdout.write("\n".join(format_counts(counts)))
        if not report.intact:
            self.stderr.write(report.summary())
            raise SystemExit(1)
        self.stdout.write(report.summary())

    def _refuse_unless_empty(self) -> None:
        tables = connection.introspection.table_names()
        if tables:
            shown = ", ".join(sorted(tables)[:3]) + (", ..." if len(tables) > 3 else "")
            raise refuse(
                f"refusing to restore: the target database is not empty ({len(tables)} tables: "
                f"{shown}); restore only into a new, empty database"
            )

    def _sqlite(self, source: Path) -> None:
        # Our own connection, not Django's: a fresh file is not yet in WAL mode, so the copy
        # takes the backup's page size and journal mode as they are.
        connection.close()
        backup = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        target = sqlite3.connect(connection.settings_dict["NAME"])
        try:
            backup.backup(target)
        finally:
            target.close()
            backup.close()

    def _postgres(self, source: Path) -> None:
        pg_restore = pg_tool("pg_restore")
        run = subprocess.run(
            [
                pg_restore,
                "--no-password",
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--single-transaction",
                f"--dbname={connection.settings_dict['NAME']}",
                str(source),
            ],
            env=pg_env(),
            capture_output=True,
            text=True,
        )
        if run.returncode != 0:
            raise CommandError(f"pg_restore failed: {run.stderr.strip()}")
