"""Benchmark a coordinator's panel (the dashboard's rows) against a raw-SQL baseline, same run.

Measured, each the median of ``--runs`` runs over one coordinator's panel:
  rows   ``panel_rows()``: the one facts builder (five queries) and the engine, per patient-program;
  page   GET /worklists/dashboard/ through the full stack (session, role, rows, template, audit);
  raw    one GROUP BY over the time entries: countable minutes per patient and program for the
         month (month bounds in the practice's zone) — the floor, deciding nothing.

The synthetic practice: ``--patients`` patients in the database (default 10,000; ``--large`` for
100,000), ``--panel`` of them (default 500) in the measured coordinator's panel, each enrolled
in RPM and CCM with ``--entries`` countable entries per program in April 2026.

Run: ``.venv/bin/python bench/panel_dashboard.py [--large]``. A temporary SQLite file by default;
with ``DATABASE_URL=postgres://...`` a scratch PostgreSQL database created and dropped on that
server, or with ``--keep NAME`` a named one built once and kept, so later runs reuse it (building
100,000 patients takes minutes). Never part of the tests. Each measure reports its p50 and p95;
the last line of output is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BATCH = 5000
MONTH = "2026-04"
AS_OF = date(2026, 4, 26)


def _setup_database(keep: str | None) -> tuple[str, Callable[[], None]]:
    """Point Django at a scratch database (or the kept one); return its description and a
    clean-up function."""
    url = os.environ.get("DATABASE_URL", "")
    if keep and not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("--keep needs DATABASE_URL=postgres://...")
    if url.startswith(("postgres://", "postgresql://")):
        import dj_database_url
        import psycopg

        config = dj_database_url.parse(url)
        server = (
            f"postgres://{config.get('USER') or 'postgres'}@{config.get('HOST') or '127.0.0.1'}"
            f":{config.get('PORT') or 5432}"
        )
        name = keep or f"careledger_bench_{uuid.uuid4().hex[:8]}"
        admin = psycopg.connect(f"{server}/postgres", autocommit=True)
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = f"{server}/{name}"
        if keep:
            admin.close()
            return f"PostgreSQL ({name}, kept)", lambda: None

        def drop() -> None:
            from django.db import connections

            connections.close_all()
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()

        return f"PostgreSQL ({name}, dropped afterwards)", drop
    folder = tempfile.mkdtemp(prefix="careledger-bench-")
    os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
    return f"SQLite ({folder}/bench.sqlite3)", lambda: None


def _build(patients: int, panel: int, entries: int) -> dict[str, Any]:
    """Create the practice, its people and ``patients`` patients with April's time, in bulk."""
    from django.core.management import call_command
    from django.db import transaction

    from careledger.accounts.models import Membership, Practice, User
    from careledger.patients.models import Condition, Enrollment, Patient, Visit
    from careledger.timelog.models import TimeEntry

    call_command("migrate", verbosity=0, interactive=False)
    call_command("createcachetable", verbosity=0)
    built = Practice.objects.filter(slug="bench").first()
    if built is not None:  # a kept database (--keep): built by an earlier run
        if Patient.objects.filter(practice=built).count() != patients:
            raise SystemExit("the kept database holds another size; choose another --keep name")
        return {"practice": built, "coordinator": User.objects.get(username="bench-coordinator")}
    now = datetime(2026, 4, 26, 17, 0, tzinfo=UTC)
    practice = Practice.objects.create(
        name="Bench", slug="bench", timezone="America/Chicago", billing_npi="1234567893"
    )

    def member(username: str, role: str, credential: str) -> User:
        user = User.objects.create(username=username, first_name="Bench", last_name=username)
        Membership.objects.create(user=user, practice=practice, role=role, credential=credential)
        return user

    coordinator = member("bench-coordinator", "coordinator", "RN")
    others = [member(f"bench-coordinator-{n}", "coordinator", "RN") for n in range(9)]
    doctor = member("bench-practitioner", "practitioner", "MD")
    with transaction.atomic():
        for start in range(0, patients, BATCH):
            chunk = range(start, min(start + BATCH, patients))
            created = Patient.objects.bulk_create(
                Patient(
                    practice=practice,
                    mrn=f"B{n:06d}",
                    given_name="Bench",
                    family_name=f"Patient{n:06d}",
                    birth_date=date(1950, 1, 1),
                    sex="female",
                    coordinator=coordinator if n < panel else others[n % len(others)],
                    created_at=now,
                )
                for n in chunk
            )
            if created and created[0].pk is None:  # backends that do not return ids
                created = list(
                    Patient.objects.filter(practice=practice, mrn__in=[p.mrn for p in created])
                )
            enrollments = Enrollment.objects.bulk_create(
                Enrollment(
                    patient=p,
                    program=program,
                    status="active",
                    billing_practitioner=doctor,
                    started_on=date(2025, 6, 1),
                    consent_on=date(2025, 6, 1),
                    consent_method="verbal",
                    created_at=now,
                )
                for p in created
                for program in ("RPM", "CCM")
            )
            Visit.objects.bulk_create(
                Visit(
                    patient=p,
                    practitioner=doctor,
                    visited_on=date(2026, 1, 5),
                    kind="em",
                    em_level=3,
                    created_at=now,
                )
                for p in created
            )
            Condition.objects.bulk_create(
                Condition(patient=p, icd10_code=code, description=code, created_at=now)
                for p in created
                for code in ("I10", "E11.9")
            )
            if created and enrollments[0].pk is None:
                enrollments = list(Enrollment.objects.filter(patient__in=created))
            rows = []
            for k, enrollment in enumerate(enrollments):
                for e in range(entries):
                    # A different staff clock per entry: days 1..25, a few minutes each.
                    start_at = datetime(2026, 4, 1 + (k + 7 * e) % 25, 14, 0, tzinfo=UTC)
                    start_at += timedelta(minutes=11 * e)
                    minutes = 2 + (k * 7 + e * 3) % 9
                    rows.append(
                        TimeEntry(
                            practice=practice,
                            patient_id=enrollment.patient_id,
                            enrollment=enrollment,
                            program=enrollment.program,
                            staff=coordinator,
                            credential="RN",
                            rule_class="clinical_staff",
                            started_at=start_at,
                            ended_at=start_at + timedelta(minutes=minutes),
                            seconds=minutes * 60,
                            kind="interactive_call",
                            outcome="reached",
                            source="manual",
                            interactive=True,
                            countable=True,
                            created_by=coordinator,
                            created_at=now,
                            updated_at=now,
                        )
                    )
            TimeEntry.objects.bulk_create(rows, batch_size=BATCH)
    if os.environ["DATABASE_URL"].startswith("postgres"):
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return {"practice": practice, "coordinator": coordinator}


RAW_SQL = """
SELECT e.patient_id, e.program, SUM(e.seconds) / 60
FROM {entry} e JOIN {patient} p ON p.id = e.patient_id
WHERE p.practice_id = %s AND p.coordinator_id = %s
  AND e.voided_at IS NULL AND e.countable
  AND e.started_at < %s AND e.ended_at > %s
GROUP BY e.patient_id, e.program
"""


def _timed_ms(run: Callable[[], object], runs: int) -> tuple[float, float, float, object]:
    """Return the p50 and p95 (nearest rank) of ``runs`` runs and the p50 of this process's CPU
    time, in milliseconds (on a shared host the CPU time shows the work; the wall time, the
    wait), and a result."""
    run()  # warm caches (templates, statements); not counted
    times, cpu, result = [], [], None
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = run()
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    p95 = sorted(times)[math.ceil(0.95 * len(times)) - 1]
    return statistics.median(times), p95, statistics.median(cpu), result


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000, help="patients in the database")
    parser.add_argument("--large", action="store_true", help="100,000 patients in the database")
    parser.add_argument("--panel", type=int, default=500, help="patients in the measured panel")
    parser.add_argument("--entries", type=int, default=3, help="entries per patient and program")
    parser.add_argument("--runs", type=int, default=7, help="runs per measurement (p50, p95)")
    parser.add_argument(
        "--keep",
        metavar="NAME",
        help="PostgreSQL: build the named database once, keep and reuse it",
    )
    args = parser.parse_args()
    patients = 100_000 if args.large else args.patients
    os.environ.setdefault("DEBUG", "0")  # production-like: no per-query debug logging
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    where, drop = _setup_database(args.keep)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "careledger.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from careledger.billing.months import parse_month
    from careledger.patients.models import Patient
    from careledger.timelog.models import TimeEntry
    from careledger.worklists.selectors import panel_rows

    try:
        built = time.perf_counter()
        world = _build(patients, min(args.panel, patients), args.entries)
        built_s = time.perf_counter() - built
        practice, coordinator = world["practice"], world["coordinator"]
        month = parse_month(MONTH, practice.timezone)
        entries = TimeEntry.objects.count()
        print(
            f"database: {where}; {patients:,} patients, {entries:,} entries "
            f"(built in {built_s:.1f} s); panel of {args.panel}",
            flush=True,
        )

        def rows() -> list[Any]:
            return panel_rows(
                practice=practice, month=month, as_of=AS_OF, coordinator_id=coordinator.pk
            )

        sql = RAW_SQL.format(entry=TimeEntry._meta.db_table, patient=Patient._meta.db_table)

        def raw() -> list[Any]:
            with connection.cursor() as cursor:
                cursor.execute(sql, [practice.pk, coordinator.pk, month.ends_at, month.starts_at])
                return cursor.fetchall()

        client = Client()
        client.force_login(coordinator)
        url = f"/worklists/dashboard/?month={MONTH}&as_of={AS_OF.isoformat()}"

        def page() -> int:
            response = client.get(url)
            assert response.status_code == 200, response.status_code
            return len(response.content)

        rows_ms, rows_p95, rows_cpu, found = _timed_ms(rows, args.runs)
        raw_ms, raw_p95, raw_cpu, aggregate = _timed_ms(raw, args.runs)
        page_ms, page_p95, page_cpu, _ = _timed_ms(page, args.runs)
        with CaptureQueriesContext(connection) as captured:
            rows()
        found_rows = list(found)  # type: ignore[call-overload]
        same = {(r.patient_id, r.program): r.minutes for r in found_rows} == {
            (pid, program): int(minutes)
            for pid, program, minutes in aggregate  # type: ignore[attr-defined]
        }
        print(f"{'measure':<34}{'p50 ms':>10}{'p95 ms':>10}{'CPU p50':>10}")
        for label, p50, p95, cpu in (
            ("panel_rows() (facts + engine)", rows_ms, rows_p95, rows_cpu),
            ("dashboard page (full stack)", page_ms, page_p95, page_cpu),
            ("raw SQL aggregate (floor)", raw_ms, raw_p95, raw_cpu),
        ):
            print(f"{label:<34}{p50:>10.1f}{p95:>10.1f}{cpu:>10.1f}")
        print(
            f"rows: {len(found_rows):,}; queries for panel_rows: {len(captured)}; "
            f"minutes agree with raw SQL: {same}; ratio rows/raw {rows_ms / raw_ms:.1f}x"
        )
        print(
            json.dumps(
                {
                    "database": "postgresql" if "PostgreSQL" in where else "sqlite",
                    "patients": patients,
                    "panel": args.panel,
                    "entries": entries,
                    "rows": len(found_rows),
                    "runs": args.runs,
                    "panel_rows_ms": round(rows_ms, 1),
                    "panel_rows_p95_ms": round(rows_p95, 1),
                    "page_ms": round(page_ms, 1),
                    "page_p95_ms": round(page_p95, 1),
                    "panel_rows_cpu_ms": round(rows_cpu, 1),
                    "page_cpu_ms": round(page_cpu, 1),
                    "raw_sql_ms": round(raw_ms, 2),
                    "raw_sql_p95_ms": round(raw_p95, 2),
                    "ratio": round(rows_ms / raw_ms, 1),
                    "page_ratio": round(page_ms / raw_ms, 1),
                    "queries": len(captured),
                    "minutes_agree": same,
                }
            ),
            flush=True,
        )
    finally:
        drop()


if __name__ == "__main__":
    main()
