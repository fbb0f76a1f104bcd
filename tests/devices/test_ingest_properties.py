"""Whatever arrives, ingestion never raises and accounts for every reading (case 11)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from careledger.devices.ingest import ingest_readings
from careledger.devices.models import Reading
from tests.devices.conftest import Monitored

pytestmark = pytest.mark.django_db

anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)
units = st.sampled_from(["mm[Hg]", "mg/dL", "mmol/L", "[lb_av]", "kg", "%", "L", "mmHg", ""])
kinds = st.sampled_from(["blood_pressure", "glucose", "weight", "spo2", "spirometry", "x"])
ids = st.sampled_from(["a", "b", "c", "d", ""])
times = st.sampled_from(
    ["2026-01-10T08:00:00-06:00", "2026-01-10T08:00:00", "3026-01-01T00:00:00Z", "nope", None]
)


def readings(devices: list[int]) -> st.SearchStrategy[Any]:
    reading = st.fixed_dictionaries(
        {
            "device_id": st.one_of(st.sampled_from(devices), anything),
            "vendor_reading_id": st.one_of(ids, anything),
            "measured_at": times,
            "type": kinds,
            "unit": units,
        },
        optional={
            "value": anything,
            "systolic": anything,
            "diastolic": anything,
            "pulse": anything,
            "fasting": anything,
            "source": st.sampled_from(["automatic", "manual", "typed"]),
        },
    )
    return st.lists(st.one_of(reading, anything), max_size=12)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_ingest_never_raises_and_every_reading_is_accounted_for(
    rpm: Monitored, data: st.DataObject
) -> None:
    devices = [rpm.cuff.pk, rpm.scale.pk, rpm.meter.pk, rpm.oximeter.pk]
    batch = data.draw(readings(devices))
    before = Reading.objects.count()
    result = ingest_readings(
        practice=rpm.world.practice, items=batch, via="api", now=timezone.now()
    )
    assert result.stored + result.duplicates + len(result.errors) == len(batch)
    assert Reading.objects.count() - before == result.stored
    assert all(0 <= e.index < len(batch) and e.field and e.reason for e in result.errors)


AWKWARD_IDS = ['a"b', "c\\d", "{x,y}", "NULL", "s p", "ü-€", "e'f", "g\th", "1,2", "()"]


def test_awkward_vendor_ids_and_values_are_stored_exactly_and_refused_twice(
    rpm: Monitored,
) -> None:
    # PostgreSQL takes a chunk as column arrays: quotes, backslashes, braces, commas, "NULL"
    # and spaces must come back as sent, and the unique constraint still refuses repeats.
    now = timezone.now()
    batch = [
        {
            "device_id": rpm.cuff.pk,
            "vendor_reading_id": ident,
            "measured_at": (now - timedelta(hours=n + 1)).isoformat(),
            "type": "blood_pressure",
            "unit": "mm[Hg]",
            "systolic": 120 + n + 0.5,
            "diastolic": 80,
            "pulse": None,
        }
        for n, ident in enumerate(AWKWARD_IDS)
    ]
    first = ingest_readings(practice=rpm.world.practice, items=batch, via="api", now=now)
    assert (first.stored, first.errors) == (len(AWKWARD_IDS), [])

    stored = dict(
        Reading.objects.filter(vendor_reading_id__in=AWKWARD_IDS).values_list(
            "vendor_reading_id", "systolic"
        )
    )
    assert stored == {ident: 120 + n + 0.5 for n, ident in enumerate(AWKWARD_IDS)}
    rows = Reading.objects.filter(vendor_reading_id__in=AWKWARD_IDS)
    assert {(r.diastolic, r.pulse, r.measured_on is not None) for r in rows} == {(80.0, None, True)}

    again = ingest_readings(practice=rpm.world.practice, items=batch, via="api", now=now)
    assert (again.stored, again.duplicates) == (0, len(AWKWARD_IDS))
