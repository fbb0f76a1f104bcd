"""Back the demo up, restore it into an empty database, and find it whole (issue 11, item 5).

Also: concurrent writers never chain two events to the same previous row.

Both need committed rows in a real database, which ordinary (rolled-back) tests never have, so
they run careledger in subprocesses against scratch databases created and dropped here: SQLite
files, or PostgreSQL databases when the suite runs on PostgreSQL.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import dj_database_url
import pytest

ROOT = Path(__file__).resolve().parents[2]
CARELEDGER = Path(sys.executable).parent / "careledger"
URL = os.environ.get("DATABASE_URL", "")
POSTGRES = URL.startswith(("postgres://", "postgresql://"))


def _admin_url(name: str) -> str:
    config = dj_database_url.parse(URL)
    user = config.get("USER") or "postgres"
    host = config.get("HOST") or "127.0.0.1"
    port = config.get("PORT") or 5432
    return f"postgres://{user}@{host}:{port}/{name}"


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """Make empty scratch databases by name; all are dropped afterwards."""
    made: list[str] = []
    admin = None
    if POSTGRES:
        import psycopg

        admin = psycopg.connect(_admin_url("postgres"), autocommit=True)

    def make(name: str) -> str:
        if admin is None:
            return f"sqlite:///{tmp_path / f'{name}.sqlite3'}"
        database = f"careledger_{name}_{uuid.uuid4().hex[:10]}"
        admin.execute(f'CREATE DATABASE "{database}"')
        made.append(database)
        return _admin_url(database)

    yield make
    if admin is not None:
        for database in made:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.close()


def _run(url: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url, "PYTHONDONTWRITEBYTECODE": "1"}
    run = subprocess.run(
        [str(CARELEDGER), *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    if check:
        assert run.returncode == 0, f"{args}: {run.stderr[-4000:]}"
    return run


def _counts(output: str) -> dict[str, int]:
    return {m[1]: int(m[2]) for m in re.finditer(r"^  ([a-z_0-9]+) +(\d+)$", output, re.M)}


COUNT_ROWS = """
from django.apps import apps
print({m._meta.db_table: m._base_manager.count()
       for m in apps.get_models(include_auto_created=True) if m._meta.managed})
"""


def test_a_backup_of_the_demo_restores_into_an_empty_database_whole(
    scratch: Callable[[str], str], tmp_path: Path
) -> None:
    source, target = scratch("backup_src"), scratch("backup_dst")
    _run(source, "migrate", "--no-input", "-v0")
    _run(source, "createcachetable")
    _run(source, "demo", "--patients", "10", "--today", "2026-03-16")
    before = _run(source, "shell", "-c", COUNT_ROWS).stdout.strip().splitlines()[-1]

    backup_file = tmp_path / ("demo.dump" if POSTGRES else "demo.sqlite3")
    backed_up = _run(source, "backup", str(backup_file))
    assert backup_file.is_file()
    assert "audit chain intact" in backed_up.stdout
    again = _run(source, "backup", str(backup_file), check=False)
    assert again.returncode == 2
    assert "never overwrite" in again.stderr

    restored = _run(target, "restore", str(backup_file))
    assert "audit chain intact" in restored.stdout
    counts = _counts(restored.stdout)
    assert counts == _counts(backed_up.stdout)
    assert counts["audit_auditevent"] > 100
    assert counts["patients_patient"] == 10

    assert "audit chain intact" in _run(target, "verify-audit-chain").stdout
    after = _run(target, "shell", "-c", COUNT_ROWS).stdout.strip().splitlines()[-1]
    assert after == before

    # The restored log is still append-only and its chain carries on where it stopped.
    appended = _run(
        target,
        "shell",
        "-c",
        "from django.db import DatabaseError, connection, transaction\n"
        "from careledger.audit.services import record_event\n"
        "record_event('demo.loaded', actor=None)\n"
        "try:\n"
        "    with transaction.atomic(), connection.cursor() as c:\n"
        "        c.execute('UPDATE audit_auditevent SET event = %s', ['x'])\n"
        "except DatabaseError as error:\n"
        "    print('refused:', error)\n",
    )
    assert "append-only" in appended.stdout
    verified = _run(target, "verify-audit-chain")
    assert f"{counts['audit_auditevent'] + 1} events checked" in verified.stdout

    # A database that holds anything is never restored over.
    refused = _run(target, "restore", str(backup_file), check=False)
    assert refused.returncode == 2
    assert "not empty" in refused.stderr


CONCURRENT = r"""
import threading
from django.db import connection, transaction
from careledger.audit.services import record_event

start = threading.Barrier(8)

def write(n):
    start.wait()
    for i in range(15):
        with transaction.atomic():
            record_event("demo.loaded", actor=None, details={"thread": n, "i": i})
    connection.close()

threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
for t in threads: t.start()
for t in threads: t.join()
"""


def test_concurrent_writers_never_chain_to_the_same_row(scratch: Callable[[str], str]) -> None:
    url = scratch("chain_race")
    _run(url, "migrate", "--no-input", "-v0")
    _run(url, "shell", "-c", CONCURRENT)
    verified = _run(url, "verify-audit-chain")
    assert "audit chain intact: 120 events checked" in verified.stdout
