"""Case 11: reading values at and past the edges (negative, 0, NaN/Infinity, 1e308, strings,
wrong or missing units).

Pass: each bad reading is reported as ``{index, field, reason}`` while the good ones of the same
batch are stored; property: ingestion never raises and stored + duplicates + errors = submitted.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from careledger.devices.models import Reading
from tests.conftest import PracticeWorld
from tests.devices.conftest import Monitored, bp, monitor, single

pytestmark = pytest.mark.django_db


@pytest.fixture
def rpm(world: PracticeWorld) -> Monitored:
    return monitor(world, slug="acme-riverside")


def _post(client: Client, raw: str) -> Any:
    return client.post("/api/v1/readings", data=raw, content_type="application/json")


def _edges(rpm: Monitored) -> list[tuple[dict[str, Any] | str, str | None]]:
    """(reading, the field its error must name — or None for a good reading)."""
    scale, meter, oximeter, cuff = rpm.scale, rpm.meter, rpm.oximeter, rpm.cuff
    return [
        (single(scale, "w-neg", "weight", -4, "kg"), "value"),
        (single(scale, "w-zero", "weight", 0, "kg"), "value"),
        (single(scale, "w-huge", "weight", 1e308, "kg"), "value"),
        (single(scale, "w-str", "weight", "eighty", "kg"), "value"),
        (single(scale, "w-unit", "weight", 80, "stone"), "unit"),
        (single(scale, "w-nounit", "weight", 80, ""), "unit"),
        (single(oximeter, "o-over", "spo2", 101, "%"), "value"),
        (single(meter, "g-unit", "glucose", 110, "%"), "unit"),
        (bp(cuff, "bp-neg", systolic=-120), "systolic"),
        (bp(cuff, "bp-zero", diastolic=0), "diastolic"),
        (bp(cuff, "bp-str", systolic="high"), "systolic"),
        (bp(cuff, "bp-unit", unit="kPa"), "unit"),
        ("NaN-PLACEHOLDER", "value"),
        ("INF-PLACEHOLDER", "value"),
        ("-INF-PLACEHOLDER", "value"),
        (single(scale, "w-ok", "weight", 80.5, "kg"), None),
        (single(meter, "g-ok", "glucose", 6.1, "mmol/L"), None),
        (bp(cuff, "bp-ok"), None),
        (single(oximeter, "o-ok", "spo2", 97, "%"), None),
    ]


def _raw(rpm: Monitored, items: list[dict[str, Any] | str]) -> str:
    """Serialise, writing NaN and ±Infinity as the bare tokens some vendors send."""
    parts = []
    for n, item in enumerate(items):
        if isinstance(item, str):
            token = {"NaN-": "NaN", "INF-": "Infinity", "-INF": "-Infinity"}[item[:4]]
            base = json.dumps(single(rpm.scale, f"w-tok-{n}", "weight", 1, "kg"))
            parts.append(base.replace('"value": 1,', f'"value": {token},'))
        else:
            parts.append(json.dumps(item))
    return '{"readings": [' + ",".join(parts) + "]}"


def test_each_bad_reading_is_reported_and_the_good_ones_are_stored(
    rpm: Monitored,
    api_client,  # type: ignore[no-untyped-def]
) -> None:
    edges = _edges(rpm)
    response = _post(api_client(rpm.world.user("coordinator")), _raw(rpm, [r for r, _ in edges]))
    assert response.status_code == 200, response.content
    answer = response.json()
    good = sum(1 for _, field in edges if field is None)
    assert answer["stored"] == good == Reading.objects.count()
    assert answer["stored"] + answer["duplicates"] + len(answer["errors"]) == len(edges)
    expected = [(n, field) for n, (_, field) in enumerate(edges) if field is not None]
    assert [(e["index"], e["field"]) for e in answer["errors"]] == expected
    assert all(set(e) == {"index", "field", "reason"} and e["reason"] for e in answer["errors"])
    stored_ids = set(Reading.objects.values_list("vendor_reading_id", flat=True))
    assert stored_ids == {"w-ok", "g-ok", "bp-ok", "o-ok"}


def test_a_missing_unit_key_and_a_missing_value_are_reported(rpm: Monitored, api_client) -> None:  # type: ignore[no-untyped-def]
    no_unit = single(rpm.scale, "w-1", "weight", 80, "kg")
    del no_unit["unit"]
    no_value = single(rpm.scale, "w-2", "weight", 80, "kg")
    del no_value["value"]
    answer = _post(
        api_client(rpm.world.user("coordinator")),
        json.dumps({"readings": [no_unit, no_value]}),
    ).json()
    assert answer["stored"] == 0
    assert [(e["index"], e["field"]) for e in answer["errors"]] == [(0, "unit"), (1, "value")]


values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0, -0.0, 1e308, -1e308, 5e-324]),
    st.text(max_size=8),
    st.lists(st.integers(), max_size=2),
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_the_api_never_fails_and_accounts_for_every_reading(
    rpm: Monitored,
    api_client,
    data: st.DataObject,  # type: ignore[no-untyped-def]
) -> None:
    devices = [rpm.cuff, rpm.scale, rpm.meter, rpm.oximeter]
    kinds = {"blood_pressure": "mm[Hg]", "weight": "kg", "glucose": "mg/dL", "spo2": "%"}
    batch = []
    for n in range(data.draw(st.integers(min_value=0, max_value=8))):
        device = data.draw(st.sampled_from(devices))
        kind = data.draw(st.sampled_from(sorted(kinds)))
        item = single(
            device,
            data.draw(st.sampled_from(["a", "b", f"r{n}"])),
            kind,
            data.draw(values),
            data.draw(st.sampled_from([kinds[kind], "", "stone", None])),
        )
        for field in ("systolic", "diastolic", "pulse"):
            if data.draw(st.booleans()):
                item[field] = data.draw(values)
        batch.append(item)
    before = Reading.objects.count()
    response = _post(api_client(rpm.world.user("coordinator")), json.dumps({"readings": batch}))
    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["stored"] + answer["duplicates"] + len(answer["errors"]) == len(batch)
    assert Reading.objects.count() - before == answer["stored"]
    assert all(
        0 <= e["index"] < len(batch) and e["field"] and e["reason"] for e in answer["errors"]
    )
