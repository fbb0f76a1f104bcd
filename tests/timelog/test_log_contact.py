"""Logging contacts: every validation rule with its field, countability, amendments, timers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from careledger.audit.models import AuditEvent
from careledger.locks.models import MonthLock
from careledger.timelog import services
from careledger.timelog.models import TimeEntry, Timer
from tests.conftest import PracticeWorld
from tests.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 21, 0, tzinfo=UTC)  # 15:00 in Chicago
SUMMARY = "Reviewed home blood pressure readings with the patient. Reinforced the low-salt diet."


@pytest.fixture
def rpm(world: PracticeWorld) -> PracticeWorld:
    EnrollmentFactory(
        patient=world.patient,
        program="RPM",
        billing_practitioner=world.user("practitioner"),
        started_on=date(2026, 9, 1),
        consent_on=date(2026, 9, 3),
    )
    return world


def _contact(minutes: int = 12, ago: timedelta = timedelta(hours=2), **overrides: Any):  # type: ignore[no-untyped-def]
    start = NOW - ago
    values: dict[str, Any] = {
        "program": "RPM",
        "kind": "interactive_call",
        "outcome": "reached",
        "started_at": start,
        "ended_at": start + timedelta(minutes=minutes),
        "summary": SUMMARY,
    }
    values.update(overrides)
    return services.Contact(**values)


def _log(world: PracticeWorld, role: str = "coordinator", **kwargs: Any) -> TimeEntry:
    return services.log_contact(
        ctx=world.ctx(role), patient=world.patient, contact=_contact(**kwargs), now=NOW
    )


def _field_error(world: PracticeWorld, field: str, **kwargs: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        _log(world, **kwargs)
    assert field in caught.value.message_dict, caught.value.message_dict
    assert TimeEntry.objects.count() == 0
    return " ".join(caught.value.message_dict[field])


def test_a_reached_call_is_interactive_countable_and_audited(rpm: PracticeWorld) -> None:
    entry = _log(rpm)
    assert (entry.minutes, entry.interactive, entry.countable) == (12, True, True)
    assert entry.credential == "RN"
    assert entry.rule_class == "clinical_staff"
    assert (
        AuditEvent.objects.filter(event="timeentry.created", patient_id=rpm.patient.pk).count() == 1
    )


def test_the_end_must_follow_the_start(rpm: PracticeWorld) -> None:
    assert "after the start" in _field_error(rpm, "ended_at", minutes=0)


def test_an_entry_cannot_end_in_the_future(rpm: PracticeWorld) -> None:
    assert "future" in _field_error(rpm, "ended_at", ago=timedelta(minutes=5), minutes=30)


def test_an_entry_lasts_at_most_four_hours(rpm: PracticeWorld) -> None:
    assert "4 hours" in _field_error(rpm, "ended_at", ago=timedelta(hours=6), minutes=241)


def test_a_countable_entry_needs_two_sentences_of_summary(rpm: PracticeWorld) -> None:
    assert "2 sentences" in _field_error(rpm, "summary", summary="Called patient.")


def test_the_practice_may_ask_for_more_sentences(rpm: PracticeWorld) -> None:
    rpm.practice.min_summary_sentences = 3
    rpm.practice.save()
    _field_error(rpm, "summary")


def test_a_voicemail_needs_one_sentence_and_is_stored_but_not_countable(rpm: PracticeWorld) -> None:
    _field_error(rpm, "summary", kind="voicemail", outcome="left_voicemail", summary="")
    entry = _log(rpm, kind="voicemail", outcome="left_voicemail", summary="Left a message.")
    assert not entry.countable
    assert not entry.interactive
    assert entry.not_countable_reason.startswith("P3")


def test_an_unanswered_call_is_not_interactive_or_countable(rpm: PracticeWorld) -> None:
    entry = _log(rpm, outcome="no_answer", summary="No answer after ten rings.")
    assert (entry.interactive, entry.countable) == (False, False)


def test_non_clinical_staff_time_is_stored_but_never_counts(rpm: PracticeWorld) -> None:
    entry = _log(rpm, role="biller", kind="scheduling", outcome="not_applicable")
    assert not entry.countable
    assert entry.not_countable_reason.startswith("CCM-4")


def test_a_patient_without_an_enrollment_in_the_program_is_refused(rpm: PracticeWorld) -> None:
    assert "no CCM enrollment" in _field_error(rpm, "program", program="CCM")


def test_time_before_consent_is_stored_as_not_countable(world: PracticeWorld) -> None:
    EnrollmentFactory(
        patient=world.patient,
        program="RPM",
        billing_practitioner=world.user("practitioner"),
        started_on=date(2026, 11, 1),
        consent_on=date(2026, 11, 20),
    )
    entry = _log(world, ago=timedelta(days=2))
    assert not entry.countable
    assert "P12" in entry.not_countable_reason


def test_one_person_cannot_log_overlapping_entries_even_for_different_patients(
    rpm: PracticeWorld,
) -> None:
    from tests.factories import PatientFactory

    _log(rpm, ago=timedelta(hours=2), minutes=30)
    other = PatientFactory(practice=rpm.practice)
    EnrollmentFactory(patient=other, program="RPM", billing_practitioner=rpm.user("practitioner"))
    with pytest.raises(ValidationError) as caught:
        services.log_contact(
            ctx=rpm.ctx(),
            patient=other,
            contact=_contact(ago=timedelta(hours=1, minutes=45), minutes=10),
            now=NOW,
        )
    assert "Overlaps" in caught.value.message_dict["started_at"][0]
    # Touching end to start is not an overlap, and another person may log the same minutes.
    _log(rpm, ago=timedelta(hours=1, minutes=30), minutes=10)
    _log(rpm, role="manager", ago=timedelta(hours=2), minutes=30)


def test_an_entry_posted_two_days_late_needs_a_reason_and_is_marked_late(
    rpm: PracticeWorld,
) -> None:
    assert "48 hours" in _field_error(rpm, "reason", ago=timedelta(days=3))
    entry = _log(rpm, ago=timedelta(days=3), reason="Paper log from the home visit.")
    assert entry.late and entry.countable


def test_an_entry_in_a_locked_month_needs_a_reason(rpm: PracticeWorld) -> None:
    MonthLock.objects.create(practice=rpm.practice, month="2026-11", locked_at=NOW)
    assert "locked month" in _field_error(rpm, "reason")
    assert _log(rpm, reason="Found on the fax queue.").late


def test_an_amendment_keeps_the_old_version_with_who_when_and_why(rpm: PracticeWorld) -> None:
    entry = _log(rpm, minutes=12)
    later = NOW + timedelta(minutes=5)
    amended = services.amend_entry(
        ctx=rpm.ctx("manager"),
        entry=entry,
        changes={"ended_at": entry.started_at + timedelta(minutes=22)},
        reason="Call ran longer than first typed.",
        now=later,
    )
    assert amended.minutes == 22
    assert amended.version == 2
    versions = list(entry.history.order_by("history_date"))  # type: ignore[attr-defined]
    assert [v.seconds for v in versions] == [12 * 60, 22 * 60]
    assert versions[1].history_user == rpm.user("manager")
    assert versions[1].history_change_reason == "Call ran longer than first typed."
    event = AuditEvent.objects.get(event="timeentry.amended")
    assert event.details["changed"] == ["ended_at"]


def test_an_amendment_needs_a_reason(rpm: PracticeWorld) -> None:
    entry = _log(rpm)
    with pytest.raises(ValidationError) as caught:
        services.amend_entry(
            ctx=rpm.ctx(), entry=entry, changes={"kind": "video"}, reason=" ", now=NOW
        )
    assert "reason" in caught.value.message_dict


def test_a_voided_entry_stays_on_record_with_its_reason(rpm: PracticeWorld) -> None:
    entry = _log(rpm)
    services.void_entry(ctx=rpm.ctx(), entry=entry, reason="Logged on the wrong patient.", now=NOW)
    entry.refresh_from_db()
    assert entry.voided and entry.void_reason == "Logged on the wrong patient."
    assert TimeEntry.objects.filter(pk=entry.pk).exists()
    # Once voided, its minutes are free again for the same person.
    _log(rpm)


def test_a_timer_survives_reloads_and_allows_one_running_per_user(rpm: PracticeWorld) -> None:
    ctx = rpm.ctx()
    timer = services.start_timer(
        ctx=ctx, patient=rpm.patient, program="RPM", now=NOW - timedelta(minutes=14)
    )
    assert services.running_timer(ctx.user) == timer
    with pytest.raises(ValidationError):
        services.start_timer(ctx=ctx, patient=rpm.patient, program="RPM", now=NOW)
    entry = services.stop_timer(
        ctx=ctx, timer=timer, kind="interactive_call", outcome="reached", summary=SUMMARY, now=NOW
    )
    assert entry.source == "timer" and entry.minutes == 14
    assert services.running_timer(ctx.user) is None
    assert Timer.objects.get(pk=timer.pk).entry == entry
    events = set(AuditEvent.objects.values_list("event", flat=True))
    assert {"timer.started", "timer.stopped", "timeentry.created"} <= events
