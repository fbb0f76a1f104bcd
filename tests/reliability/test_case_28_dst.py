"""Case 28: daylight-saving changes (Chicago, 2025-03-09 02:00 skipped, 2025-11-02 01:00 repeated).

Pass: durations come from aware UTC instants (an entry across the change lasts its real
length), and ambiguous local input follows one explicit rule: a skipped local time is refused
on its field, a repeated local time means its first occurrence (daylight time, fold=0).
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from careledger.timelog.models import TimeEntry
from careledger.timelog.services import Contact, log_contact
from tests.conftest import PracticeWorld
from tests.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 11, 20, 21, 0, tzinfo=UTC)
HEADER = "mrn,program,staff,date,start_time,end_time,minutes,kind,outcome,summary,reason"
SUMMARY = "Reviewed the readings with the patient. Adjusted the evening dose."


@pytest.fixture
def enrolled(world: PracticeWorld) -> PracticeWorld:
    EnrollmentFactory(
        patient=world.patient,
        program="RPM",
        billing_practitioner=world.user("practitioner"),
        started_on=date(2025, 1, 1),
        consent_on=date(2025, 1, 2),
    )
    return world


def _import(tmp_path: Path, *rows: tuple[str, str, str, str]) -> None:
    lines = [HEADER] + [
        f"A1000,RPM,riverside-coordinator,{on},{start},{end},{minutes},interactive_call,reached,"
        f"{SUMMARY},From paper notes"
        for on, start, end, minutes in rows
    ]
    path = tmp_path / "entries.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with time_machine.travel(NOW, tick=False):
        call_command(
            "import_entries",
            str(path),
            "--practice",
            "riverside",
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )


@pytest.mark.parametrize(
    ("started_at", "ended_at"),
    [
        # 01:30 CST -> 03:30 CDT: two hours on the wall clock, one real hour.
        (datetime(2025, 3, 9, 7, 30, tzinfo=UTC), datetime(2025, 3, 9, 8, 30, tzinfo=UTC)),
        # 01:30 CDT -> 01:30 CST: no time on the wall clock, one real hour.
        (datetime(2025, 11, 2, 6, 30, tzinfo=UTC), datetime(2025, 11, 2, 7, 30, tzinfo=UTC)),
    ],
    ids=["spring-forward", "fall-back"],
)
def test_case_28_an_entry_across_a_change_lasts_its_real_length(
    enrolled: PracticeWorld, started_at: datetime, ended_at: datetime
) -> None:
    entry = log_contact(
        ctx=enrolled.ctx("coordinator"),
        patient=enrolled.patient,
        contact=Contact(
            program="RPM",
            kind="interactive_call",
            outcome="reached",
            started_at=started_at,
            ended_at=ended_at,
            summary=SUMMARY,
            reason="From paper notes",
        ),
        now=NOW,
    )
    assert entry.seconds == 3600
    assert entry.started_at.utcoffset() == timedelta(0)


def test_case_28_local_input_across_the_spring_gap_is_measured_in_real_time(
    enrolled: PracticeWorld, tmp_path: Path
) -> None:
    _import(tmp_path, ("2025-03-09", "01:30", "03:30", ""))
    entry = TimeEntry.objects.get()
    assert (entry.started_at, entry.ended_at) == (
        datetime(2025, 3, 9, 7, 30, tzinfo=UTC),
        datetime(2025, 3, 9, 8, 30, tzinfo=UTC),
    )
    assert entry.seconds == 3600


def test_case_28_a_skipped_local_time_is_refused_on_its_field(
    enrolled: PracticeWorld, tmp_path: Path
) -> None:
    with pytest.raises(CommandError) as refused:
        _import(tmp_path, ("2025-03-09", "02:30", "03:10", ""))
    assert "start_time" in str(refused.value) or refused.value.returncode == 2
    assert not TimeEntry.objects.exists()


def test_case_28_a_repeated_local_time_means_its_first_occurrence(
    enrolled: PracticeWorld, tmp_path: Path
) -> None:
    _import(tmp_path, ("2025-11-02", "01:30", "", "30"))
    entry = TimeEntry.objects.get()
    # fold=0: 01:30 CDT (UTC-5), not 01:30 CST (UTC-6).
    assert entry.started_at == datetime(2025, 11, 2, 6, 30, tzinfo=UTC)
    assert entry.seconds == 30 * 60


def test_case_28_minutes_typed_on_the_page_are_real_minutes_across_the_change(
    enrolled: PracticeWorld, login: Any
) -> None:
    client = login(enrolled, "coordinator")
    with time_machine.travel(NOW, tick=False):
        response = client.post(
            reverse("entry-add", args=[enrolled.patient.pk]),
            {
                "program": "RPM",
                "kind": "interactive_call",
                "outcome": "reached",
                "started_at": "2025-03-09T01:30",  # CST; 02:00 jumps to 03:00
                "minutes": "60",
                "summary": SUMMARY,
                "reason": "From paper notes",
            },
        )
    assert response.status_code == 302, response.content
    entry = TimeEntry.objects.get()
    assert entry.started_at == datetime(2025, 3, 9, 7, 30, tzinfo=UTC)
    assert entry.ended_at == datetime(2025, 3, 9, 8, 30, tzinfo=UTC)
    assert entry.seconds == 3600
