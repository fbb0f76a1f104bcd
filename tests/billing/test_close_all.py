"""``close-month --all-practices [--workers N] [--dry-run]``: a health system's month end."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import dj_database_url
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from careledger.billing.models import BillingLine, BillingMonth

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
CARELEDGER = Path(sys.executable).parent / "careledger"


def _demo() -> None:
    call_command(
        "demo",
        "--patients",
        "40",
        "--practices",
        "3",
        "--today",
        "2026-05-10",
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )


def _close(*args: str) -> list[dict[str, Any]]:
    out = io.StringIO()
    call_command(
        "close_month", "2026-04", "--all-practices", *args, stdout=out, stderr=io.StringIO()
    )
    found: list[dict[str, Any]] = json.loads(out.getvalue())
    return found


def _outcome(summaries: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (s["practice"], s["patients"], s["lines"], s["facts_sha256"], s["by_status"])
        for s in summaries
    ]


def test_a_dry_run_stores_nothing_and_says_what_the_close_then_stores() -> None:
    _demo()
    events_before = BillingMonth.objects.count()

    would = _close("--dry-run")

    assert [s["practice"] for s in would] == ["hs-001", "hs-002", "hs-003"]
    assert all(s["lines"] > 0 for s in would)
    assert BillingMonth.objects.count() == events_before == 0
    assert not BillingLine.objects.exists()

    closed = _close()

    assert _outcome(closed) == _outcome(would)
    assert BillingMonth.objects.count() == 3
    assert BillingLine.objects.count() == sum(s["lines"] for s in closed)


def test_an_approved_practice_is_skipped_and_the_others_close() -> None:
    _demo()
    _close()
    BillingMonth.objects.filter(practice__slug="hs-002").update(status=BillingMonth.Status.APPROVED)

    again = _close()

    assert [s.get("skipped", "") != "" for s in again] == [False, True, False]
    assert [s.get("close_count") for s in again] == [2, None, 2]


def test_one_practice_that_is_approved_is_an_error() -> None:
    _demo()
    _close()
    BillingMonth.objects.filter(practice__slug="hs-001").update(status=BillingMonth.Status.APPROVED)

    with pytest.raises(CommandError, match="approved") as raised:
        call_command("close_month", "2026-04", "--practice", "hs-001", stderr=io.StringIO())
    assert raised.value.returncode == 2


def test_two_workers_store_what_one_stores_and_sqlite_refuses_them() -> None:
    """PostgreSQL: forked workers need committed rows, so a scratch database in a subprocess.

    SQLite takes one writer at a time: more than one worker is refused, as is none.
    """
    for workers, message in (("2", "one writer"), ("0", "1 or more")):
        if workers == "2" and connection.vendor == "postgresql":
            continue
        with pytest.raises(CommandError, match=message) as raised:
            call_command(
                "close_month",
                "2026-04",
                "--all-practices",
                "--workers",
                workers,
                stderr=io.StringIO(),
            )
        assert raised.value.returncode == 2
    if connection.vendor != "postgresql":
        return
    import psycopg

    url = os.environ["DATABASE_URL"]

    config = dj_database_url.parse(url)
    server = (
        f"postgres://{config.get('USER') or 'postgres'}@{config.get('HOST') or '127.0.0.1'}"
        f":{config.get('PORT') or 5432}"
    )
    name = f"careledger_closeall_{uuid.uuid4().hex[:10]}"
    admin = psycopg.connect(f"{server}/postgres", autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, "DATABASE_URL": f"{server}/{name}", "PYTHONDONTWRITEBYTECODE": "1"}

    def run(*args: str) -> str:
        done = subprocess.run(
            [str(CARELEDGER), *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    try:
        run("migrate", "--no-input", "-v0")
        run(
            "demo", "--patients", "60", "--practices", "3", "--today", date(2026, 5, 10).isoformat()
        )
        one = json.loads(run("close_month", "2026-04", "--all-practices", "--dry-run"))
        two = json.loads(run("close_month", "2026-04", "--all-practices", "--workers", "2"))
        counted = run(
            "shell",
            "-c",
            "from careledger.billing.models import BillingMonth as B;"
            "print(sorted(B.objects.values_list('practice__slug', 'facts_sha256', 'close_count')))",
        )
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()

    assert _outcome(two) == _outcome(one)
    assert counted.strip().splitlines()[-1] == str(
        sorted((s["practice"], s["facts_sha256"], 1) for s in one)
    )
