"""``bench/health_system.py`` at a tiny size: every figure of its JSON line is a number."""

from __future__ import annotations

import importlib.util
import io
import json
import math
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _environment_left_as_found(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bench's child set-up fills DEBUG and ALLOWED_HOSTS in os.environ; undo it afterwards.

    Otherwise later tests that start a ``careledger`` subprocess inherit its ALLOWED_HOSTS.
    """
    for name in ("DJANGO_SETTINGS_MODULE", "DEBUG", "ALLOWED_HOSTS"):
        monkeypatch.setenv(name, os.environ.get(name, ""))
        if not os.environ[name]:
            monkeypatch.delenv(name)


def bench_module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_json_line_has_every_key_as_a_number_on_a_tiny_health_system() -> None:
    health = bench_module("health_system")
    ingest = bench_module("readings_ingest")
    call_command(
        "demo",
        "--patients",
        "300",
        "--practices",
        "3",
        "--today",
        health.TODAY.isoformat(),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    # One worker: forked workers would not see this test's (uncommitted) data set.
    close = health.child_close(workers=1)
    measure = health.child_measure(2)
    world = ingest._world()
    api, api_raw = ingest.bench_api(world, 100)
    bulk, bulk_raw = ingest.bench_bulk(world, 200)
    found = {
        "close": close,
        "measure": measure,
        "ingest": {
            "api_per_s": 100 / api,
            "api_ratio": api / api_raw,
            "bulk_per_s": 200 / bulk,
            "bulk_ratio": bulk / bulk_raw,
        },
    }

    figures = health.summarize({"sqlite": found, "postgres": found}, 300)
    line = json.loads(json.dumps(figures))

    assert list(line) == list(health.KEYS)
    for key, value in line.items():
        assert isinstance(value, int | float) and not isinstance(value, bool), key
        assert math.isfinite(value) and value >= 0, key
    assert line["patients"] == 300
    assert close["patients"] == 300 and close["lines"] > 0
    # The close is rolled back: the data set can be measured again.
    assert health.child_close(workers=1)["lines"] == close["lines"]
    assert health.table({"sqlite": found}).startswith("measure")


def test_the_data_set_key_changes_with_seed_and_size() -> None:
    health = bench_module("health_system")
    key = health.dataset_key(patients=10_000, practices=5, seed=1)

    assert key == health.dataset_key(patients=10_000, practices=5, seed=1)
    assert key != health.dataset_key(patients=10_000, practices=5, seed=2)
    assert key != health.dataset_key(patients=10_001, practices=5, seed=1)
