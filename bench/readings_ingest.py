"""Benchmark reading ingestion against a raw-SQL insert of the same rows, in the same run.

Paths measured:
  api   POST /api/v1/readings in batches of 1,000 through the full stack (auth, ninja, checks,
        device lookup, bulk insert, alert evaluation, audit) — 200,000 readings by default;
  bulk  ``careledger import-readings``'s path: parse a CSV file and store it as one batch —
        1,000,000 readings by default;
  raw   ``executemany`` INSERT of the same rows into the same table (unique index included),
        one transaction, no checks: the floor.

Run: ``.venv/bin/python bench/readings_ingest.py [--api N] [--bulk N]``. It uses a temporary
SQLite file; with ``DATABASE_URL=postgres://...`` it runs on a scratch PostgreSQL database
created and dropped on that server. Never part of the tests.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PATIENTS = 200
API_BATCH = 1000
FILE_ROWS = 50_000


def _setup_database() -> tuple[str, Any]:
    """Point Django at a scratch database; return its description and a clean-up function."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        import dj_database_url
        import psycopg

        config = dj_database_url.parse(url)
        server = (
            f"postgres://{config.get('USER') or 'postgres'}@{config.get('HOST') or '127.0.0.1'}"
            f":{config.get('PORT') or 5432}"
        )
        name = f"careledger_bench_{uuid.uuid4().hex[:8]}"
        admin = psycopg.connect(f"{server}/postgres", autocommit=True)
        admin.execute(f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = f"{server}/{name}"

        def drop() -> None:
            from django.db import connections

            connections.close_all()
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()

        return f"PostgreSQL ({name}, dropped afterwards)", drop
    folder = tempfile.mkdtemp(prefix="careledger-bench-")
    os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
    return f"SQLite ({folder}/bench.sqlite3)", lambda: None


def _world() -> dict[str, Any]:
    from django.core.management import call_command
    from django.utils import timezone

    from careledger.accounts.access import PracticeContext
    from careledger.accounts.models import ApiToken, Membership, Practice, User
    from careledger.devices.services import Assignment, assign_device, create_vendor
    from careledger.patients.models import Enrollment, Patient

    call_command("migrate", verbosity=0, interactive=False)
    call_command("createcachetable", verbosity=0)
    now = timezone.now()
    practice = Practice.objects.create(
        name="Bench", slug="bench", timezone="America/Chicago", billing_npi="1234567893"
    )
    user = User.objects.create(username="bench-coordinator")
    member = Membership.objects.create(
        user=user, practice=practice, role="coordinator", credential="RN"
    )
    ctx = PracticeContext(user=user, membership=member, source_ip=None)
    vendor = create_vendor(practice=practice, slug="bench-vendor", name="Bench", now=now)
    raw_vendor = create_vendor(practice=practice, slug="raw-vendor", name="Raw", now=now)
    devices = []
    for n in range(PATIENTS):
        patient = Patient.objects.create(
            practice=practice,
            mrn=f"B{n:05d}",
            given_name="Bench",
            family_name=f"Patient{n}",
            birth_date=date(1950, 1, 1),
            sex="female",
            created_at=now,
        )
        Enrollment.objects.create(
            patient=patient,
            program="RPM",
            status="active",
            billing_practitioner=user,
            started_on=date(2020, 1, 1),
            consent_on=date(2020, 1, 1),
            consent_method="verbal",
            created_at=now,
        )
        devices.append(
            assign_device(
                ctx=ctx,
                patient=patient,
                assignment=Assignment(
                    "RPM", "blood_pressure", vendor.slug, f"BN-{n}", date(2020, 1, 1)
                ),
                now=now,
            )
        )
    key, key_hash = ApiToken.new_key()
    ApiToken.objects.create(
        user=user, key_hash=key_hash, created_at=now, expires_at=now + timedelta(hours=12)
    )
    return {
        "practice": practice,
        "devices": devices,
        "vendor": vendor,
        "raw_vendor": raw_vendor,
        "token": key,
    }


def _items(devices: list[Any], count: int, prefix: str, *, now: datetime) -> list[dict[str, Any]]:
    """Readings spread over the last 300 days, in range (no alerts), one device each in turn."""
    out = []
    for n in range(count):
        device = devices[n % len(devices)]
        at = now - timedelta(minutes=(n * 13) % (300 * 24 * 60) + 5)
        out.append(
            {
                "device_serial": device.serial,
                "vendor_reading_id": f"{prefix}-{n}",
                "measured_at": at.isoformat(),
                "type": "blood_pressure",
                "systolic": 110 + n % 25,
                "diastolic": 70 + n % 15,
                "pulse": 60 + n % 30,
                "unit": "mm[Hg]",
                "source": "automatic",
            }
        )
    return out


def _raw_rows(
    world: dict[str, Any], items: list[dict[str, Any]], now: datetime
) -> list[tuple[Any, ...]]:
    from zoneinfo import ZoneInfo

    from careledger.devices.models import ReadingBatch

    zone = ZoneInfo("America/Chicago")
    by_serial = {d.serial: d for d in world["devices"]}
    batch = ReadingBatch.objects.create(practice=world["practice"], via="import", received_at=now)
    rows = []
    for item in items:
        device = by_serial[item["device_serial"]]
        at = datetime.fromisoformat(item["measured_at"])
        rows.append(
            (
                world["practice"].pk,
                device.patient_id,
                device.pk,
                world["raw_vendor"].pk,
                batch.pk,
                "RPM",
                item["vendor_reading_id"],
                "blood_pressure",
                at,
                at.astimezone(zone).date(),
                now,
                "automatic",
                float(item["systolic"]),
                float(item["diastolic"]),
                float(item["pulse"]),
                "mm[Hg]",
                "mm[Hg]",
                "",
                False,
                "",
            )
        )
    return rows


# Idempotent, like the paths it is the floor for: a vendor id already stored is skipped.
RAW_SQL = (
    "INSERT INTO devices_reading (practice_id, patient_id, device_id, vendor_id, batch_id, "
    "program, vendor_reading_id, type, measured_at, measured_on, received_at, source, systolic, "
    "diastolic, pulse, unit, original_unit, excluded_reason, late, late_reason) VALUES "
    "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
    "ON CONFLICT (vendor_id, vendor_reading_id) DO NOTHING"
)


# PostgreSQL's best: the rows as one binary array per column, 10,000 rows a statement.
RAW_TYPES = (
    *("bigint",) * 5,
    *("text",) * 3,
    "timestamptz",
    "date",
    "timestamptz",
    "text",
    *("float8",) * 3,
    *("text",) * 3,
    "boolean",
    "text",
)
RAW_UNNEST = RAW_SQL.split(" VALUES ")[0] + (
    f" SELECT * FROM unnest({', '.join(f'%b::{kind}[]' for kind in RAW_TYPES)})"
    " ON CONFLICT (vendor_id, vendor_reading_id) DO NOTHING"
)


def _raw_insert(rows: list[tuple[Any, ...]]) -> float:
    """Insert the rows with the fastest plain SQL each database has; return the seconds.

    SQLite: ``executemany`` of one prepared statement. PostgreSQL: ``INSERT ... SELECT FROM
    unnest`` of binary column arrays through a server-side binding cursor (several times faster
    there than ``executemany``, which is why ours uses arrays too).
    """
    from django.db import connection, transaction

    from careledger.lib.pgbinding import binding_cursor

    start = time.perf_counter()
    if connection.vendor == "postgresql":
        with transaction.atomic(), binding_cursor() as cursor:
            for offset in range(0, len(rows), 10_000):
                columns = [list(c) for c in zip(*rows[offset : offset + 10_000], strict=True)]
                cursor.execute(RAW_UNNEST, columns)
        return time.perf_counter() - start
    with transaction.atomic(), connection.cursor() as cursor:
        for offset in range(0, len(rows), 10_000):
            cursor.executemany(RAW_SQL, rows[offset : offset + 10_000])
    return time.perf_counter() - start


def bench_api(world: dict[str, Any], count: int) -> tuple[float, float]:
    from django.test import Client
    from django.utils import timezone

    now = timezone.now()
    items = _items(world["devices"], count, "api", now=now)
    bodies = [
        json.dumps({"readings": items[i : i + API_BATCH]}) for i in range(0, len(items), API_BATCH)
    ]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {world['token']}", HTTP_HOST="localhost")
    # Warm the process first (URLconf, API schema, lazy imports), as a serving worker is: the
    # one-off start-up cost is not ingestion throughput. An empty batch stores nothing.
    warm = client.post("/api/v1/readings", data='{"readings": []}', content_type="application/json")
    assert warm.status_code == 200, warm.content[:300]
    start = time.perf_counter()
    stored = 0
    for body in bodies:
        response = client.post("/api/v1/readings", data=body, content_type="application/json")
        assert response.status_code == 200, response.content[:300]
        stored += response.json()["stored"]
    ours = time.perf_counter() - start
    assert stored == count, stored
    raw = _raw_insert(
        _raw_rows(
            world, [{**i, "vendor_reading_id": f"raw-{i['vendor_reading_id']}"} for i in items], now
        )
    )
    return ours, raw


def bench_bulk(world: dict[str, Any], count: int) -> tuple[float, float]:
    from django.utils import timezone

    from careledger.devices.importer import parse_file
    from careledger.devices.management.commands.import_readings import import_parsed

    now = timezone.now()
    items = _items(world["devices"], count, "bulk", now=now)
    columns = [
        "device_serial",
        "vendor_reading_id",
        "measured_at",
        "type",
        "systolic",
        "diastolic",
        "pulse",
        "unit",
        "source",
    ]
    # import-readings takes files of at most 10 MB: FILE_ROWS readings (about 5 MB) a file.
    files = []
    for offset in range(0, len(items), FILE_ROWS):
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns)
        writer.writeheader()
        writer.writerows(items[offset : offset + FILE_ROWS])
        files.append(buffer.getvalue().encode())
    start = time.perf_counter()
    stored = 0
    for n, content in enumerate(files):
        parsed = parse_file(content, name=f"bench-{n}.csv")
        result = import_parsed(
            practice=world["practice"],
            vendor=None,
            parsed=parsed,
            now=now,
            dry_run=False,
            source_name=f"bench-{n}.csv",
        )
        stored += result.stored
    ours = time.perf_counter() - start
    assert stored == count, stored
    raw = _raw_insert(
        _raw_rows(
            world, [{**i, "vendor_reading_id": f"raw-{i['vendor_reading_id']}"} for i in items], now
        )
    )
    return ours, raw


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api", type=int, default=200_000, help="readings through the API")
    parser.add_argument("--bulk", type=int, default=1_000_000, help="readings through import")
    parser.add_argument("--json", action="store_true", help="end with one JSON line of figures")
    args = parser.parse_args()
    # Production-like: no per-query debug logging (DEBUG is on by default outside production).
    os.environ.setdefault("DEBUG", "0")
    where, drop = _setup_database()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "careledger.settings")
    import django

    django.setup()
    try:
        world = _world()
        print(f"database: {where}; {PATIENTS} patients, one cuff each", flush=True)
        figures: dict[str, float] = {}
        for name, count, run in (("api", args.api, bench_api), ("bulk", args.bulk, bench_bulk)):
            if count <= 0:
                continue
            ours, raw = run(world, count)
            figures[f"{name}_per_s"] = count / ours
            figures[f"{name}_raw_per_s"] = count / raw
            figures[f"{name}_ratio"] = ours / raw
            print(
                f"{name:4} {count:>9,} readings: {ours:7.1f} s = {count / ours:9,.0f}/s | raw SQL "
                f"{raw:6.1f} s = {count / raw:9,.0f}/s | ratio {ours / raw:4.1f}x",
                flush=True,
            )
        if args.json:
            print(json.dumps({k: round(v, 3) for k, v in figures.items()}), flush=True)
    finally:
        drop()


if __name__ == "__main__":
    main()
