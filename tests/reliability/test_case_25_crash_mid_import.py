"""Case 25: a bulk import that crashes at row k leaves nothing behind; re-running completes it.

An exception injected at row 3 (in the test database), and the worker process killed outright
at row 3 (on a scratch database). Pass: the batch is all-or-nothing; re-running yields the
same final state as an uninterrupted run: every row once, no duplicates, no gaps.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.management import call_command

from careledger.audit.models import AuditEvent
from careledger.timelog import importer
from careledger.timelog.models import TimeEntry
from tests.conftest import PracticeWorld, make_world
from tests.factories import EnrollmentFactory
from tests.reliability._helpers_b import new_slug, run_raw, run_script

NOW = datetime(2026, 11, 20, 21, 0, tzinfo=UTC)
HEADER = "mrn,program,staff,date,start_time,end_time,minutes,kind,outcome,summary,reason"
SUMMARY = "Reviewed home blood pressure readings with the patient. Reinforced the low-salt diet."
ROWS = 5
CRASH_AT = 3


def _file(tmp_path: Path, staff: str) -> Path:
    lines = [HEADER] + [
        f"A1000,RPM,{staff},2026-11-19,{9 + n:02d}:00,{9 + n:02d}:12,,interactive_call,reached,"
        f"{SUMMARY},"
        for n in range(ROWS)
    ]
    path = tmp_path / f"{staff}.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _state(world: PracticeWorld) -> list[tuple[Any, ...]]:
    return sorted(
        TimeEntry.objects.filter(practice=world.practice).values_list(
            "started_at", "ended_at", "program", "kind", "seconds", "countable"
        )
    )


def _import(path: Path, slug: str) -> None:
    call_command(
        "import_entries", str(path), "--practice", slug, stdout=io.StringIO(), stderr=io.StringIO()
    )


@pytest.mark.django_db
def test_case_25_an_exception_at_row_k_stores_nothing_and_a_rerun_equals_an_uninterrupted_run(
    world: PracticeWorld,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A second practice in the same zone, for the uninterrupted reference run.
    other_world = make_world("lakeside", "Lakeside Internal Medicine", "America/Chicago")
    for w in (world, other_world):
        EnrollmentFactory(
            patient=w.patient,
            program="RPM",
            billing_practitioner=w.user("practitioner"),
            started_on=date(2026, 9, 1),
            consent_on=date(2026, 9, 3),
        )
    real = importer.log_contact
    calls = {"n": 0}

    def crashing(**kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == CRASH_AT:
            raise RuntimeError("worker crashed at row 3")
        return real(**kwargs)

    with time_machine.travel(NOW, tick=False):
        # An uninterrupted run in the other practice: the state to reach.
        _import(_file(tmp_path, "lakeside-coordinator"), "lakeside")
        events_before = AuditEvent.objects.filter(event="timeentry.created").count()

        monkeypatch.setattr(importer, "log_contact", crashing)
        with pytest.raises(RuntimeError, match="row 3"):
            _import(_file(tmp_path, "riverside-coordinator"), "riverside")
        assert _state(world) == []  # all or nothing: rows 1-2 are gone too
        assert AuditEvent.objects.filter(event="timeentry.created").count() == events_before

        monkeypatch.setattr(importer, "log_contact", real)
        _import(_file(tmp_path, "riverside-coordinator"), "riverside")
    assert len(_state(world)) == ROWS
    assert _state(world) == _state(other_world)
    assert len(set(_state(world))) == ROWS  # no duplicates, no gaps


SETUP_AND_CRASH = r"""
import io, os, tempfile
from datetime import UTC, date, datetime
import time_machine
from django.core.management import call_command
from careledger.accounts.models import Membership, Practice, User
from careledger.patients.models import Enrollment, Patient
from careledger.timelog import importer

NOW = datetime(2026, 11, 20, 21, 0, tzinfo=UTC)
time_machine.travel(NOW, tick=False).start()
practice = Practice.objects.create(name="Crash", slug=SLUG, timezone="America/Chicago",
                                   billing_npi="1234567893")
doctor = User.objects.create(username=SLUG + "-doc")
Membership.objects.create(user=doctor, practice=practice, role="practitioner",
                          credential="MD", npi="1245319599")
nurse = User.objects.create(username=SLUG + "-rn")
Membership.objects.create(user=nurse, practice=practice, role="coordinator", credential="RN")
patient = Patient.objects.create(practice=practice, mrn="A1000", given_name="A",
                                 family_name="B", birth_date=date(1950, 1, 1), sex="female",
                                 created_at=NOW)
Enrollment.objects.create(patient=patient, program="RPM", status="active",
                          billing_practitioner=doctor, started_on=date(2026, 9, 1),
                          consent_on=date(2026, 9, 3), consent_method="verbal", created_at=NOW)
real, calls = importer.log_contact, [0]

def killed(**kwargs):
    calls[0] += 1
    if calls[0] == CRASH_AT:
        os._exit(9)  # the worker dies: no exception handler, no rollback code runs
    return real(**kwargs)

importer.log_contact = killed
call_command("import_entries", PATH, "--practice", SLUG, stdout=io.StringIO())
"""

RERUN = r"""
import io, json
from datetime import UTC, datetime
import time_machine
from django.core.management import call_command
from careledger.timelog.models import TimeEntry

time_machine.travel(datetime(2026, 11, 20, 21, 0, tzinfo=UTC), tick=False).start()
state = lambda: sorted((e.started_at.isoformat(), e.seconds) for e in
                       TimeEntry.objects.filter(practice__slug=SLUG))
after_crash = state()
call_command("import_entries", PATH, "--practice", SLUG, stdout=io.StringIO())
print(json.dumps({"after_crash": after_crash, "after_rerun": state()}))
"""


def test_case_25_a_worker_killed_at_row_k_leaves_nothing_and_a_rerun_completes(
    tmp_path: Path,
) -> None:
    slug = new_slug()
    path = _file(tmp_path, f"{slug}-rn")
    constants = f"PATH = {str(path)!r}\nCRASH_AT = {CRASH_AT}\n"
    crashed = run_raw(constants + SETUP_AND_CRASH, slug=slug)
    assert crashed.returncode == 9, crashed.stderr[-3000:]
    outcome = run_script(constants + RERUN, slug=slug)
    assert outcome["after_crash"] == []
    starts = [start for start, _ in outcome["after_rerun"]]
    assert len(starts) == ROWS and len(set(starts)) == ROWS
    assert {seconds for _, seconds in outcome["after_rerun"]} == {12 * 60}
