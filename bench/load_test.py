"""Load test: 50 coordinators and a device vendor against gunicorn on loopback, on PostgreSQL.

What it does, in order:
  1. makes (or reuses) its own PostgreSQL database, ``careledger_load`` by default, migrates it
     and loads ``careledger demo --patients 2000 --practices 1`` once (the bulk loader: one
     practice with enrollments, two months of entries and readings; ``--rebuild`` starts over);
  2. adds 50 coordinators to that practice through the accounts service
     (``add_member``; reused on later runs) and notes where each one's contacts may start so
     they never overlap earlier runs' entries;
  3. starts gunicorn (sync workers) on 127.0.0.1, gets each coordinator a bearer token from
     POST /api/v1/auth/token, and runs ``bench/load/locustfile.py`` headless for ``--run-time``;
  4. prints requests/s, p50/p95/p99 and errors per endpoint and overall; the last line is one
     JSON object with the figures. Exit status 1 if any request failed.

Run (needs the ``load`` extra: ``pip install -e '.[load]'``):

    .venv/bin/python bench/load_test.py [--run-time 60s] [--workers 4] [--database NAME]

PostgreSQL is found through ``--server`` (default ``postgres://postgres@127.0.0.1:5432``).
Never part of the tests.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
LOCUSTFILE = ROOT / "bench" / "load" / "locustfile.py"
COORDINATORS = 50
USERNAME = "load-coordinator-{:02d}"
# A bench-only password for bench-only users in a bench-only database.
PASSWORD = "load-test-coordinator"


def _run(*args: str, env: dict[str, str]) -> None:
    print("$", " ".join(args), flush=True)
    subprocess.run(args, check=True, env=env, cwd=ROOT)


def ensure_database(server: str, name: str, *, rebuild: bool) -> None:
    """Create the load-test database on ``server`` (dropping it first with ``rebuild``)."""
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists and rebuild:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            admin.execute(f'CREATE DATABASE "{name}"')


def load_data(env: dict[str, str], patients: int) -> None:
    """Migrate, create the cache table (throttles) and load the demo once."""
    careledger = str(BIN / "careledger")
    _run(careledger, "migrate", "--no-input", "-v", "0", env=env)
    _run(careledger, "createcachetable", env=env)
    import django

    django.setup()
    from careledger.patients.models import Patient

    if not Patient.objects.exists():
        # The bulk loader: one synthetic practice with the patients, their enrollments, two
        # months of time entries and readings (the row-by-row demo would take an hour here).
        _run(careledger, "demo", "--patients", str(patients), "--practices", "1", env=env)


def prepare_fixture(now: datetime) -> dict[str, Any]:
    """Add the coordinators (once) and gather what the scenario needs, without tokens yet."""
    from django.db.models import Count, Max

    from careledger.accounts.models import Membership, Practice, User
    from careledger.accounts.roles import Credential, Role
    from careledger.accounts.services import add_member
    from careledger.devices.models import Device, DeviceType, Vendor
    from careledger.lib.localtime import local_today
    from careledger.patients.models import Enrollment
    from careledger.timelog.models import TimeEntry

    practice = Practice.objects.annotate(n=Count("patients")).order_by("-n", "pk").first()
    if practice is None:
        raise SystemExit("The database holds no practice: run with --rebuild.")
    # The demo's own coordinators hold the patients; each load coordinator reads one's panel.
    panels = list(
        Membership.objects.filter(practice=practice, role=Role.COORDINATOR)
        .exclude(user__username__startswith="load-coordinator-")
        .order_by("user_id")
        .values_list("user_id", flat=True)
    )
    coordinators = []
    for n in range(1, COORDINATORS + 1):
        user, created = User.objects.get_or_create(
            username=USERNAME.format(n), defaults={"first_name": "Load", "last_name": f"{n:02d}"}
        )
        if created:
            user.set_password(PASSWORD)
            user.save()
        if not Membership.objects.filter(practice=practice, user=user).exists():
            add_member(
                actor=None,
                practice=practice,
                user=user,
                role=Role.COORDINATOR,
                credential=Credential.RN,
                now=now,
            )
        # Contacts start a day back, after anything this coordinator logged in an earlier run.
        latest = TimeEntry.objects.filter(staff=user).aggregate(last=Max("ended_at"))["last"]
        day_ago = now - timedelta(hours=23)
        start = (max(latest, day_ago) if latest else day_ago) + timedelta(minutes=1)
        coordinators.append(
            {
                "username": user.username,
                "start_at": start.isoformat(),
                "panel": panels[n % len(panels)],
            }
        )

    today = local_today(practice, now)
    enrollments = [
        {"patient_id": patient_id, "program": program}
        for patient_id, program in Enrollment.objects.filter(
            patient__practice=practice,
            status=Enrollment.Status.ACTIVE,
            started_on__lte=today - timedelta(days=2),
            ended_on__isnull=True,
            program__in=("CCM", "PCM", "RPM"),
        )
        .order_by("pk")
        .values_list("patient_id", "program")[:600]
    ]
    vendor = Vendor.objects.filter(practice=practice).order_by("pk").first()
    if vendor is None:
        raise SystemExit(f"{practice.slug} has no device vendor: run with --rebuild.")
    serials = list(
        Device.objects.filter(
            vendor=vendor, type=DeviceType.BLOOD_PRESSURE, returned_on__isnull=True
        ).values_list("serial", flat=True)[:200]
    )
    return {
        "month": today.strftime("%Y-%m"),
        "coordinators": coordinators,
        "enrollments": enrollments,
        "vendor": {"slug": vendor.slug, "secret": vendor.webhook_secret, "serials": serials},
    }


def start_gunicorn(env: dict[str, str], port: int, workers: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "careledger.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            "sync",
            "--timeout",
            "60",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        # The API serves no static files; whitenoise's "no STATIC_ROOT" warning is noise here.
        env={**env, "PYTHONWARNINGS": "ignore::UserWarning"},
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=30)
            return server
        except OSError:  # not listening yet, or still loading
            time.sleep(0.5)
    server.terminate()
    server.wait(timeout=30)
    raise SystemExit("gunicorn did not answer within 120 s")


def issue_tokens(base: str, fixture: dict[str, Any]) -> None:
    """Sign each coordinator in through the API, as a client would."""
    for coordinator in fixture["coordinators"]:
        body = json.dumps({"username": coordinator["username"], "password": PASSWORD}).encode()
        request = urllib.request.Request(
            f"{base}/api/v1/auth/token",
            data=body,
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            coordinator["token"] = json.loads(response.read())["token"]


def run_locust(base: str, fixture_path: Path, run_time: str, csv_prefix: Path) -> None:
    users = COORDINATORS + 1
    env = {**os.environ, "CARELEDGER_LOAD_FIXTURE": str(fixture_path)}
    _run(
        str(BIN / "locust"),
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        "10",
        "--run-time",
        run_time,
        "--host",
        base,
        "--csv",
        str(csv_prefix),
        "--only-summary",
        "--stop-timeout",
        "10",
        "--exit-code-on-error",
        "0",
        env=env,
    )


def report(csv_prefix: Path, workers: int, run_time: str, patients: int) -> dict[str, Any]:
    rows = list(csv.DictReader(Path(f"{csv_prefix}_stats.csv").read_text().splitlines()))
    heads = ("requests", "errors", "req/s", "p50", "p95", "p99")
    print(f"\n{'endpoint':44} " + " ".join(f"{h:>8}" for h in heads))
    endpoints = {}
    for row in rows:
        name = row["Name"] if row["Type"] else "all"
        figures = {
            "requests": int(row["Request Count"]),
            "errors": int(row["Failure Count"]),
            "requests_per_s": round(float(row["Requests/s"]), 1),
            "p50_ms": int(float(row["50%"] or 0)),
            "p95_ms": int(float(row["95%"] or 0)),
            "p99_ms": int(float(row["99%"] or 0)),
        }
        endpoints[name] = figures
        print(f"{name:44} " + " ".join(f"{v:>8}" for v in figures.values()))
    failures = Path(f"{csv_prefix}_failures.csv")
    if failures.exists():
        for row in list(csv.DictReader(failures.read_text().splitlines()))[:10]:
            print(f"error: {row['Method']} {row['Name']}: {row['Error']} x{row['Occurrences']}")
    summary = {
        "run_time": run_time,
        "gunicorn_workers": workers,
        "demo_patients": patients,
        "users": COORDINATORS + 1,
        **endpoints["all"],
        "endpoints": {k: v for k, v in endpoints.items() if k != "all"},
    }
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="careledger_load")
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--rebuild", action="store_true", help="drop and reload the database")
    parser.add_argument("--run-time", default="60s")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()

    ensure_database(args.server, args.database, rebuild=args.rebuild)
    env = {
        **os.environ,
        "DATABASE_URL": f"{args.server}/{args.database}",
        "DJANGO_SETTINGS_MODULE": "careledger.settings",
        "DEBUG": "0",
    }
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    load_data(env, args.patients)
    fixture = prepare_fixture(datetime.now(UTC))

    server = start_gunicorn(env, args.port, args.workers)
    try:
        base = f"http://127.0.0.1:{args.port}"
        issue_tokens(base, fixture)
        with tempfile.TemporaryDirectory(prefix="careledger-load-") as scratch:
            fixture_path = Path(scratch) / "fixture.json"
            fixture_path.write_text(json.dumps(fixture))
            csv_prefix = Path(scratch) / "locust"
            run_locust(base, fixture_path, args.run_time, csv_prefix)
            summary = report(csv_prefix, args.workers, args.run_time, args.patients)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    print(json.dumps(summary))
    sys.exit(1 if summary["errors"] else 0)


if __name__ == "__main__":
    main()
