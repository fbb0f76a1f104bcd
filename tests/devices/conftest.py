"""A practice with an RPM patient, a vendor and devices; helpers to post readings."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from careledger.devices.models import Device, Vendor
from careledger.devices.services import Assignment, assign_device, create_vendor
from tests.conftest import PracticeWorld
from tests.factories import EnrollmentFactory


@dataclass
class Monitored:
    """An RPM patient with a cuff, a scale, a glucometer and an oximeter from one vendor."""

    world: PracticeWorld
    vendor: Vendor
    cuff: Device
    scale: Device
    meter: Device
    oximeter: Device


def monitor(world: PracticeWorld, *, slug: str, serial_prefix: str = "SN") -> Monitored:
    now = timezone.now()
    EnrollmentFactory(
        patient=world.patient,
        program="RPM",
        billing_practitioner=world.user("practitioner"),
        started_on=date(2025, 1, 1),
        consent_on=date(2025, 1, 2),
    )
    vendor = create_vendor(practice=world.practice, slug=slug, name="Acme Cellular", now=now)
    ctx = world.ctx("coordinator")

    def device(kind: str, serial: str) -> Device:
        return assign_device(
            ctx=ctx,
            patient=world.patient,
            assignment=Assignment(
                program="RPM",
                type=kind,
                vendor=slug,
                serial=f"{serial_prefix}-{serial}",
                assigned_on=date(2025, 1, 2),
            ),
            now=now,
        )

    return Monitored(
        world=world,
        vendor=vendor,
        cuff=device("blood_pressure", "BP1"),
        scale=device("weight", "WT1"),
        meter=device("glucose", "GL1"),
        oximeter=device("spo2", "OX1"),
    )


@pytest.fixture
def rpm(world: PracticeWorld) -> Monitored:
    return monitor(world, slug="acme-riverside")


@pytest.fixture
def other_rpm(other_world: PracticeWorld) -> Monitored:
    return monitor(other_world, slug="acme-lakeside", serial_prefix="LK")


def bp(
    device: Device,
    reading_id: str,
    *,
    systolic: float = 128,
    diastolic: float = 82,
    at: datetime | None = None,
    source: str = "automatic",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "device_id": device.pk,
        "vendor_reading_id": reading_id,
        "measured_at": (at or timezone.now() - timedelta(hours=1)).isoformat(),
        "type": "blood_pressure",
        "systolic": systolic,
        "diastolic": diastolic,
        "pulse": 70,
        "unit": "mm[Hg]",
        "source": source,
        **extra,
    }


def single(
    device: Device,
    reading_id: str,
    kind: str,
    value: Any,
    unit: str,
    *,
    at: datetime | None = None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "device_id": device.pk,
        "vendor_reading_id": reading_id,
        "measured_at": (at or timezone.now() - timedelta(hours=1)).isoformat(),
        "type": kind,
        "value": value,
        "unit": unit,
        "source": "automatic",
        **extra,
    }


Poster = Callable[..., Any]


@pytest.fixture
def post(api_client: Callable[..., Client]) -> Poster:
    """Post a batch as a user; return the response."""

    def _post(user: Any, readings: Any, raw: str | None = None) -> Any:
        body = raw if raw is not None else json.dumps({"readings": readings})
        return api_client(user).post("/api/v1/readings", data=body, content_type="application/json")

    return _post
