"""Time pages: the timer, manual entries, history with amend and void, my day."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from careledger.audit.models import AuditEvent
from careledger.timelog import services
from careledger.timelog.models import Source, TimeEntry, Timer
from tests.conftest import PracticeWorld
from tests.factories import EnrollmentFactory, PatientFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 21, 0, tzinfo=UTC)  # 15:00 in Chicago
SUMMARY = "Reviewed home blood pressure readings with the patient. Reinforced the low-salt diet."
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def rpm(world: PracticeWorld) -> PracticeWorld:
    EnrollmentFactory(
        patient=world.patient,
        program="RPM",
        billing_practitioner=world.user("practitioner"),
        started_on=date(2026, 9, 1),
        consent_on=date(2026, 9, 3),
        consent_obtained_by=world.user("coordinator"),
    )
    return world


def _log(world: PracticeWorld, minutes: int = 12, ago: timedelta = timedelta(hours=2), **kw: Any):  # type: ignore[no-untyped-def]
    start = NOW - ago
    contact = services.Contact(
        program=kw.pop("program", "RPM"),
        kind=kw.pop("kind", "interactive_call"),
        outcome=kw.pop("outcome", "reached"),
        started_at=start,
        ended_at=start + timedelta(minutes=minutes),
        summary=kw.pop("summary", SUMMARY),
    )
    return services.log_contact(
        ctx=world.ctx(kw.pop("role", "coordinator")),
        patient=world.patient,
        contact=contact,
        now=NOW,
    )


def _start(world: PracticeWorld, minutes_ago: int = 0) -> Timer:
    return services.start_timer(
        ctx=world.ctx(),
        patient=world.patient,
        program="RPM",
        now=NOW - timedelta(minutes=minutes_ago),
    )


def _errors(response: Any) -> dict[str, list[str]]:
    form = response.context["form"]
    return {name: [str(e) for e in errors] for name, errors in form.errors.items()}


# --- who may use the pages -------------------------------------------------------------------


@pytest.mark.parametrize("role", ["coordinator", "practitioner", "manager", "admin"])
def test_clinical_writers_see_the_start_buttons(rpm: PracticeWorld, login, role: str) -> None:  # type: ignore[no-untyped-def]
    url = reverse("timer-panel", args=[rpm.patient.pk])
    body = login(rpm, role).get(url, **HTMX).content.decode()
    assert "Start RPM timer" in body


@pytest.mark.parametrize("role", ["biller", "auditor"])
def test_readers_see_the_timer_panel_without_start_buttons(
    rpm: PracticeWorld,
    login,  # type: ignore[no-untyped-def]
    role: str,
) -> None:
    response = login(rpm, role).get(reverse("timer-panel", args=[rpm.patient.pk]), **HTMX)
    assert response.status_code == 200
    assert "Start RPM timer" not in response.content.decode()


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("my-day", "get"),
        ("entry-add", "get"),
        ("timer-start", "post"),
    ],
)
@pytest.mark.parametrize("role", ["biller", "auditor"])
def test_readers_may_not_log_time(
    rpm: PracticeWorld,
    login,  # type: ignore[no-untyped-def]
    name: str,
    method: str,
    role: str,
) -> None:
    args = [] if name == "my-day" else [rpm.patient.pk]
    response = getattr(login(rpm, role), method)(reverse(name, args=args))
    assert response.status_code == 403


def test_the_time_pages_need_a_sign_in(rpm: PracticeWorld, client: Client) -> None:
    response = client.get(reverse("my-day"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_another_practices_patient_is_not_found_on_any_time_page(
    rpm: PracticeWorld,
    other_world: PracticeWorld,
    login,  # type: ignore[no-untyped-def]
) -> None:
    client = login(rpm)
    other = other_world.patient.pk
    assert client.get(reverse("timer-panel", args=[other]), **HTMX).status_code == 404
    assert client.post(reverse("timer-start", args=[other]), {"program": "RPM"}).status_code == 404
    assert client.get(reverse("entry-add", args=[other])).status_code == 404
    assert Timer.objects.count() == 0


def test_another_practices_entry_and_timer_are_not_found(
    rpm: PracticeWorld,
    other_world: PracticeWorld,
    login,  # type: ignore[no-untyped-def]
) -> None:
    EnrollmentFactory(
        patient=other_world.patient,
        program="RPM",
        billing_practitioner=other_world.user("practitioner"),
        started_on=date(2026, 9, 1),
        consent_on=date(2026, 9, 3),
    )
    entry = _log(other_world)
    timer = services.start_timer(
        ctx=other_world.ctx(), patient=other_world.patient, program="RPM", now=NOW
    )
    client = login(rpm)
    assert client.get(reverse("entry-history", args=[entry.pk])).status_code == 404
    assert client.get(reverse("entry-amend", args=[entry.pk])).status_code == 404
    assert client.post(reverse("entry-void", args=[entry.pk]), {"reason": "x"}).status_code == 404
    stop = reverse("timer-stop", args=[timer.pk])
    assert client.post(stop, {"kind": "video", "outcome": "reached"}).status_code == 404
    discard = reverse("timer-discard", args=[timer.pk])
    assert client.post(discard, {"reason": "mine now"}).status_code == 404
    entry.refresh_from_db()
    assert not entry.voided
    assert Timer.objects.get(pk=timer.pk).running


def test_writes_refuse_get(rpm: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    client = login(rpm)
    assert client.get(reverse("timer-start", args=[rpm.patient.pk])).status_code == 405


def test_writes_need_the_csrf_token(rpm: PracticeWorld) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(rpm.user("coordinator"))
    response = client.post(reverse("timer-start", args=[rpm.patient.pk]), {"program": "RPM"})
    assert response.status_code == 403
    assert Timer.objects.count() == 0


# --- the timer -------------------------------------------------------------------------------


def test_the_patient_page_loads_the_timer_and_the_month_panel(rpm: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    body = login(rpm).get(reverse("patient-detail", args=[rpm.patient.pk])).content.decode()
    assert reverse("timer-panel", args=[rpm.patient.pk]) in body
    assert reverse("patient-month", args=[rpm.patient.pk]) in body
    assert "timelog/timer.js" in body


def test_starting_the_timer_shows_the_running_clock_from_the_server(
    rpm: PracticeWorld,
    login,  # type: ignore[no-untyped-def]
) -> None:
    client = login(rpm)
    response = client.post(
        reverse("timer-start", args=[rpm.patient.pk]), {"program": "RPM"}, **HTMX
    )
    timer = Timer.objects.get()
    assert (timer.user, timer.program, timer.started_at) == (rpm.user("coordinator"), "RPM", NOW)
    body = response.content.decode()
    assert f'data-started-at="{NOW.isoformat()}"' in body
    assert "Stop and save" in body
    assert AuditEvent.objects.filter(event="timer.started").count() == 1


def test_a_reload_or_a_second_tab_shows_the_same_running_timer(rpm: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    timer = _start(rpm, minutes_ago=7)
    body = login(rpm).get(reverse("timer-panel", args=[rpm.patient.pk]), **HTMX).content.decode()
    assert f'data-timer-id="{timer.pk}"' in body
    assert "Start RPM timer" not in body


def test_a_second_start_is_refused_while_a_timer_runs(rpm: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    _start(rpm)
    other = PatientFactory(practice=rpm.practice)
    EnrollmentFactory(patient=other, program="CCM", billing_practitioner=rpm.user("practitioner"))
    response = login(rpm).post(reverse("timer-start", args=[other.pk]), {"program": "CCM"})
    assert response.status_code == 422
    assert "already running" in response.content.decode()
    assert Timer.objects.count() == 1


def test_another_patients_page_points_to_the_running_timer(rpm: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    _start(rpm)
    other = PatientFactory(practice=rpm.practice, family_name="Otherly")
    url = reverse("timer-panel", args=[other.pk])
    body = login(rpm).get(url, **HTMX).content.decode()
    assert "Your timer is running on" in body
    assert "Samename, Mae" in body


def test_stopping_the_timer_saves_the_entry_and_refreshes_the_month(
    rpm: PracticeWorld,
    login,  # type: ignore[no-untyped-def]
) -> None:
    timer = _start(rpm, minutes_ago=12)
    response = login(rpm).post(
        reverse("timer-stop", args=[timer.pk]),
        {"kind": "interactive_call", "outcome": "reached", "summary": SUMMARY},
        **HTMX,
    )
    entry = TimeEntry.objects.get()
    assert (entry.minutes, entry.source, entry.countable) == (12, Source.TIMER, True)
    assert response["HX-Trigger"] == "entry-saved"
    assert "Saved 12 min" in response.content.decode()
    assert "Start RPM timer" in response.content.decode()
    assert not Timer.objects.get().running


def test_stopping_without_htmx_returns_to_the_patient_page(rpm: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    timer = _start(rpm, minutes_ago=12)
    response = login(rpm).post(
        reverse("timer-stop", args=[timer.pk]),
        {"kind": "interactive_call", "outcome": "reached", "summary": SUMMARY},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("patient-detail", args=[rpm.patient.pk])


def test_a_one_sentence_summary_keeps_the_timer_running_and_the_typing(
    rpm: PracticeWorld,
    login,  # type: ignore[no-untyped-def]
) -> None:
    timer = _start(rpm, minutes_ago=12)
    response = login(rpm).post(
        reverse("timer-stop", args=[timer.pk]),
        {"kind": "interactive_call", "outcome": "reached", "summary": "Called the <b>patient</b>."},
        **HTMX,
    )
    body = response.content.decode()
    assert "2 sentences" in body
    assert "Called the &lt;b&gt;patient&lt;/b&gt;." in body
    assert TimeEntry.objects.count() == 0
    assert Timer.objects.get().running


def test_no_to_the_idle_prompt_ends_the_entry_at_the_last_activity(
    rpm: PracticeWorld,
    login,  # type: ignore[no-untyped-def]
) -> None:
    timer = _start(rpm, minutes_ago=40)
    services.touch_timer(ctx=rpm.ctx(), timer=timer, now=NOW - timedelta(minutes=25))
    body = login(rpm).get(reverse("timer-panel", args=[rpm.patient.pk]), **HTMX).content.decode()
    assert "Still working on this patient?" in body
    assert 'data-idle-prompt role="alertdialog" aria-labelledby="idle-h" >' in body  # not hidden
    login(rpm).post(
        reverse("timer-stop", args=[timer.pk]),
        {"kind": "interactive_call", "outcome": "reached", "summary": SUMMARY, "trim": "on"},
        **HTMX,
    )
    entry = TimeEntry.objects.get()
    assert entry.ended_at == NOW - timedelta(minutes=25)
    assert entry.minutes == 15


def test_yes_to_the_idle_prompt_touches_the_timer(rpm: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    timer = _start(rpm, minutes_ago=30)
    response = login(rpm).post(reverse("timer-touch", args=[timer.pk]), **HTMX)
    timer.refresh_from_db()
    assert timer.last_activity_at == NOW
    assert "Still working on this patient?" in response.content.decode()  # present, hidden
    assert "data-idle-prompt" in response.content.decode()


def test_the_activity_heartbeat_answers_json(rpm: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    timer = _start(rpm, minutes_ago=3)
    response = login(rpm).post(
        reverse("timer-touch", args=[timer.pk]), HTTP_ACCEPT="application/json"
    )
    assert response.json() == {"running": True, "last_activity_at": NOW.isoformat()}


def test_discarding_needs_a_reason_and_logs_no_time(rpm: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    timer = _start(rpm, minutes_ago=5)
    client = login(rpm)
    url = reverse("timer-discard", args=[timer.pk])
    response = client.post(url, {"reason": ""}, **HTMX)
    assert "This field is required." in response.content.decode()
    assert Timer.objects.get().running
    response = client.post(url, {"reason": "Started on the wrong patient"}, **HTMX)
    timer.refresh_from_db()
    assert (timer.running, timer.discard_reason) == (False, "Started on the wrong patient")
    assert TimeEntry.objects.count() == 0
    assert "Timer discarded" in response.content.decode()


# --- manual entries --------------------------------------------------------------------------


def _manual(client: Client, world: PracticeWorld, **overrides: Any) -> Any:
    data = {
        "program": "RPM",
        "kind": "interactive_call",
        "outcome": "reached",
        "started_at": "2026-11-20T13:00",
        "minutes": "12",
        "summary": SUMMARY,
        "reason": "",
    }
    data.update(overrides)
    return client.post(reverse("entry-add", args=[world.patient.pk]), data)


def test_a_manual_entry_is_read_in_the_practices_zone(rpm: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    response = _manual(login(rpm), rpm)
    assert response.status_code == 302
    entry = TimeEntry.objects.get()
    assert entry.started_at == datetime(2026, 11, 20, 19, 0, tzinfo=UTC)  # 13:00 Chicago
    assert (entry.minutes, entry.source, entry.late) == (12, Source.MANUAL, False)


def test_a_manual_entry_may_give_the_end_time_instead_of_minutes(
    rpm: PracticeWorld,
    login,  # type: ignore[no-untyped-def]
) -> None:
    _manual(login(rpm), rpm, minutes="", ended_time="13:25")
    assert TimeEntry.objects.get().minutes == 25


def test_a_manual_entry_needs_minutes_or_an_end_time(rpm: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    response = _manual(login(rpm), rpm, minutes="")
    assert response.status_code == 422
    assert "minutes" in _errors(response)


def test_an_overlapping_entry_is_refused_on_the_start_field(rpm: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    _log(rpm, ago=timedelta(hours=2))  # 13:00-13:12 Chicago
    response = _manual(login(rpm), rpm, started_at="2026-11-20T13:05")
    assert response.status_code == 422
    assert "Overlaps" in " ".join(_errors(response)["started_at"])
    assert TimeEntry.objects.count() == 1


def test_a_future_entry_is_refused_on_the_end_field(rpm: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    response = _manual(login(rpm), rpm, started_at="2026-11-20T14:55", minutes="30")
    assert "future" in " ".join(_errors(response)["minutes"])
    response = _manual(
        login(rpm), rpm, started_at="2026-11-20T14:55", minutes="", ended_time="15:30"
    )
    assert "future" in " ".join(_errors(response)["ended_time"])


def test_a_late_entry_without_a_reason_is_refused_on_the_reason_field(
    rpm: PracticeWorld,
    login,  # type: ignore[no-untyped-def]
) -> None:
    client = login(rpm)
    response = _manual(client, rpm, started_at="2026-11-16T10:00")
    assert "48 hours" in " ".join(_errors(response)["reason"])
    assert TimeEntry.objects.count() == 0
    _manual(client, rpm, started_at="2026-11-16T10:00", reason="Paper notes from a home visit.")
    entry = TimeEntry.objects.get()
    assert (entry.late, entry.late_reason) == (True, "Paper notes from a home visit.")


def test_a_one_sentence_summary_is_refused_on_the_summary_field_and_nothing_is_lost(
    rpm: PracticeWorld,
    login,  # type: ignore[no-untyped-def]
) -> None:
    response = _manual(login(rpm), rpm, summary="Called the patient.", minutes="17")
    assert "2 sentences" in " ".join(_errors(response)["summary"])
    body = response.content.decode()
    assert "Called the patient." in body
    assert 'value="17"' in body
    assert 'value="2026-11-20T13:00"' in body


def test_a_program_the_patient_is_not_enrolled_in_is_not_offered(rpm: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    response = _manual(login(rpm), rpm, program="CCM")
    assert "program" in _errors(response)
    assert TimeEntry.objects.count() == 0


# --- history, amend, void --------------------------------------------------------------------


@pytest.mark.parametrize("role", ["coordinator", "biller", "auditor"])
def test_every_role_reads_an_entrys_history(rpm: PracticeWorld, login, role: str) -> None:  # type: ignore[no-untyped-def]
    entry = _log(rpm)
    response = login(rpm, role).get(reverse("entry-history", args=[entry.pk]))
    assert response.status_code == 200
    assert ("Void entry" in response.content.decode()) is (role == "coordinator")


def test_amending_keeps_the_old_version_with_who_and_why(rpm: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    entry = _log(rpm)  # 13:00-13:12 Chicago
    client = login(rpm, "manager")
    page = client.get(reverse("entry-amend", args=[entry.pk])).content.decode()
    assert 'value="2026-11-20T13:00"' in page
    response = client.post(
        reverse("entry-amend", args=[entry.pk]),
        {
            "program": "RPM",
            "kind": "interactive_call",
            "outcome": "reached",
            "started_at": "2026-11-20T13:00",
            "ended_at": "2026-11-20T13:20",
            "summary": SUMMARY,
            "reason": "Typed the wrong end time.",
        },
    )
    assert response.status_code == 302
    entry.refresh_from_db()
    assert (entry.version, entry.minutes) == (2, 20)
    history = client.get(reverse("entry-history", args=[entry.pk])).content.decode()
    assert "Typed the wrong end time." in history
    assert "2026-11-20 13:12" in history and "2026-11-20 13:20" in history
    assert history.count("<tr>") == 3  # header and two versions
    assert AuditEvent.objects.filter(event="timeentry.amended").count() == 1


def test_an_amendment_needs_a_reason_and_a_change(rpm: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    entry = _log(rpm)
    data = {
        "program": "RPM",
        "kind": "interactive_call",
        "outcome": "reached",
        "started_at": "2026-11-20T13:00",
        "ended_at": "2026-11-20T13:12",
        "summary": SUMMARY,
        "reason": "",
    }
    client = login(rpm)
    response = client.post(reverse("entry-amend", args=[entry.pk]), data)
    assert "reason" in _errors(response)
    response = client.post(reverse("entry-amend", args=[entry.pk]), {**data, "reason": "Check."})
    assert "Nothing would change." in _errors(response)["reason"]
    entry.refresh_from_db()
    assert entry.version == 1


def test_voiding_keeps_the_entry_and_says_why(rpm: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    entry = _log(rpm)
    client = login(rpm)
    response = client.post(reverse("entry-void", args=[entry.pk]), {"reason": ""})
    assert response.status_code == 422
    response = client.post(reverse("entry-void", args=[entry.pk]), {"reason": "Wrong patient."})
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.voided and entry.void_reason == "Wrong patient."
    history = client.get(reverse("entry-history", args=[entry.pk])).content.decode()
    assert "voided: Wrong patient." in history
    assert "Void entry" not in history
    assert client.get(reverse("entry-amend", args=[entry.pk])).status_code == 302


def test_a_script_in_a_summary_is_escaped_on_the_history_page(rpm: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    entry = _log(rpm, summary="Patient said <script>alert(1)</script> twice. Plan unchanged.")
    body = login(rpm).get(reverse("entry-history", args=[entry.pk])).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


# --- my day ----------------------------------------------------------------------------------


def test_my_day_totals_countable_and_all_minutes_and_lists_the_patients(
    rpm: PracticeWorld,
    login,  # type: ignore[no-untyped-def]
) -> None:
    _log(rpm, minutes=12, ago=timedelta(hours=3))
    _log(rpm, minutes=4, ago=timedelta(hours=2), kind="voicemail", outcome="left_voicemail")
    voided = _log(rpm, minutes=30, ago=timedelta(hours=1, minutes=30))
    services.void_entry(ctx=rpm.ctx(), entry=voided, reason="Duplicate.", now=NOW)
    _log(rpm, minutes=9, ago=timedelta(hours=26))  # yesterday
    _log(rpm, role="manager", minutes=20, ago=timedelta(hours=4))  # someone else
    response = login(rpm).get(reverse("my-day"))
    ctx = response.context
    assert (ctx["countable_minutes"], ctx["total_minutes"]) == (12, 16)
    assert len(ctx["entries"]) == 3
    body = response.content.decode()
    assert reverse("patient-detail", args=[rpm.patient.pk]) in body
    assert "Samename, Mae" in body
    assert AuditEvent.objects.filter(event="timeentry.day_viewed").count() == 1


def test_my_day_shows_an_earlier_day(rpm: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    _log(rpm, minutes=9, ago=timedelta(hours=26))
    response = login(rpm).get(reverse("my-day"), {"day": "2026-11-19"})
    assert response.context["total_minutes"] == 9
    assert login(rpm).get(reverse("my-day"), {"day": "nonsense"}).status_code == 200
