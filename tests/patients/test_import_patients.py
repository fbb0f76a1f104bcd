"""``careledger import-patients``: every row checked first, then all rows stored or none."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from careledger.audit.models import AuditEvent
from careledger.patients.models import Condition, Patient
from tests.conftest import PracticeWorld
from tests.factories import PatientFactory

HEADER = (
    "mrn,given_name,family_name,birth_date,sex,mbi,coverage,qmb,phone,address_line,city,state,"
    "postal_code,coordinator,conditions"
)
GOOD_ROWS = (
    "B2001,Eleanor,Vasquez,1946-02-11,female,1EG4-TE5-MK73,medicare_ffs,no,(217) 555-0142,"
    "412 Walnut Street,Springfield,IL,62704,riverside-coordinator,E11.9:2012-06-01;I10;N18.31",
    "B2002,Harold,Jablonski,1939-09-30,M,2QR7HJ4WC19,,yes,,,,,,,I50.22;J44.9",
    "B2003,Loretta,Mbeki,1952-12-03,F,,medicare_advantage,,,,,il,62563,,",
)
SAMPLE = Path(__file__).resolve().parents[2] / "careledger/demo/samples/patients.csv"

pytestmark = pytest.mark.django_db


def roster(tmp_path: Path, *rows: str, name: str = "roster.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join((HEADER, *rows)) + "\n", encoding="utf-8")
    return path


def run_import(path: Path, *args: str, practice: str = "riverside") -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "import_patients", str(path), "--practice", practice, *args, stdout=out, stderr=err
    )
    return out.getvalue(), err.getvalue()


def refused(path: Path, *args: str, practice: str = "riverside") -> tuple[str, str]:
    err = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command(
            "import_patients",
            str(path),
            "--practice",
            practice,
            *args,
            stdout=io.StringIO(),
            stderr=err,
        )
    assert raised.value.returncode == 2
    return str(raised.value), err.getvalue()


def test_a_good_roster_stores_every_patient_and_condition(
    world: PracticeWorld, tmp_path: Path
) -> None:
    out, err = run_import(roster(tmp_path, *GOOD_ROWS))
    assert out.strip() == "stored 3 patients, 5 conditions in riverside"
    assert err == ""
    eleanor = Patient.objects.get(practice=world.practice, mrn="B2001")
    assert eleanor.mbi == "1EG4TE5MK73"
    assert eleanor.coordinator == world.user("coordinator")
    assert [c.icd10_code for c in eleanor.conditions.order_by("id")] == ["E11.9", "I10", "N18.31"]
    assert eleanor.conditions.get(icd10_code="E11.9").onset_on.isoformat() == "2012-06-01"
    harold = Patient.objects.get(practice=world.practice, mrn="B2002")
    assert (harold.sex, harold.qmb, harold.coverage) == ("male", True, "medicare_ffs")
    loretta = Patient.objects.get(practice=world.practice, mrn="B2003")
    assert (loretta.state, loretta.coverage, loretta.conditions.count()) == (
        "IL",
        "medicare_advantage",
        0,
    )


def test_an_import_is_audited_once_for_the_batch_and_once_per_row(
    world: PracticeWorld, tmp_path: Path
) -> None:
    run_import(roster(tmp_path, *GOOD_ROWS))
    batch = AuditEvent.objects.get(event="patient.imported")
    assert batch.practice == world.practice
    assert batch.actor is None
    assert batch.details == {"source": "roster.csv", "patients": 3, "conditions": 5}
    assert AuditEvent.objects.filter(event="patient.created").count() == 3
    assert AuditEvent.objects.filter(event="condition.added").count() == 5


def test_every_bad_row_is_reported_with_line_and_field_and_nothing_is_stored(
    world: PracticeWorld, tmp_path: Path
) -> None:
    path = roster(
        tmp_path,
        GOOD_ROWS[0],  # line 2
        "B3001,Ada,Badmbi,1950-01-01,female,1SG4TE5MK73,,,,,,,,,I10",  # line 3: S not allowed
        "B3002,Ada,Badcode,1950-01-01,female,,,,,,,,,,E11;Q99.999",  # line 4: category, unknown
        "B2001,Ada,Twice,1950-01-01,female,,,,,,,,,,",  # line 5: MRN of line 2
        "B3003,Ada,Baddate,1950-13-01,female,,,,,,,,,,",  # line 6
        "B3004,,Noname,1950-01-01,female,,,,,,,,,,",  # line 7
        "A1000,Ada,Existing,1950-01-01,female,,,,,,,,,,",  # line 8: MRN already in the practice
    )
    message, err = refused(path)
    assert message == "stored 0 of 7 rows: 6 rows have errors"
    lines = err.splitlines()
    assert f"{path} line 3, field mbi: Character 2 of the MBI ('S') is not allowed there." in lines
    assert any(
        line.startswith(f"{path} line 4, field conditions: E11 is a category") for line in lines
    )
    assert any(line.startswith(f"{path} line 4, field conditions: Q99.999") for line in lines)
    assert f"{path} line 5, field mrn: MRN B2001 is also on line 2." in lines
    assert any(line.startswith(f"{path} line 6, field birth_date:") for line in lines)
    assert any(line.startswith(f"{path} line 7, field given_name:") for line in lines)
    assert any(
        line.startswith(f"{path} line 8, field mrn: MRN A1000 is already used") for line in lines
    )
    assert not any(" line 2," in line for line in lines)
    assert Patient.objects.filter(practice=world.practice).count() == 1
    assert not AuditEvent.objects.filter(event__in=["patient.created", "patient.imported"]).exists()


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ("B4001,Ada,Lovelace,1950-01-01,female,1EG4TE5MK7,,,,,,,,,", "mbi"),
        ("B4001,Ada,Lovelace,1950-01-01,female,,,,,,,,,,E11.99", "conditions"),
        ("B4001,Ada,Lovelace,01/02/1950,female,,,,,,,,,,", "birth_date"),
        ("B4001,Ada,Lovelace,2999-01-01,female,,,,,,,,,,", "birth_date"),
        ("B4001,Ada,,1950-01-01,female,,,,,,,,,,", "family_name"),
        ("B4001,Ada,Lovelace,1950-01-01,woman,,,,,,,,,,", "sex"),
        ("B4001,Ada,Lovelace,1950-01-01,female,,medicaid,,,,,,,,", "coverage"),
        ("B4001,Ada,Lovelace,1950-01-01,female,,,maybe,,,,,,,", "qmb"),
        ("B4001,Ada,Lovelace,1950-01-01,female,,,,,,,,,nobody,", "coordinator"),
        ("B4001,Ada,Lovelace,1950-01-01,female,,,,,,,,,,I10:2999-01-01", "conditions"),
        ("B4001,Ada,Lovelace,1950-01-01,female,,,,,,,,,,I10;I10", "conditions"),
        ("B4001,Ada,Lovelace,1950-01-01,female", "row"),
    ],
)
def test_one_bad_row_among_good_ones_stores_nothing(
    world: PracticeWorld, tmp_path: Path, row: str, field: str
) -> None:
    path = roster(tmp_path, *GOOD_ROWS, row)
    message, err = refused(path)
    assert message == "stored 0 of 4 rows: 1 row has errors"
    assert err.startswith(f"{path} line 5, field {field}: ")
    assert Patient.objects.filter(practice=world.practice).count() == 1


def test_a_dry_run_validates_and_stores_nothing(world: PracticeWorld, tmp_path: Path) -> None:
    out, _ = run_import(roster(tmp_path, *GOOD_ROWS), "--dry-run")
    assert out.strip() == "dry run: 3 rows are valid (3 patients, 5 conditions); nothing stored"
    assert Patient.objects.filter(practice=world.practice).count() == 1
    assert not Condition.objects.exists()
    assert not AuditEvent.objects.filter(event="patient.imported").exists()


def test_a_dry_run_of_a_bad_roster_reports_and_exits_2(
    world: PracticeWorld, tmp_path: Path
) -> None:
    _, err = refused(
        roster(tmp_path, "B5001,Ada,Lovelace,1950-01-01,female,nope,,,,,,,,,"), "--dry-run"
    )
    assert "line 2, field mbi:" in err


def test_a_byte_order_mark_and_crlf_line_endings_are_accepted(
    world: PracticeWorld, tmp_path: Path
) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join((HEADER, *GOOD_ROWS)).encode() + b"\r\n\r\n")
    out, _ = run_import(path)
    assert out.startswith("stored 3 patients")
    assert Patient.objects.get(mrn="B2001").given_name == "Eleanor"


def test_another_practices_mrn_does_not_clash(
    world: PracticeWorld, other_world: PracticeWorld, tmp_path: Path
) -> None:
    PatientFactory(practice=other_world.practice, mrn="B2001")
    run_import(roster(tmp_path, *GOOD_ROWS))
    assert Patient.objects.filter(mrn="B2001").count() == 2
    assert other_world.practice.patients.count() == 2


def test_a_missing_or_unknown_column_is_reported_on_line_1(
    world: PracticeWorld, tmp_path: Path
) -> None:
    path = tmp_path / "columns.csv"
    path.write_text("mrn,given_name,family_name,sex,shoe_size\nB1,Ada,Lovelace,female,9\n")
    message, err = refused(path)
    assert f"{path} line 1, field shoe_size: Unknown column" in err
    assert f"{path} line 1, field birth_date: This required column is missing." in err
    assert message.startswith("stored 0 rows: the file cannot be imported")


def test_a_file_that_is_not_utf8_is_bad_input(world: PracticeWorld, tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes((HEADER + "\nB1,Zoë,Ölund,1950-01-01,female,,,,,,,,,,\n").encode("latin-1"))
    message, _ = refused(path)
    assert "not UTF-8" in message


def test_an_unknown_practice_or_missing_file_is_bad_input(
    world: PracticeWorld, tmp_path: Path
) -> None:
    assert "no practice" in refused(roster(tmp_path, *GOOD_ROWS), practice="nowhere")[0]
    assert "No such file" in refused(tmp_path / "absent.csv")[0]


def test_a_named_manager_is_the_audited_actor(world: PracticeWorld, tmp_path: Path) -> None:
    run_import(roster(tmp_path, *GOOD_ROWS), "--user", "riverside-manager")
    assert AuditEvent.objects.get(event="patient.imported").actor == world.user("manager")
    assert {e.actor for e in AuditEvent.objects.filter(event="patient.created")} == {
        world.user("manager")
    }


def test_a_coordinator_or_a_stranger_may_not_import(
    world: PracticeWorld, other_world: PracticeWorld, tmp_path: Path
) -> None:
    path = roster(tmp_path, *GOOD_ROWS)
    assert "only managers and admins" in refused(path, "--user", "riverside-coordinator")[0]
    assert "not a member" in refused(path, "--user", "lakeside-admin")[0]
    assert Patient.objects.filter(practice=world.practice).count() == 1


def test_the_command_answers_to_its_documented_hyphenated_name() -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "careledger", "import-patients", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "--dry-run" in result.stdout


def test_the_shipped_sample_roster_imports_into_the_demo(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("demo", "--patients", "4", "--today", "2026-03-16", stdout=io.StringIO())
    out, _ = run_import(SAMPLE)
    assert out.strip() == "stored 4 patients, 12 conditions in riverside"
