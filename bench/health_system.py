"""Benchmark a synthetic health system on SQLite and PostgreSQL, each figure beside raw SQL.

``make bench`` (100,000 patients over 50 practices) and ``make bench-quick`` (10,000 over 5) run
this. For each database it loads (or reuses) ``careledger demo --patients N --practices K``,
then measures, each in its own fresh process:

  close      the month close of every practice (facts, engine, stored lines) in one
             transaction that is rolled back afterwards (the data set stays reusable): seconds,
             statements (a connection ``execute_wrapper``), peak RSS (``ru_maxrss``);
  raw        the hand-written aggregate of the same month: countable minutes per
             patient-program and automatic reading days per patient-program (best of 3);
  dashboard  one coordinator's dashboard and pre-close worklist pages through the full stack
             (p50/p95) beside the raw aggregate of that panel;
  engine     ``evaluate_month`` alone over the built facts of the first practice;
  ingest     ``bench/readings_ingest.py``: the API batch path and the bulk import path beside a
             raw ``executemany`` INSERT of the same rows.

The data set is cached, keyed by seed, sizes and a hash of the migrations and the generator:
a SQLite file under ``bench/.cache/`` and a PostgreSQL database named by that key. The table
goes to stdout and the last stdout line is one JSON object, every value a number.

Run: ``.venv/bin/python bench/health_system.py [--quick] [--patients N --practices K]``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(__file__).resolve().parent / ".cache"
TODAY = date(2026, 5, 10)  # the data set's "today": it holds March and April 2026
MONTH = "2026-04"
AS_OF = date(2026, 4, 26)
PG_SERVER = "postgres://postgres@127.0.0.1:5432"
SIZES = {
    # Ingestion runs in its own scratch database: its rate does not depend on the data set.
    "full": {"patients": 100_000, "practices": 50, "api": 50_000, "bulk": 250_000, "runs": 25},
    "quick": {"patients": 10_000, "practices": 5, "api": 10_000, "bulk": 50_000, "runs": 12},
}
KEYS = (
    "close_seconds_sqlite",
    "close_seconds_postgres",
    "close_ratio_sqlite",
    "close_ratio_postgres",
    "close_peak_rss_mib",
    "close_queries",
    "ingest_api_readings_per_s",
    "ingest_bulk_ratio",
    "dashboard_p95_ms",
    "dashboard_ratio",
    "engine_patient_months_per_s",
    "patients",
)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def dataset_key(*, patients: int, practices: int, seed: int) -> str:
    """Name the data set by what decides its rows: sizes, seed, day, migrations, generator."""
    digest = hashlib.sha256(f"{patients}:{practices}:{seed}:{TODAY}".encode())
    sources = sorted(ROOT.glob("careledger/*/migrations/*.py"))
    sources += [ROOT / "careledger/demo/scale.py", ROOT / "careledger/demo/rows.py"]
    for path in sources:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _pg_admin() -> Any:
    import psycopg

    return psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True)


def _run(args: list[str], env: dict[str, str], *, capture: bool = True) -> str:
    """Run a child process; on failure show its output and stop."""
    done = subprocess.run(
        args,
        env={**os.environ, **env},
        cwd=ROOT,
        stdout=subprocess.PIPE if capture else None,
        stderr=None,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(
            f"bench: {' '.join(args[:3])} failed (exit {done.returncode})\n{done.stdout or ''}"
        )
    return done.stdout or ""


def ensure_dataset(database: str, *, patients: int, practices: int, seed: int) -> str:
    """Return the DATABASE_URL of the cached data set, generating it when missing."""
    key = dataset_key(patients=patients, practices=practices, seed=seed)
    CACHE.mkdir(exist_ok=True)
    marker = CACHE / f"hs-{key}.{database}.ok"
    if database == "sqlite":
        path = CACHE / f"hs-{key}.sqlite3"
        url = f"sqlite:///{path}"
        if marker.exists() and path.exists():
            log(f"sqlite: reusing cached data set {path.name}")
            return url
        for stale in CACHE.glob(f"hs-{key}.sqlite3*"):
            stale.unlink()  # an interrupted load of this scratch data set
    else:
        name = f"careledger_hs_{key}"
        url = f"{PG_SERVER}/{name}"
        with _pg_admin() as admin:
            exists = admin.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [name]
            ).fetchone()
            if marker.exists() and exists:
                log(f"postgres: reusing cached data set {name}")
                return url
            if exists:
                admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')  # an interrupted load
            admin.execute(f'CREATE DATABASE "{name}"')
    marker.unlink(missing_ok=True)
    _drop_stale(database, size=f"{patients}:{practices}:{seed}", key=key)
    env = {"DATABASE_URL": url, "DEBUG": "0"}
    started = time.perf_counter()
    log(f"{database}: migrating and generating {patients:,} patients over {practices} practices")
    _run([sys.executable, "-m", "careledger", "migrate", "--no-input", "-v0"], env)
    _run(
        [
            sys.executable,
            "-m",
            "careledger",
            "demo",
            "--patients",
            str(patients),
            "--practices",
            str(practices),
            "--seed",
            str(seed),
            "--today",
            TODAY.isoformat(),
        ],
        env,
        capture=False,
    )
    _run([sys.executable, __file__, "analyze"], env)
    log(f"{database}: data set ready in {time.perf_counter() - started:.0f} s")
    marker.write_text(json.dumps({"url": url, "size": f"{patients}:{practices}:{seed}"}))
    return url


def _drop_stale(database: str, *, size: str, key: str) -> None:
    """Remove this size's data sets made for older migrations or generators: scratch data."""
    for marker in CACHE.glob(f"hs-*.{database}.ok"):
        try:
            found = json.loads(marker.read_text())
        except ValueError:
            continue
        old = marker.name.split(".")[0].removeprefix("hs-")
        if found.get("size") != size or old == key:
            continue
        log(f"{database}: removing the outdated data set {old}")
        if database == "sqlite":
            for path in CACHE.glob(f"hs-{old}.sqlite3*"):
                path.unlink()
        else:
            with _pg_admin() as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "careledger_hs_{old}" WITH (FORCE)')
        marker.unlink()


# ---- child processes (Django set up from DATABASE_URL) ----------------------------------------


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "careledger.settings")
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def child_analyze() -> None:
    """Refresh the planner's statistics (and PostgreSQL's visibility map) after the load."""
    _django()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def child_close(workers: int | None = None) -> dict[str, Any]:
    """Close the month for every practice as ``close-month --all-practices --dry-run`` does.

    Each practice closes in its own transaction, rolled back (the cached data set stays as it
    was); on PostgreSQL in one worker process per CPU, on SQLite (one writer) in this one.
    """
    _django()
    from django.db import connection

    from careledger.accounts.models import Practice
    from careledger.billing.close_all import close_practices

    now = datetime(2026, 5, 10, 17, 0, tzinfo=UTC)
    slugs = list(
        Practice.objects.filter(slug__startswith="hs-")
        .order_by("slug")
        .values_list("slug", flat=True)
    )
    if workers is None:
        workers = (os.cpu_count() or 1) if connection.vendor == "postgresql" else 1
    # Warm, like the raw aggregate it is compared with (measured after a first run): read the
    # month's entries and readings once, so that neither side pays for reading the data set
    # from disk (this machine's memory reclaim empties the page cache between runs; cold, the
    # 100,000-patient SQLite close measured anywhere from 43 to 105 s).
    raw_aggregate(list(Practice.objects.filter(slug__startswith="hs-")))()
    started = time.perf_counter()
    closed = close_practices(slugs=slugs, month_label=MONTH, now=now, workers=workers, dry_run=True)
    seconds = time.perf_counter() - started
    peaks: dict[int, float] = {}
    for one in closed:
        peaks[one.worker] = max(peaks.get(one.worker, 0.0), one.peak_rss_mib)
    here = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    summaries = [one.summary for one in closed if one.summary is not None]
    return {
        "seconds": seconds,
        "workers": workers,
        "queries_total": sum(one.statements for one in closed),
        "queries_per_practice": max(one.statements for one in closed),
        "queries_per_practice_min": min(one.statements for one in closed),
        # Every process the close ran in, together (the workers' peaks and this one's).
        "peak_rss_mib": sum(peaks.values()) + (here if workers > 1 else 0.0),
        "peak_rss_mib_per_process": max([*peaks.values(), here]),
        "lines": sum(s["lines"] for s in summaries),
        "patients": sum(s["patients"] for s in summaries),
    }


RAW_MINUTES = """
SELECT e.patient_id, e.program, SUM(e.seconds) / 60
FROM timelog_timeentry e
WHERE e.practice_id IN ({practices}) AND e.started_at >= %s AND e.started_at < %s
  AND e.voided_at IS NULL AND e.countable
GROUP BY e.patient_id, e.program
"""
RAW_READING_DAYS = """
SELECT r.patient_id, r.program, COUNT(DISTINCT r.measured_on)
FROM devices_reading r
WHERE r.measured_on >= %s AND r.measured_on <= %s
  AND r.source = 'automatic' AND r.excluded_at IS NULL
GROUP BY r.patient_id, r.program
"""
# The panel as an IN list: SQLite's planner then probes the per-patient indexes instead of
# skip-scanning every reading (300 ms against 5 ms on the 10,000-patient set).
RAW_PANEL = """
SELECT e.patient_id, e.program, SUM(e.seconds) / 60
FROM timelog_timeentry e
WHERE e.patient_id IN (SELECT id FROM patients_patient WHERE coordinator_id = %s)
  AND e.started_at >= %s AND e.started_at < %s AND e.voided_at IS NULL AND e.countable
GROUP BY e.patient_id, e.program
"""
RAW_PANEL_DAYS = """
SELECT r.patient_id, r.program, COUNT(DISTINCT r.measured_on)
FROM devices_reading r
WHERE r.patient_id IN (SELECT id FROM patients_patient WHERE coordinator_id = %s)
  AND r.measured_on >= %s AND r.measured_on <= %s
  AND r.source = 'automatic' AND r.excluded_at IS NULL
GROUP BY r.patient_id, r.program
"""


def raw_aggregate(practices: list[Any]) -> Any:
    """Return the raw-SQL aggregate of the month for ``practices``: a function giving its rows."""
    from collections import defaultdict

    from django.db import connection

    from careledger.billing.months import parse_month

    by_zone: dict[str, list[int]] = defaultdict(list)
    for practice in practices:
        by_zone[practice.timezone].append(practice.pk)
    months = {zone: parse_month(MONTH, zone) for zone in by_zone}
    first_on, last_on = next(iter(months.values())).first_on, next(iter(months.values())).last_on

    def raw_close() -> int:
        rows = 0
        with connection.cursor() as cursor:
            for zone, ids in by_zone.items():
                sql = RAW_MINUTES.format(practices=", ".join(["%s"] * len(ids)))
                cursor.execute(sql, [*ids, months[zone].starts_at, months[zone].ends_at])
                rows += len(cursor.fetchall())
            cursor.execute(RAW_READING_DAYS, [first_on, last_on])
            rows += len(cursor.fetchall())
        return rows

    return raw_close


def _timed(run: Any, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        out.append(time.perf_counter() - started)
    return out


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def child_measure(runs: int) -> dict[str, Any]:
    """Measure the raw aggregate, the coordinator's pages and the engine alone."""
    _django()

    from django.db import connection
    from django.db.models import Count
    from django.test import Client

    from careledger.accounts.models import Practice, User
    from careledger.billing.facts import build_month_facts
    from careledger.billing.months import parse_month
    from careledger.patients.models import Patient
    from careledger.rules import evaluate_month

    practices = list(Practice.objects.filter(slug__startswith="hs-"))
    raw_close = raw_aggregate(practices)

    raw_rows = raw_close()
    raw_seconds = min(_timed(raw_close, 3))

    # The coordinator with the largest panel in the first practice.
    first = min(practices, key=lambda p: p.slug)
    top = (
        Patient.objects.filter(practice=first)
        .values("coordinator_id")
        .annotate(n=Count("id"))
        .order_by("-n", "coordinator_id")
        .first()
    )
    assert top is not None
    coordinator = User.objects.get(pk=top["coordinator_id"])
    month = parse_month(MONTH, first.timezone)

    def raw_panel() -> None:
        with connection.cursor() as cursor:
            cursor.execute(RAW_PANEL, [coordinator.pk, month.starts_at, month.ends_at])
            cursor.fetchall()
            cursor.execute(RAW_PANEL_DAYS, [coordinator.pk, month.first_on, month.last_on])
            cursor.fetchall()

    client = Client()
    client.force_login(coordinator)
    query = f"?month={MONTH}&as_of={AS_OF.isoformat()}"
    pages = {
        "dashboard": f"/worklists/dashboard/{query}",
        "worklist": f"/worklists/pre-close/{query}",
    }

    def getter(url: str) -> Any:
        def get() -> None:
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)

        return get

    raw_panel()
    panel_raw = _timed(raw_panel, runs)
    measured: dict[str, list[float]] = {}
    for name, url in pages.items():
        getter(url)()  # warm templates and statements; not counted
        measured[name] = _timed(getter(url), runs)

    # The engine alone, over real built facts.
    built = build_month_facts(practice=first, month=month)
    facts = [pm.facts for pms in built.values() for pm in pms]
    rounds = max(1, 20_000 // max(1, len(facts)))
    started = time.perf_counter()
    for _ in range(rounds):
        for month_facts in facts:
            evaluate_month(month_facts)
    engine_seconds = time.perf_counter() - started

    raw_p50 = statistics.median(panel_raw)
    return {
        "raw_close_seconds": raw_seconds,
        "raw_close_rows": raw_rows,
        "panel_patients": top["n"],
        "raw_panel_p50_ms": raw_p50 * 1000,
        "raw_panel_p95_ms": _p95(panel_raw) * 1000,
        **{f"{name}_p50_ms": statistics.median(v) * 1000 for name, v in measured.items()},
        **{f"{name}_p95_ms": _p95(v) * 1000 for name, v in measured.items()},
        **{f"{name}_ratio": statistics.median(v) / raw_p50 for name, v in measured.items()},
        "engine_patient_months_per_s": rounds * len(facts) / engine_seconds,
    }


# ---- the orchestrator -----------------------------------------------------------------------


def _json_of(output: str) -> dict[str, Any]:
    return json.loads(output.strip().splitlines()[-1])


def bench_database(database: str, *, url: str, api: int, bulk: int, runs: int) -> dict[str, Any]:
    env = {"DATABASE_URL": url, "DEBUG": "0"}
    log(f"{database}: closing {MONTH} for every practice (fresh process)")
    close = _json_of(_run([sys.executable, __file__, "close"], env))
    log(f"{database}: raw aggregate, dashboard, worklist, engine")
    measure = _json_of(_run([sys.executable, __file__, "measure", "--runs", str(runs)], env))
    log(f"{database}: reading ingestion ({api:,} through the API, {bulk:,} by import)")
    ingest_env = {"DEBUG": "0"}
    if database == "postgres":
        ingest_env["DATABASE_URL"] = f"{PG_SERVER}/postgres"
    else:
        ingest_env["DATABASE_URL"] = ""
    ingest = _json_of(
        _run(
            [
                sys.executable,
                str(ROOT / "bench/readings_ingest.py"),
                "--api",
                str(api),
                "--bulk",
                str(bulk),
                "--json",
            ],
            ingest_env,
        )
    )
    return {"close": close, "measure": measure, "ingest": ingest}


def summarize(results: dict[str, dict[str, Any]], patients: int) -> dict[str, float]:
    """Fold both databases into the issue's keys; unsuffixed keys report the worse figure."""
    out: dict[str, float] = {}
    for db, found in results.items():
        ratio = found["close"]["seconds"] / found["measure"]["raw_close_seconds"]
        out[f"close_seconds_{db}"] = round(found["close"]["seconds"], 2)
        out[f"close_ratio_{db}"] = round(ratio, 2)
    every = list(results.values())
    out["close_peak_rss_mib"] = round(max(r["close"]["peak_rss_mib"] for r in every), 1)
    out["close_queries"] = max(r["close"]["queries_per_practice"] for r in every)
    out["ingest_api_readings_per_s"] = round(min(r["ingest"]["api_per_s"] for r in every))
    out["ingest_bulk_ratio"] = round(max(r["ingest"]["bulk_ratio"] for r in every), 2)
    out["dashboard_p95_ms"] = round(
        max(max(r["measure"]["dashboard_p95_ms"], r["measure"]["worklist_p95_ms"]) for r in every),
        1,
    )
    out["dashboard_ratio"] = round(
        max(max(r["measure"]["dashboard_ratio"], r["measure"]["worklist_ratio"]) for r in every), 1
    )
    out["engine_patient_months_per_s"] = round(
        min(r["measure"]["engine_patient_months_per_s"] for r in every)
    )
    out["patients"] = patients
    missing = [k for k in KEYS if not isinstance(out.get(k), int | float)]
    if missing:
        sys.exit(f"bench: no figure for {', '.join(missing)}")
    return {k: out[k] for k in KEYS}


def table(results: dict[str, dict[str, Any]]) -> str:
    rows = [
        ("month close, s", lambda r: f"{r['close']['seconds']:.2f}"),
        ("  raw SQL aggregate, s", lambda r: f"{r['measure']['raw_close_seconds']:.3f}"),
        (
            "  ratio",
            lambda r: f"{r['close']['seconds'] / r['measure']['raw_close_seconds']:.1f}x",
        ),
        ("  worker processes", lambda r: f"{r['close'].get('workers', 1)}"),
        ("  statements per practice", lambda r: f"{r['close']['queries_per_practice']}"),
        ("  statements, all practices", lambda r: f"{r['close']['queries_total']}"),
        ("  peak RSS, MiB", lambda r: f"{r['close']['peak_rss_mib']:.0f}"),
        ("  patients / lines", lambda r: f"{r['close']['patients']:,} / {r['close']['lines']:,}"),
        ("API ingest, readings/s", lambda r: f"{r['ingest']['api_per_s']:,.0f}"),
        ("  ratio to raw insert", lambda r: f"{r['ingest']['api_ratio']:.1f}x"),
        ("bulk import, readings/s", lambda r: f"{r['ingest']['bulk_per_s']:,.0f}"),
        ("  ratio to raw insert", lambda r: f"{r['ingest']['bulk_ratio']:.1f}x"),
        ("dashboard p50 / p95, ms", lambda r: _pair(r, "dashboard")),
        ("worklist p50 / p95, ms", lambda r: _pair(r, "worklist")),
        (
            "  raw panel aggregate p50 / p95, ms",
            lambda r: (
                f"{r['measure']['raw_panel_p50_ms']:.1f} / {r['measure']['raw_panel_p95_ms']:.1f}"
            ),
        ),
        (
            "  ratio (p50) dashboard / worklist",
            lambda r: (
                f"{r['measure']['dashboard_ratio']:.1f}x / {r['measure']['worklist_ratio']:.1f}x"
            ),
        ),
        ("  panel patients", lambda r: f"{r['measure']['panel_patients']}"),
        (
            "engine alone, patient-months/s",
            lambda r: f"{r['measure']['engine_patient_months_per_s']:,.0f}",
        ),
    ]
    names = list(results)
    lines = [f"{'measure':<38}" + "".join(f"{n:>20}" for n in names)]
    for label, cell in rows:
        lines.append(f"{label:<38}" + "".join(f"{cell(results[n]):>20}" for n in names))
    return "\n".join(lines)


def _pair(r: dict[str, Any], name: str) -> str:
    return f"{r['measure'][f'{name}_p50_ms']:.1f} / {r['measure'][f'{name}_p95_ms']:.1f}"


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] in ("close", "measure", "analyze"):
        command = sys.argv[1]
        if command == "analyze":
            child_analyze()
            return
        if command == "close":
            print(json.dumps(child_close()))
            return
        runs = int(sys.argv[3]) if len(sys.argv) > 3 else 15
        print(json.dumps(child_measure(runs)))
        return
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 patients over 5 practices")
    parser.add_argument("--patients", type=int, default=None)
    parser.add_argument("--practices", type=int, default=None)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--api", type=int, default=None, help="readings through the API")
    parser.add_argument("--bulk", type=int, default=None, help="readings through import")
    parser.add_argument("--runs", type=int, default=None, help="page loads per p50/p95")
    parser.add_argument(
        "--databases", default="sqlite,postgres", help="comma-separated: sqlite, postgres"
    )
    parser.add_argument("--prepare", action="store_true", help="only generate the data sets")
    args = parser.parse_args()
    sizes = dict(SIZES["quick" if args.quick else "full"])
    for name in ("patients", "practices", "api", "bulk", "runs"):
        if getattr(args, name) is not None:
            sizes[name] = getattr(args, name)
    databases = [d.strip() for d in args.databases.split(",") if d.strip()]
    if not databases or set(databases) - {"sqlite", "postgres"}:
        sys.exit("bench: --databases takes sqlite, postgres or both")
    # Generate the missing data sets side by side (one process each, two cores); then measure
    # one database at a time so that the figures do not compete with each other.
    with ThreadPoolExecutor(max_workers=len(databases)) as pool:
        urls = dict(
            zip(
                databases,
                pool.map(
                    lambda db: ensure_dataset(
                        db, patients=sizes["patients"], practices=sizes["practices"], seed=args.seed
                    ),
                    databases,
                ),
                strict=True,
            )
        )
    if args.prepare:
        return
    started = time.perf_counter()
    results = {
        db: bench_database(
            db,
            url=urls[db],
            api=sizes["api"],
            bulk=sizes["bulk"],
            runs=sizes["runs"],
        )
        for db in databases
    }
    figures = summarize_partial(results, sizes["patients"], databases)
    print(
        f"health system: {sizes['patients']:,} patients, {sizes['practices']} practices, "
        f"month {MONTH}; {os.cpu_count()} CPUs; {time.perf_counter() - started:.0f} s in all"
    )
    print(table(results))
    print(json.dumps(figures), flush=True)


def summarize_partial(
    results: dict[str, dict[str, Any]], patients: int, databases: list[str]
) -> dict[str, float]:
    """Summarize; a database left out reports the other's close figures under its keys too."""
    if set(databases) == {"sqlite", "postgres"}:
        return summarize(results, patients)
    only = databases[0]
    other = "postgres" if only == "sqlite" else "sqlite"
    return summarize({**results, other: results[only]}, patients)


if __name__ == "__main__":
    main()
