"""Locust scenario: 50 care coordinators and one device vendor against a careledger server.

Coordinators log contacts (POST /api/v1/time-entries), read the minutes dashboard of a
coordinator's panel (GET /api/v1/dashboard?coordinator_id=...) and open patient-months
(GET /api/v1/patients/{id}/months/{month});
the vendor posts batches of blood-pressure readings through the signed webhook.

Run through ``bench/load_test.py`` (it prepares the database, the users and this file's
fixture); the fixture path comes from ``CARELEDGER_LOAD_FIXTURE``. Each coordinator has its own
bearer token, so the API's 600 requests/minute per token is never the limit: a coordinator waits
1-3 s between actions (about 30 requests a minute).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import os
import random
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from locust import HttpUser, between, events, task

FIXTURE: dict[str, Any] = {}
_COORDINATORS: itertools.count[int] = itertools.count()


@events.init.add_listener
def _load_fixture(**_: Any) -> None:
    path = os.environ.get("CARELEDGER_LOAD_FIXTURE", "")
    if path:
        FIXTURE.update(json.loads(Path(path).read_text()))


class Coordinator(HttpUser):
    """A care coordinator working through their patients."""

    fixed_count = 50
    wait_time = between(1, 3)

    def on_start(self) -> None:
        mine = FIXTURE["coordinators"][next(_COORDINATORS) % len(FIXTURE["coordinators"])]
        self.client.headers["Authorization"] = f"Bearer {mine['token']}"
        # Contacts follow each other, 25 minutes apart, from where this coordinator left off:
        # a person's entries never overlap (the time log refuses overlapping entries).
        self.next_start = datetime.fromisoformat(mine["start_at"])
        self.enrollments: list[dict[str, Any]] = FIXTURE["enrollments"]
        self.month: str = FIXTURE["month"]
        self.rng = random.Random(mine["token"])
        # The dashboard a coordinator reads is a panel: one of the demo coordinators' patients.
        self.panel: int = mine["panel"]

    @task(3)
    def log_contact(self) -> None:
        enrollment = self.rng.choice(self.enrollments)
        started = self.next_start
        self.next_start = started + timedelta(minutes=25)
        minutes = self.rng.choice((5, 10, 12, 20))
        body = {
            "patient_id": enrollment["patient_id"],
            "program": enrollment["program"],
            "kind": "interactive_call",
            "outcome": "reached",
            "started_at": started.isoformat(),
            "ended_at": (started + timedelta(minutes=minutes)).isoformat(),
            # CCM-5: a contact's summary says what happened in at least two sentences.
            "summary": "Reviewed medications and home blood pressure readings. "
            "Patient reports no new symptoms.",
        }
        with self.client.post(
            "/api/v1/time-entries", json=body, name="POST /time-entries", catch_response=True
        ) as response:
            if response.status_code != 201:
                # Name the refused field in the report (the message never holds patient data).
                response.failure(f"{response.status_code}: {response.text[:200]}")

    @task(3)
    def open_patient_month(self) -> None:
        enrollment = self.rng.choice(self.enrollments)
        self.client.get(
            f"/api/v1/patients/{enrollment['patient_id']}/months/{self.month}",
            name="GET /patients/{id}/months/{month}",
        )

    @task(1)
    def read_dashboard(self) -> None:
        self.client.get(
            f"/api/v1/dashboard?month={self.month}&coordinator_id={self.panel}",
            name="GET /dashboard?coordinator_id={panel}",
        )


class Vendor(HttpUser):
    """The device vendor forwarding blood-pressure readings every few seconds."""

    fixed_count = 1
    wait_time = between(2, 4)

    def on_start(self) -> None:
        self.vendor = FIXTURE["vendor"]
        self.rng = random.Random(self.vendor["slug"])

    @task
    def post_readings(self) -> None:
        now = datetime.now().astimezone()
        readings = [
            {
                "device_serial": self.rng.choice(self.vendor["serials"]),
                "vendor_reading_id": f"load-{uuid.uuid4().hex}",
                "measured_at": (now - timedelta(minutes=self.rng.randint(1, 30))).isoformat(),
                "type": "blood_pressure",
                "systolic": self.rng.randint(110, 150),
                "diastolic": self.rng.randint(70, 92),
                "pulse": self.rng.randint(60, 90),
                "unit": "mm[Hg]",
                "source": "automatic",
            }
            for _ in range(10)
        ]
        body = json.dumps({"readings": readings}).encode()
        timestamp = str(int(time.time()))
        digest = hmac.new(
            self.vendor["secret"].encode(), timestamp.encode() + b"." + body, hashlib.sha256
        ).hexdigest()
        with self.client.post(
            f"/api/v1/webhooks/{self.vendor['slug']}/readings",
            data=body,
            headers={
                "Content-Type": "application/json",
                "X-Careledger-Timestamp": timestamp,
                "X-Careledger-Signature": f"sha256={digest}",
            },
            name="POST /webhooks/{vendor}/readings",
            catch_response=True,
        ) as response:
            # A 200 may still refuse single readings: count any refusal as an error.
            if response.status_code == 200 and response.json().get("errors"):
                response.failure(f"readings refused: {response.json()['errors'][:2]}")
