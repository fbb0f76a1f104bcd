"""The program-fact imports: each row goes through its form's service, the file all or nothing."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from django.core.management import call_command, get_commands, load_command_class
from django.core.management.base import CommandError

from careledger.audit.models import AuditEvent
from careledger.lib.csvcommand import CsvImportCommand
from careledger.programs.models import (
    ApcmAttestation,
    BhiElementsRecord,
    CocmEpisode,
    ComplexCcmRecord,
    RatingScale,
    SetupEvent,
)
from tests.conftest import PracticeWorld
from tests.factories import PatientFactory
from tests.programs.helpers import rpm_device

pytestmark = pytest.mark.django_db


def _file(tmp_path: Path, header: str, *rows: str) -> Path:
    path = tmp_path / "facts.csv"
    path.write_text("\n".join((header, *rows)) + "\n")
    return path


def _run(
    command: str, world: PracticeWorld, path: Path, *extra: str, role: str = "coordinator"
) -> str:
    out = io.StringIO()
    call_command(
        command,
        str(path),
        "--practice",
        world.practice.slug,
        "--user",
        world.user(role).username,
        *extra,
        stdout=out,
    )
    return out.getvalue().strip()


def _refused(
    command: str, world: PracticeWorld, path: Path, *extra: str, role: str = "coordinator"
) -> str:
    err = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command(
            command,
            str(path),
            "--practice",
            world.practice.slug,
            "--user",
            world.user(role).username,
            *extra,
            stdout=io.StringIO(),
            stderr=err,
        )
    assert raised.value.returncode == 2
    return err.getvalue() + str(raised.value)


def _events(name: str) -> int:
    return AuditEvent.objects.filter(event=name).count()


# Set-up events


SETUP = "mrn,program,performed_on,performed_by,device_serial,note"


def test_set_up_events_are_stored_with_their_device_and_an_audit_event_each(
    world: PracticeWorld, tmp_path: Path
) -> None:
    rpm_device(world, world.patient)
    path = _file(
        tmp_path,
        SETUP,
        f"A1000,RPM,2026-03-02,{world.user('practitioner').username},SN-1,cuff fitted",
        "A1000,rtm,2026-03-03,,,",
    )
    assert _run("import_setup_events", world, path) == "stored 2 set-up events in riverside"
    rpm, rtm = SetupEvent.objects.order_by("performed_on")
    assert (rpm.device is not None and rpm.device.serial, rpm.performed_by) == (
        "SN-1",
        world.user("practitioner"),
    )
    assert (rtm.program, rtm.performed_by, rtm.device) == ("RTM", world.user("coordinator"), None)
    assert _events("setup.recorded") == 2


def test_one_bad_set_up_row_stores_nothing_and_each_problem_names_line_and_column(
    world: PracticeWorld, tmp_path: Path
) -> None:
    path = _file(
        tmp_path,
        SETUP,
        "A1000,RPM,2026-03-02,,,",
        "NOPE,RPM,2026-03-02,,,",
        "A1000,CCM,2026-03-02,,,",
        "A1000,RPM,2026-02-30,,,",
        "A1000,RPM,2026-03-02,somebody,,",
        "A1000,RPM,2026-03-02,,SN-404,",
        "A1000,RPM,2099-03-02,,,",
    )
    report = _refused("import_setup_events", world, path)
    for where in (
        "line 3, field mrn",
        "line 4, field program",
        "line 5, field performed_on",
        "line 6, field performed_by",
        "line 7, field device_serial",
        "line 8, field performed_on: This date is in the future.",
    ):
        assert where in report
    assert "line 2," not in report
    assert "stored 0 of 7 rows: 6 rows have errors" in report
    assert not SetupEvent.objects.exists()
    assert _events("setup.recorded") == 0


def test_a_dry_run_checks_every_row_and_stores_nothing(
    world: PracticeWorld, tmp_path: Path
) -> None:
    path = _file(tmp_path, SETUP, "A1000,RPM,2026-03-02,,,")
    out = _run("import_setup_events", world, path, "--dry-run")
    assert out == "dry run: 1 rows are valid; nothing stored"
    assert not SetupEvent.objects.exists()
    assert _events("setup.recorded") == 0


# Rating scales


SCALES = "mrn,instrument,administered_on,score"


def test_rating_scales_are_stored_and_an_out_of_range_score_is_refused_by_the_service(
    world: PracticeWorld, tmp_path: Path
) -> None:
    good = _file(tmp_path, SCALES, "A1000,PHQ-9,2026-03-04,14", "A1000,gad-7,2026-03-04,21")
    assert _run("import_rating_scales", world, good) == "stored 2 rating scales in riverside"
    assert sorted(RatingScale.objects.values_list("instrument", "score")) == [
        ("GAD-7", 21),
        ("PHQ-9", 14),
    ]
    assert _events("rating_scale.recorded") == 2
    bad = _file(
        tmp_path,
        SCALES,
        "A1000,PHQ-9,2026-03-05,3",
        "A1000,GAD-7,2026-03-05,22",
        "A1000,BDI,2026-03-05,3",
        "A1000,PHQ-9,2026-03-05,high",
    )
    report = _refused("import_rating_scales", world, bad)
    assert "line 3, field score: A GAD-7 score is 0 to 21." in report
    assert "line 4, field instrument" in report
    assert "line 5, field score" in report
    assert RatingScale.objects.count() == 2


# Complex-CCM medical decision making


MDM = "mrn,month,mdm,care_plan_revised"


def test_the_practitioner_imports_decision_making_per_patient_month(
    world: PracticeWorld, tmp_path: Path
) -> None:
    second = PatientFactory(practice=world.practice, mrn="B2")
    path = _file(tmp_path, MDM, "A1000,2026-03,moderate,yes", "B2,2026-03,High,")
    out = _run("import_mdm", world, path, role="practitioner")
    assert out == "stored 2 decision-making records in riverside"
    records = {r.patient_id: r for r in ComplexCcmRecord.objects.all()}
    assert (records[world.patient.pk].mdm, records[world.patient.pk].care_plan_revised) == (
        "moderate",
        True,
    )
    assert (records[second.pk].mdm, records[second.pk].month_start_on) == (
        "high",
        date(2026, 3, 1),
    )
    assert records[second.pk].recorded_by == world.user("practitioner")
    assert _events("mdm.recorded") == 2


def test_decision_making_rows_name_their_problems(world: PracticeWorld, tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        MDM,
        "A1000,2026-03,moderate,yes",
        "A1000,2026-03,low,no",
        "A1000,March,low,",
        "A1000,2026-04,extreme,",
        "A1000,2026-05,low,maybe",
    )
    report = _refused("import_mdm", world, path, role="practitioner")
    assert "line 3, field row: Line 2 already gives" in report
    assert "line 4, field month" in report
    assert "line 5, field mdm" in report
    assert "line 6, field care_plan_revised" in report
    assert not ComplexCcmRecord.objects.exists()


def test_only_the_practitioner_may_import_decision_making(
    world: PracticeWorld, tmp_path: Path
) -> None:
    path = _file(tmp_path, MDM, "A1000,2026-03,moderate,yes")
    assert "only the practitioner" in _refused("import_mdm", world, path, role="coordinator")
    assert not ComplexCcmRecord.objects.exists()


# General-BHI service elements


BHI = "mrn,month,validated_rating_scale,bh_care_plan,treatment_coordination,continuity"


def test_bhi_elements_are_stored_per_patient_month(world: PracticeWorld, tmp_path: Path) -> None:
    path = _file(tmp_path, BHI, "A1000,2026-03,yes,yes,no,1", "A1000,2026-02,,,,")
    assert _run("import_bhi_elements", world, path) == "stored 2 BHI element records in riverside"
    march = BhiElementsRecord.objects.get(month_start_on=date(2026, 3, 1))
    assert (
        march.validated_rating_scale,
        march.bh_care_plan,
        march.treatment_coordination,
        march.continuity,
    ) == (True, True, False, True)
    assert _events("bhi_elements.recorded") == 2
    bad = _file(tmp_path, BHI, "A1000,2026-04,si,,,", "A1000,2099-01,,,,")
    report = _refused("import_bhi_elements", world, bad)
    assert "line 2, field validated_rating_scale: Use yes or no." in report
    assert "line 3, field month: This date is in the future." in report
    assert BhiElementsRecord.objects.count() == 2


# CoCM episodes


COCM = "mrn,started_on,psychiatric_consultant,psychiatric_consultant_npi,ended_on"


def test_cocm_episodes_are_started_and_ended_through_the_service(
    world: PracticeWorld, tmp_path: Path
) -> None:
    path = _file(
        tmp_path,
        COCM,
        "A1000,2026-01-05,Dr. Mind,,2026-02-20",
        "A1000,2026-03-02,Dr. Mind,1245319599,",
    )
    assert _run("import_cocm_episodes", world, path) == "stored 2 CoCM episodes in riverside"
    first, second = CocmEpisode.objects.order_by("started_on")
    assert (first.ended_on, second.ended_on) == (date(2026, 2, 20), None)
    assert _events("cocm_episode.started") == 2
    assert _events("cocm_episode.ended") == 1


def test_an_episode_overlapping_one_earlier_in_the_file_is_refused(
    world: PracticeWorld, tmp_path: Path
) -> None:
    path = _file(
        tmp_path,
        COCM,
        "A1000,2026-01-05,Dr. Mind,,",
        "A1000,2026-03-02,Dr. Mind,,",
        "A1000,2026-03-05,,,",
        "A1000,2026-03-06,Dr. Mind,123,",
    )
    report = _refused("import_cocm_episodes", world, path)
    assert "line 3, field started_on: The patient has a CoCM episode open then" in report
    assert "line 4, field psychiatric_consultant" in report
    assert "line 5, field psychiatric_consultant_npi" in report
    assert not CocmEpisode.objects.exists()
    assert _events("cocm_episode.started") == 0


# APCM attestations


APCM = "effective_on,practitioner,access_24_7,continuity,responsible_for_primary_care"


def test_apcm_attestations_are_imported_by_a_biller(world: PracticeWorld, tmp_path: Path) -> None:
    doctor = world.user("practitioner").username
    path = _file(tmp_path, APCM, "2026-01-01,,yes,yes,yes", f"2026-03-15,{doctor},yes,yes,no")
    out = _run("import_apcm_attestations", world, path, role="biller")
    assert out == "stored 2 APCM attestations in riverside"
    practice_wide, own = ApcmAttestation.objects.order_by("effective_on")
    assert (practice_wide.practitioner, practice_wide.responsible_for_primary_care) == (None, True)
    assert (own.practitioner, own.responsible_for_primary_care) == (
        world.user("practitioner"),
        False,
    )
    assert _events("apcm_attestation.recorded") == 2
    bad = _file(tmp_path, APCM, f"2026-04-01,{world.user('coordinator').username},yes,yes,yes")
    report = _refused("import_apcm_attestations", world, bad, role="biller")
    assert "line 2, field practitioner: APCM is billed by a physician or QHP." in report
    assert ApcmAttestation.objects.count() == 2


def test_a_coordinator_may_not_import_attestations(world: PracticeWorld, tmp_path: Path) -> None:
    path = _file(tmp_path, APCM, "2026-01-01,,yes,yes,yes")
    assert "only billers, managers and admins" in _refused("import_apcm_attestations", world, path)


# The shared command shape (careledger.lib.csvcommand)


IMPORTS = (
    "import_patients",
    "import_entries",
    "import_visits",
    "import_other_claims",
    "import_setup_events",
    "import_rating_scales",
    "import_mdm",
    "import_bhi_elements",
    "import_cocm_episodes",
    "import_apcm_attestations",
)


def test_every_csv_import_command_shares_one_base() -> None:
    commands = get_commands()
    for name in IMPORTS:
        assert isinstance(load_command_class(commands[name], name), CsvImportCommand), name


@pytest.mark.parametrize("command", IMPORTS)
def test_every_import_refuses_an_unknown_practice_and_an_unreadable_file_with_exit_2(
    command: str, world: PracticeWorld, tmp_path: Path
) -> None:
    role = "practitioner" if command == "import_mdm" else "manager"
    manager = ("--user", world.user(role).username)
    path = tmp_path / "latin1.csv"
    path.write_bytes("mrn\nJos\xe9\n".encode("latin-1"))
    for args, message in (
        (("--practice", "nowhere"), "no practice with slug 'nowhere'"),
        (("--practice", world.practice.slug), "is not UTF-8 text"),
    ):
        with pytest.raises(CommandError) as raised:
            call_command(command, str(path), *args, *manager, stdout=io.StringIO())
        assert raised.value.returncode == 2
        assert message in str(raised.value)
    with pytest.raises(CommandError) as missing:
        call_command(
            command, str(tmp_path / "absent.csv"), "--practice", world.practice.slug, *manager
        )
    assert missing.value.returncode == 2
    assert "No such file or directory" in str(missing.value)


# The upload pages


def test_the_import_list_shows_only_the_imports_the_role_may_use(
    world: PracticeWorld,
    login,  # type: ignore[no-untyped-def]
) -> None:
    page = login(world, "coordinator").get("/programs/import/")
    assert page.status_code == 200
    assert b"/programs/import/setup-events/" in page.content
    assert b"/programs/import/mdm/" not in page.content
    assert b"/programs/import/apcm-attestations/" not in page.content


def test_an_upload_page_stores_every_row_or_shows_each_problem(
    world: PracticeWorld,
    login,  # type: ignore[no-untyped-def]
) -> None:
    client = login(world, "coordinator")
    url = "/programs/import/rating-scales/"
    assert client.get(url).status_code == 200
    bad = io.BytesIO(f"{SCALES}\nA1000,PHQ-9,2026-03-04,14\nA1000,GAD-7,2026-03-04,30\n".encode())
    bad.name = "scales.csv"
    shown = client.post(url, {"file": bad})
    assert shown.status_code == 422  # refused, as every import page answers (case 14)
    assert shown.context["report"].problems[0].line == 3
    assert b"Nothing was stored" in shown.content
    assert not RatingScale.objects.exists()
    good = io.BytesIO(f"{SCALES}\nA1000,PHQ-9,2026-03-04,14\n".encode())
    good.name = "scales.csv"
    assert client.post(url, {"file": good}).status_code == 302
    assert RatingScale.objects.get().recorded_by == world.user("coordinator")
    assert _events("rating_scale.recorded") == 1


def test_an_upload_page_declares_its_forms_permission(
    world: PracticeWorld,
    login,  # type: ignore[no-untyped-def]
) -> None:
    assert login(world, "coordinator").get("/programs/import/mdm/").status_code == 403
    assert login(world, "practitioner").get("/programs/import/mdm/").status_code == 200
    assert login(world, "biller").get("/programs/import/setup-events/").status_code == 403
