"""What backup and restore share: the database's parts, tables and row counts."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from typing import Any

from django.apps import apps
from django.core.management.base import CommandError
from django.db import connection

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"


def refuse(message: str) -> CommandError:
    """A usage error: exit status 2, nothing written."""
    return CommandError(message, returncode=2)


def row_counts() -> dict[str, int]:
    """Rows in every model's table (including many-to-many tables), by table name."""
    existing = set(connection.introspection.table_names())
    counts: dict[str, int] = {}
    for model in apps.get_models(include_auto_created=True):
        table = model._meta.db_table
        if model._meta.managed and table in existing and table not in counts:
            counts[table] = model._base_manager.using(connection.alias).count()
    return dict(sorted(counts.items()))


def format_counts(counts: dict[str, int]) -> list[str]:
    width = max((len(table) for table in counts), default=0)
    lines = [f"  {table:<{width}}  {n}" for table, n in counts.items()]
    lines.append(f"  {'total':<{width}}  {sum(counts.values())} rows in {len(counts)} tables")
    return lines


def pg_settings() -> dict[str, Any]:
    return connection.settings_dict


def pg_env() -> dict[str, str]:
    """libpq's environment for the configured database: no password on any command line."""
    config = pg_settings()
    env = {**os.environ}
    for key, name in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER")):
        if config.get(key):
            env[name] = str(config[key])
    if config.get("PASSWORD"):
        env["PGPASSWORD"] = str(config["PASSWORD"])
    env["PGDATABASE"] = str(config["NAME"])
    return env


def pg_tool(name: str) -> str:
    """Find pg_dump/pg_restore and make sure it is at least as new as the server."""
    path = shutil.which(name)
    if path is None:
        raise refuse(f"{name} is not installed; install the PostgreSQL client tools")
    output = subprocess.run([path, "--version"], capture_output=True, text=True, check=True)
    found = re.search(r"(\d+)(?:\.(\d+))?", output.stdout)
    tool_major = int(found.group(1)) if found else 0
    connection.ensure_connection()
    server_major = connection.pg_version // 10000  # type: ignore[attr-defined]
    if tool_major < server_major:
        raise refuse(
            f"{name} is version {tool_major} but the server runs PostgreSQL {server_major}; "
            f"install {name} {server_major} or newer"
        )
    return path
