"""Helpers for reliability cases 21-40 (second half): a scratch database for real concurrency.

Threads need committed rows, which ordinary (rolled-back) tests never have, and flushing is
impossible (the audit log refuses deletes). So concurrency runs in a subprocess on a scratch
database, as tests/devices/test_concurrent_delivery.py does: a PostgreSQL database when the
suite runs on PostgreSQL, a SQLite file otherwise (IMMEDIATE transactions there). The scratch
database is migrated once per test process and dropped at exit; each script makes its own
practice, so scripts never see each other's rows.
"""

from __future__ import annotations

import atexit
import json
import os
import subprocess
import sys
import tempfile
import uuid
from functools import cache
from pathlib import Path
from typing import Any

import dj_database_url

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


def _careledger(
    env: dict[str, str], *args: str, timeout: int = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CARELEDGER), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@cache
def scratch_env() -> dict[str, str]:
    """Create and migrate the scratch database once; return the environment that selects it."""
    if POSTGRES:
        import psycopg

        name = f"careledger_rel_{uuid.uuid4().hex[:10]}"
        admin = psycopg.connect(_admin_url("postgres"), autocommit=True)
        admin.execute(f'CREATE DATABASE "{name}"')

        def drop() -> None:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()

        atexit.register(drop)
        url = _admin_url(name)
    else:
        folder = tempfile.TemporaryDirectory(prefix="careledger_rel_")
        atexit.register(folder.cleanup)
        url = f"sqlite:///{Path(folder.name) / 'scratch.sqlite3'}"
    env = {**os.environ, "DATABASE_URL": url, "PYTHONDONTWRITEBYTECODE": "1"}
    for args in (("migrate", "--no-input", "-v0"), ("createcachetable",)):
        done = _careledger(env, *args)
        assert done.returncode == 0, done.stderr[-4000:]
    return env


def new_slug() -> str:
    """A practice slug no other script on the scratch database uses."""
    return "p" + uuid.uuid4().hex[:10]


def run_raw(script: str, *, slug: str) -> subprocess.CompletedProcess[str]:
    """Run ``script`` in ``careledger shell`` on the scratch database, with ``SLUG`` set."""
    return _careledger(scratch_env(), "shell", "-c", f"SLUG = {slug!r}\n" + script)


def run_script(script: str, *, slug: str | None = None) -> dict[str, Any]:
    """Run ``script`` on the scratch database; return the JSON of its last printed line."""
    done = run_raw(script, slug=slug or new_slug())
    assert done.returncode == 0, done.stderr[-4000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run_command(*args: str) -> subprocess.CompletedProcess[str]:
    """Run a careledger command on the scratch database."""
    return _careledger(scratch_env(), *args)


def deliver(
    vendor: Any,
    readings: list[dict[str, Any]],
    *,
    timestamp: int | None = None,
    secret: str | None = None,
    signature: str | None = None,
) -> Any:
    """Post a batch to the vendor webhook, signed afresh unless told otherwise."""
    import time

    from django.test import Client

    from careledger.devices.webhooks import sign

    body = json.dumps({"readings": readings}).encode()
    stamp = str(timestamp if timestamp is not None else int(time.time()))
    headers = {"HTTP_X_CARELEDGER_TIMESTAMP": stamp}
    if signature != "":
        headers["HTTP_X_CARELEDGER_SIGNATURE"] = signature or sign(
            secret or vendor.webhook_secret, stamp, body
        )
    return Client().post(
        f"/api/v1/webhooks/{vendor.slug}/readings",
        data=body,
        content_type="application/json",
        **headers,
    )


def by_serial(device: Any, reading_id: str, **kwargs: Any) -> dict[str, Any]:
    """A blood-pressure reading that names its device by serial, as vendors do."""
    from tests.devices.conftest import bp

    reading = bp(device, reading_id, **kwargs)
    del reading["device_id"]
    reading["device_serial"] = device.serial
    return reading
