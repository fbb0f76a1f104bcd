"""``careledger import-entries`` and the upload page: every row checked, all stored or none."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from careledger.audit.models import AuditEvent
from careledger.timelog import services
from careledger.timelog.importer import MAX_BYTES
from careledger.timelog.models import TimeEntry
from tests.conftest import PracticeWorld
from tests.factories import EnrollmentFactory, PatientFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 21, 0, tzinfo=UTC)  # Friday 15:00 in Chicago
HEADER = "mrn,program,staff,date,start_time,end_time,minutes,kind,outcome,summary,reason"
SUMMARY = "Reviewed home blood pressure readings with the patient. Reinforced the low-salt diet."
COORDINATOR = "riverside-coordinator"
GOOD_ROWS = (
    f"A1000,RPM,{COORDINATOR},2026-11-19,09:00,09:20,,interactive_call,reached,{SUMMARY},",
    f"A1000,ccm,{COORDINATOR},2026-11-19,09:30,,15,care_coordination,not_applicable,{SUMMARY},",
    "A1000,RPM,riverside-practitioner,2026-11-19,09:00,09:12,,video,reached,"
    f'"{SUMMARY} Adjusted the evening dose.",',
)
SAMPLE = Path(__file__).resolve().parents[2] / "careledger/demo/samples/time_entries.csv"


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def enrolled(world: PracticeWorld) -> PracticeWorld:
    for program in ("RPM", "CCM"):
        EnrollmentFactory(
            patient=world.patient,
            program=program,
            billing_practitioner=world.user("practitioner"),
            started_on=date(2026, 9, 1),
            consent_on=date(2026, 9, 3),
        )
    return world


def entries_file(tmp_path: Path, *rows: str, name: str = "entries.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join((HEADER, *rows)) + "\n", encoding="utf-8")
    return path


def run_import(path: Path, *args: str, practice: str = "riverside") -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_entries", str(path), "--practice", practice, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def refused(path: Path, *args: str, practice: str = "riverside") -> tuple[str, str]:
    err = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command(
            "import_entries",
            str(path),
            "--practice",
            practice,
            *args,
            stdout=io.StringIO(),
            stderr=err,
        )
    assert raised.value.returncode == 2
    return str(raised.value), err.getvalue()


def row(
    *,
    mrn: str = "A1000",
    program: str = "RPM",
    staff: str = COORDINATOR,
    on: str = "2026-11-19",
    start: str = "10:00",
    end: str = "10:20",
    minutes: str = "",
    kind: str = "interactive_call",
    outcome: str = "reached",
    summary: str = SUMMARY,
    reason: str = "",
) -> str:
    return ",".join((mrn, program, staff, on, start, end, minutes, kind, outcome, summary, reason))


# The command


def test_a_good_file_stores_every_row_as_an_imported_entry(
    enrolled: PracticeWorld, tmp_path: Path
) -> None:
    out, err = run_import(entries_file(tmp_path, *GOOD_ROWS))
    assert out.strip() == "stored 3 entries (47 minutes) in riverside"
    assert err == ""
    entries = list(TimeEntry.objects.order_by("started_at", "staff__username"))
    assert [(e.program, e.staff.username, e.minutes) for e in entries] == [
        ("RPM", COORDINATOR, 20),
        ("RPM", "riverside-practitioner", 12),
        ("CCM", COORDINATOR, 15),
    ]
    # 09:00 in Chicago in November (CST, UTC-6).
    assert entries[0].started_at == datetime(2026, 11, 19, 15, 0, tzinfo=UTC)
    assert {e.source for e in entries} == {"import"}
    assert entries[0].interactive and entries[0].countable
    assert not entries[0].late
    assert entries[1].credential == "MD"


def test_an_import_is_audited_once_for_the_batch_and_once_per_entry(
    enrolled: PracticeWorld, tmp_path: Path
) -> None:
    run_import(entries_file(tmp_path, *GOOD_ROWS))
    batch = AuditEvent.objects.get(event="timeentry.imported")
    assert batch.practice == enrolled.practice
    assert batch.actor is None
    assert batch.details == {"source": "entries.csv", "entries": 3, "minutes": 47}
    assert AuditEvent.objects.filter(event="timeentry.created").count() == 3
    # Without --user each entry is created by the staff member it belongs to.
    assert all(e.created_by_id == e.staff_id for e in TimeEntry.objects.all())


def test_a_named_manager_creates_the_entries_and_is_the_audited_actor(
    enrolled: PracticeWorld, tmp_path: Path
) -> None:
    run_import(entries_file(tmp_path, *GOOD_ROWS), "--user", "riverside-manager")
    manager = enrolled.user("manager")
    assert AuditEvent.objects.get(event="timeentry.imported").actor == manager
    assert {e.actor for e in AuditEvent.objects.filter(event="timeentry.created")} == {manager}
    assert {e.created_by for e in TimeEntry.objects.all()} == {manager}
    assert {e.staff.username for e in TimeEntry.objects.all()} == {
        COORDINATOR,
        "riverside-practitioner",
    }


def test_three_bad_rows_are_reported_by_line_and_field_and_nothing_is_stored(
    enrolled: PracticeWorld, tmp_path: Path
) -> None:
    path = entries_file(
        tmp_path,
        GOOD_ROWS[0],  # line 2
        row(mrn="Z9999"),  # line 3: no such patient
        GOOD_ROWS[1],  # line 4
        row(start="11:00", end="10:40"),  # line 5: ends before it starts
        row(start="12:00", end="12:10", summary="Called."),  # line 6: one sentence
    )
    message, err = refused(path)
    assert message == "stored 0 of 5 rows: 3 rows have errors"
    assert err.splitlines() == [
        f"{path} line 3, field mrn: No patient of this practice has MRN Z9999.",
        f"{path} line 5, field end_time: The end must be after the start on the same date; "
        "for work past midnight give minutes instead.",
        f"{path} line 6, field summary: Write at least 2 sentences of what happened "
        "(clinical content).",
    ]
    assert not TimeEntry.objects.exists()
    assert not AuditEvent.objects.filter(event__startswith="timeentry.").exists()


def test_two_rows_of_one_file_that_overlap_for_the_same_staff_member_are_reported(
    enrolled: PracticeWorld, tmp_path: Path
) -> None:
    other = PatientFactory(practice=enrolled.practice, mrn="A2000")
    EnrollmentFactory(
        patient=other,
        program="CCM",
        billing_practitioner=enrolled.user("practitioner"),
        started_on=date(2026, 9, 1),
        consent_on=date(2026, 9, 3),
    )
    path = entries_file(
        tmp_path,
        row(start="10:00", end="10:30"),
        row(mrn="A2000", program="CCM", start="10:20", end="10:40"),  # another patient
        row(staff="riverside-practitioner", start="10:00", end="10:30"),  # another person
    )
    message, err = refused(path)
    assert message == "stored 0 of 3 rows: 1 row has errors"
    assert err.splitlines() == [
        f"{path} line 3, field start_time: Overlaps line 2 of this file for the same staff "
        "member; one person cannot log two contacts at the same time."
    ]
    assert not TimeEntry.objects.exists()


def test_a_row_that_overlaps_a_stored_entry_is_reported(
    enrolled: PracticeWorld, tmp_path: Path
) -> None:
    start = datetime(2026, 11, 19, 16, 10, tzinfo=UTC)  # 10:10 in Chicago
    services.log_contact(
        ctx=enrolled.ctx(),
        patient=enrolled.patient,
        contact=services.Contact(
            program="RPM",
            kind="data_review",
            outcome="not_applicable",
            started_at=start,
            ended_at=start + timedelta(minutes=5),
            summary=SUMMARY,
        ),
        now=NOW,
    )
    _, err = refused(entries_file(tmp_path, row(start="10:00", end="10:20")))
    assert "line 2, field start_time: Overlaps entry" in err
    assert TimeEntry.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"mrn": ""}, "mrn", "This field is required."),
        ({"staff": "nobody"}, "staff", "No member of this practice has username 'nobody'."),
        ({"staff": "lakeside-coordinator"}, "staff", "No member of this practice"),
        ({"program": "XYZ"}, "program", "Choose one of: CCM, PCM"),
        ({"program": "BHI"}, "program", "The patient has no BHI enrollment."),
        ({"kind": "chat"}, "kind", "Choose one of: interactive_call"),
        ({"outcome": "maybe"}, "outcome", "Choose one of: reached"),
        ({"on": "11/19/2026"}, "date", "'11/19/2026' is not a date; write YYYY-MM-DD."),
        ({"on": "2026-02-30"}, "date", "2026-02-30 is not a calendar date."),
        ({"start": "9am"}, "start_time", "'9am' is not a time; write HH:MM (24-hour)."),
        ({"end": "24:10"}, "end_time", "24:10 is not a time of day."),
        ({"end": ""}, "end_time", "Give the end_time (HH:MM) or the minutes."),
        ({"end": "", "minutes": "300"}, "minutes", "'300' is not a whole number of minutes"),
        ({"minutes": "25"}, "minutes", "25 minutes does not match the end_time 10:20."),
        (
            {"on": "2026-11-20", "start": "14:50", "end": "15:30"},
            "end_time",
            "An entry cannot end in the future.",
        ),
        ({"outcome": "not_applicable"}, "outcome", "Say whether the call reached the patient."),
        ({"on": "2026-11-10"}, "reason", "This entry is posted more than 48 hours after it ended"),
        ({"summary": ""}, "summary", "Write at least 2 sentences"),
    ],
)
def test_one_bad_row_among_good_ones_stores_nothing(
    enrolled: PracticeWorld,
    other_world: PracticeWorld,
    tmp_path: Path,
    overrides: dict[str, str],
    field: str,
    message: str,
) -> None:
    path = entries_file(tmp_path, *GOOD_ROWS, row(**overrides))
    refusal, err = refused(path)
    assert refusal == "stored 0 of 4 rows: 1 row has errors"
    assert err.startswith(f"{path} line 5, field {field}: {message}"), err
    assert not TimeEntry.objects.exists()


def test_a_late_row_with_a_reason_is_stored_and_marked_late(
    enrolled: PracticeWorld, tmp_path: Path
) -> None:
    run_import(entries_file(tmp_path, row(on="2026-11-10", reason="Moved from the spreadsheet")))
    entry = TimeEntry.objects.get()
    assert entry.late
    assert entry.late_reason == "Moved from the spreadsheet"


def test_a_row_with_the_wrong_number_of_cells_is_reported(
    enrolled: PracticeWorld, tmp_path: Path
) -> None:
    _, err = refused(entries_file(tmp_path, GOOD_ROWS[0], "A1000,RPM"))
    assert "line 3, field row: Expected 11 cells, found 2." in err


def test_another_practices_mrn_is_not_found(
    enrolled: PracticeWorld, other_world: PracticeWorld, tmp_path: Path
) -> None:
    PatientFactory(practice=other_world.practice, mrn="L2000")
    _, err = refused(entries_file(tmp_path, row(mrn="L2000")))
    assert "line 2, field mrn: No patient of this practice has MRN L2000." in err
    # A1000 exists in both practices: the import finds the importing practice's patient.
    run_import(entries_file(tmp_path, GOOD_ROWS[0]))
    assert TimeEntry.objects.get().patient == enrolled.patient


def test_a_dry_run_validates_every_row_and_stores_nothing(
    enrolled: PracticeWorld, tmp_path: Path
) -> None:
    out, _ = run_import(entries_file(tmp_path, *GOOD_ROWS), "--dry-run")
    assert out.strip() == "dry run: 3 rows are valid (3 entries, 47 minutes); nothing stored"
    assert not TimeEntry.objects.exists()
    assert not AuditEvent.objects.filter(event__startswith="timeentry.").exists()


def test_a_dry_run_reports_overlaps_inside_the_file(
    enrolled: PracticeWorld, tmp_path: Path
) -> None:
    path = entries_file(tmp_path, GOOD_ROWS[0], GOOD_ROWS[0])
    message, err = refused(path, "--dry-run")
    assert message == "stored 0 of 2 rows: 1 row has errors"
    assert f"{path} line 3, field start_time: Overlaps line 2" in err


def test_a_byte_order_mark_and_crlf_line_endings_are_accepted(
    enrolled: PracticeWorld, tmp_path: Path
) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join((HEADER, *GOOD_ROWS)).encode() + b"\r\n\r\n")
    out, _ = run_import(path)
    assert out.startswith("stored 3 entries")


def test_columns_come_in_any_order_and_either_end_or_minutes_may_be_left_out(
    enrolled: PracticeWorld, tmp_path: Path
) -> None:
    path = tmp_path / "shuffled.csv"
    path.write_text(
        " Summary ,MINUTES,kind,outcome,staff,mrn,date,start_time,program\n"
        f'"{SUMMARY}",20,data_review,not_applicable,{COORDINATOR},A1000,2026-11-19,08:00,RPM\n'
    )
    run_import(path)
    assert TimeEntry.objects.get().minutes == 20


def test_a_summary_across_several_lines_keeps_the_next_rows_line_numbers(
    enrolled: PracticeWorld, tmp_path: Path
) -> None:
    path = entries_file(
        tmp_path,
        row(summary='"Reviewed readings.\nCalled the patient back."'),  # lines 2-3
        row(mrn="Z1"),  # line 4
    )
    _, err = refused(path)
    assert err.startswith(f"{path} line 4, field mrn:")


def test_a_local_time_skipped_by_daylight_saving_is_reported_on_its_field(
    enrolled: PracticeWorld, tmp_path: Path
) -> None:
    # 2026-03-08 02:30 does not exist in Chicago: clocks jump from 02:00 to 03:00.
    _, err = refused(entries_file(tmp_path, row(on="2026-03-08", start="02:30", end="03:10")))
    assert "line 2, field start_time: 2026-03-08 02:30 does not exist in America/Chicago" in err


def test_a_repeated_local_hour_means_its_first_occurrence(
    enrolled: PracticeWorld, tmp_path: Path
) -> None:
    # 2026-11-01 01:10 happens twice in Chicago; fold=0 is the first (CDT, UTC-5).
    run_import(
        entries_file(
            tmp_path,
            row(on="2026-11-01", start="01:10", end="", minutes="30", reason="From paper notes"),
        )
    )
    entry = TimeEntry.objects.get()
    assert entry.started_at == datetime(2026, 11, 1, 6, 10, tzinfo=UTC)
    assert entry.ended_at == datetime(2026, 11, 1, 6, 40, tzinfo=UTC)


def test_a_missing_or_unknown_column_is_reported_on_line_1(
    enrolled: PracticeWorld, tmp_path: Path
) -> None:
    path = tmp_path / "columns.csv"
    path.write_text("mrn,program,staff,date,start_time,kind,outcome,note\n")
    message, err = refused(path)
    assert f"{path} line 1, field note: Unknown column" in err
    assert f"{path} line 1, field summary: This required column is missing." in err
    assert f"{path} line 1, field end_time: Give an end_time or a minutes column." in err
    assert message.startswith("stored 0 rows: the file cannot be imported")


def test_an_empty_file_or_one_that_is_not_utf8_is_bad_input(
    enrolled: PracticeWorld, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert "line 1, field header: The file is empty" in refused(empty)[1]
    latin = tmp_path / "latin1.csv"
    latin.write_bytes((HEADER + "\n" + row(summary="Zoë called. Ölund too.")).encode("latin-1"))
    assert "not UTF-8" in refused(latin)[0]


def test_an_unknown_practice_or_missing_file_is_bad_input(
    enrolled: PracticeWorld, tmp_path: Path
) -> None:
    assert "no practice" in refused(entries_file(tmp_path, *GOOD_ROWS), practice="nowhere")[0]
    assert "No such file" in refused(tmp_path / "absent.csv")[0]


def test_a_coordinator_or_a_stranger_may_not_import(
    enrolled: PracticeWorld, other_world: PracticeWorld, tmp_path: Path
) -> None:
    path = entries_file(tmp_path, *GOOD_ROWS)
    assert "only managers and admins" in refused(path, "--user", COORDINATOR)[0]
    assert "not a member" in refused(path, "--user", "lakeside-admin")[0]
    assert not TimeEntry.objects.exists()


def test_the_command_answers_to_its_documented_hyphenated_name() -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "careledger", "import-entries", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "--dry-run" in result.stdout
    assert "start_time" in result.stdout


def test_the_shipped_sample_imports_into_the_demo(tmp_path: Path) -> None:
    call_command("demo", "--patients", "6", "--today", "2026-03-16", stdout=io.StringIO())
    with time_machine.travel(datetime(2026, 3, 16, 18, 0, tzinfo=UTC), tick=False):
        out, _ = run_import(SAMPLE)
    assert out.strip() == "stored 8 entries (132 minutes) in riverside"
    assert TimeEntry.objects.filter(source="import", late=True).count() == 8


# The upload page


def upload(client: Client, content: bytes, *, dry_run: bool = False, name: str = "entries.csv"):  # type: ignore[no-untyped-def]
    data: dict[str, object] = {"file": SimpleUploadedFile(name, content, "text/csv")}
    if dry_run:
        data["dry_run"] = "on"
    return client.post(reverse("time-import"), data)


def csv_bytes(*rows: str) -> bytes:
    return ("\n".join((HEADER, *rows)) + "\n").encode()


def test_the_upload_page_shows_the_form_and_the_columns(enrolled: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    response = login(enrolled, "manager").get(reverse("time-import"))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'enctype="multipart/form-data"' in page
    assert 'name="dry_run"' in page
    for column in ("mrn", "start_time", "end_time", "minutes", "summary", "reason"):
        assert f'<td class="mono">{column}</td>' in page


def test_an_upload_stores_every_row_and_says_so(enrolled: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    client = login(enrolled, "admin")
    response = upload(client, csv_bytes(*GOOD_ROWS))
    assert response.status_code == 302
    assert TimeEntry.objects.count() == 3
    assert AuditEvent.objects.get(event="timeentry.imported").actor == enrolled.user("admin")
    page = client.get(response["Location"]).content.decode()
    assert "Stored 3 entries (47 minutes) from entries.csv." in page


def test_an_upload_with_bad_rows_lists_each_one_and_stores_nothing(
    enrolled: PracticeWorld, login
) -> None:  # type: ignore[no-untyped-def]
    response = upload(
        login(enrolled, "manager"),
        csv_bytes(GOOD_ROWS[0], row(mrn="Z9999"), row(staff="nobody"), row(kind="chat")),
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "3 of 4 rows in entries.csv have errors" in page
    assert '<td class="num">3</td><td class="mono">mrn</td>' in page
    assert '<td class="num">4</td><td class="mono">staff</td>' in page
    assert '<td class="num">5</td><td class="mono">kind</td>' in page
    assert not TimeEntry.objects.exists()


def test_a_dry_run_upload_stores_nothing(enrolled: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    response = upload(login(enrolled, "manager"), csv_bytes(*GOOD_ROWS), dry_run=True)
    assert response.status_code == 200
    assert "all 3 rows are valid (3 entries, 47 minutes). Nothing was stored." in (
        response.content.decode()
    )
    assert not TimeEntry.objects.exists()


def test_a_file_over_5_mb_is_refused_with_a_clear_message(enrolled: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    response = upload(login(enrolled, "manager"), b"x" * (MAX_BYTES + 1))
    assert response.status_code == 413
    assert "the limit is 5 MB. Split it into smaller files." in response.content.decode()
    assert not TimeEntry.objects.exists()


def test_a_file_that_is_not_utf8_is_refused_on_the_page(enrolled: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    response = upload(login(enrolled, "manager"), csv_bytes(row()).replace(b"Reviewed", b"\xff"))
    assert "The file is not UTF-8 text" in response.content.decode()


def test_a_post_without_a_file_asks_for_one(enrolled: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    response = login(enrolled, "manager").post(reverse("time-import"), {})
    assert response.status_code == 422
    assert "This field is required." in response.content.decode()


@pytest.mark.parametrize("role", ["coordinator", "practitioner", "biller", "auditor"])
def test_only_managers_and_admins_may_open_or_post_the_upload_page(
    enrolled: PracticeWorld, login, role: str
) -> None:  # type: ignore[no-untyped-def]
    client = login(enrolled, role)
    assert client.get(reverse("time-import")).status_code == 403
    assert upload(client, csv_bytes(*GOOD_ROWS)).status_code == 403
    assert not TimeEntry.objects.exists()


def test_the_upload_needs_a_csrf_token(enrolled: PracticeWorld) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(enrolled.user("manager"))
    assert upload(client, csv_bytes(*GOOD_ROWS)).status_code == 403
    assert not TimeEntry.objects.exists()


def test_a_signed_out_visitor_is_sent_to_sign_in(client: Client) -> None:
    response = client.get(reverse("time-import"))
    assert response.status_code == 302
    assert "login" in response["Location"]
