"""``careledger import-other-claims``: every row checked, all or nothing, exit 2 on bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from careledger.audit.models import AuditEvent
from careledger.programs.models import OtherClaim
from tests.conftest import PracticeWorld

pytestmark = pytest.mark.django_db

HEADER = "mrn,practitioner,code,period_start_on,period_end_on\n"


def _run(world: PracticeWorld, path: Path, *extra: str) -> None:
    call_command(
        "import_other_claims",
        str(path),
        "--practice",
        world.practice.slug,
        "--user",
        world.user("biller").username,
        *extra,
    )


def test_a_valid_file_stores_every_claim_with_its_audit_event(
    world: PracticeWorld, tmp_path: Path
) -> None:
    path = tmp_path / "claims.csv"
    path.write_text(HEADER + "A1000,Dr. Elsewhere,99454,2026-03-01,2026-03-30\n")
    _run(world, path)
    claim = OtherClaim.objects.get()
    assert (claim.code, claim.source, claim.patient_id) == ("99454", "import", world.patient.pk)
    assert AuditEvent.objects.filter(event="other_claim.imported").count() == 1


def test_one_bad_row_stores_nothing_and_names_line_and_field(
    world: PracticeWorld, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "claims.csv"
    path.write_text(
        HEADER
        + "A1000,Dr. Elsewhere,99454,2026-03-01,2026-03-30\n"
        + "A1000,Dr. Elsewhere,99454,2026-03-31,2026-03-01\n"
        + "NOPE,Dr. Elsewhere,99454,2026-03-01,2026-03-30\n"
    )
    with pytest.raises(CommandError) as exc:
        _run(world, path)
    assert exc.value.returncode == 2
    err = capsys.readouterr().err
    assert "line 3, field period_end_on" in err
    assert "line 4, field mrn" in err
    assert OtherClaim.objects.count() == 0


def test_another_practices_mrn_is_not_found(
    world: PracticeWorld, other_world: PracticeWorld, tmp_path: Path
) -> None:
    other_world.patient.mrn = "L1"
    other_world.patient.save()
    path = tmp_path / "claims.csv"
    path.write_text(HEADER + "L1,Dr. X,99454,2026-03-01,2026-03-30\n")
    with pytest.raises(CommandError):
        _run(world, path)
    assert OtherClaim.objects.count() == 0


def test_a_coordinator_may_not_import(world: PracticeWorld, tmp_path: Path) -> None:
    path = tmp_path / "claims.csv"
    path.write_text(HEADER)
    with pytest.raises(CommandError) as exc:
        call_command(
            "import_other_claims",
            str(path),
            "--practice",
            world.practice.slug,
            "--user",
            world.user("coordinator").username,
        )
    assert exc.value.returncode == 2


def test_a_dry_run_stores_nothing(world: PracticeWorld, tmp_path: Path) -> None:
    path = tmp_path / "claims.csv"
    path.write_text(HEADER + "A1000,Dr. Elsewhere,99454,2026-03-01,2026-03-30\n")
    _run(world, path, "--dry-run")
    assert OtherClaim.objects.count() == 0
