"""Case 40: no patient data or secrets in logs, error pages or command output.

Errors are forced on PHI pages and API operations (an exception whose message carries the
patient's name and MBI, as a database error's DETAIL line can), bad input is fed to an import,
and sign-in and token requests fail. Everything logged at DEBUG by every logger (the handlers
careledger configures, and pytest's caplog), every error page and the command output are then
searched for the fixture patient's names and MBI and for the secrets in play (SECRET_KEY, the
API token, the password). Pass: none found.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError
from django.test import Client

from careledger.accounts.models import ApiToken
from tests.conftest import PracticeWorld

pytestmark = pytest.mark.django_db

MBI = "1EG4TE5MK73"
GIVEN, FAMILY = "Mae", "Samename"
PASSWORD_TRIED = "Tr0ub4dor&3-not-the-password"
LOGGERS = ("", "django", "django.request", "django.server", "django.security", "careledger", "axes")


class Captured:
    def __init__(self) -> None:
        self.stream = io.StringIO()
        self.pages: list[bytes] = []

    def text(self, caplog: pytest.LogCaptureFixture) -> str:
        records = "\n".join(
            f"{r.name} {r.getMessage()} {logging.Formatter().formatException(r.exc_info)}"
            if r.exc_info
            else f"{r.name} {r.getMessage()}"
            for r in caplog.records
        )
        pages = "\n".join(p.decode("utf-8", "replace") for p in self.pages)
        return "\n".join((self.stream.getvalue(), records, pages))


@pytest.fixture
def captured(caplog: pytest.LogCaptureFixture) -> Iterator[Captured]:
    """Send every configured handler's output to one buffer; log everything at DEBUG."""
    capture = Captured()
    saved: list[tuple[logging.Logger, int, bool]] = []
    streams: list[tuple[logging.StreamHandler[Any], Any]] = []
    caplog.set_level(logging.DEBUG)
    for name in LOGGERS:
        logger = logging.getLogger(name)
        saved.append((logger, logger.level, logger.propagate))
        logger.setLevel(logging.DEBUG)
        for handler in logger.handlers:
            if (
                isinstance(handler, logging.StreamHandler)
                and handler is not caplog.handler
                and all(handler is not h for h, _ in streams)
            ):
                streams.append((handler, handler.setStream(capture.stream)))
        if name and not logger.propagate:
            logger.addHandler(caplog.handler)
    try:
        yield capture
    finally:
        for handler, stream in streams:
            handler.setStream(stream)
        for logger, level, _ in saved:
            logger.setLevel(level)
            if caplog.handler in logger.handlers and logger.name != "root":
                logger.removeHandler(caplog.handler)


def _secrets(world: PracticeWorld, token: str) -> list[str]:
    patient = world.patient
    return [
        patient.given_name,
        patient.family_name,
        MBI,
        "1EG4-TE5-MK73",
        settings.SECRET_KEY,
        token,
        PASSWORD_TRIED,
    ]


def _leaks(text: str, needles: list[str]) -> list[str]:
    return [needle for needle in needles if needle and needle in text]


def _phi_error(world: PracticeWorld) -> Exception:
    p = world.patient
    # What a database error's DETAIL line can carry: the values of the row.
    return IntegrityError(
        f'duplicate key value violates unique constraint "patient_mbi"\n'
        f"DETAIL:  Key (mbi, given_name, family_name)=({MBI}, {p.given_name}, {p.family_name})"
    )


@pytest.fixture
def phi_world(world: PracticeWorld) -> PracticeWorld:
    world.patient.mbi = MBI
    world.patient.save()
    assert (world.patient.given_name, world.patient.family_name) == (GIVEN, FAMILY)
    return world


def test_case_40_a_crashing_patient_page_logs_and_shows_no_phi_or_secrets(
    phi_world: PracticeWorld,
    captured: Captured,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def crash(*args: Any, **kwargs: Any) -> Any:
        raise _phi_error(phi_world)

    monkeypatch.setattr("careledger.web.views.patients.careplan_panel", crash)
    client = Client(raise_request_exception=False)
    client.force_login(phi_world.user("coordinator"))
    for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
        response = client.get(f"/patients/{phi_world.patient.pk}/", **headers)
        assert response.status_code == 500
        captured.pages.append(response.content)
    text = captured.text(caplog)
    assert "Internal Server Error" in text  # the error itself is logged...
    assert "IntegrityError" in text  # ...with its type and where it happened
    assert _leaks(text, _secrets(phi_world, "")) == []


def test_case_40_a_crashing_api_operation_logs_and_answers_no_phi_or_secrets(
    phi_world: PracticeWorld,
    captured: Captured,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    api_client: Any,
) -> None:
    def crash(*args: Any, **kwargs: Any) -> Any:
        raise _phi_error(phi_world)

    monkeypatch.setattr("careledger.api.patients._with_enrollments", crash)
    key, key_hash = ApiToken.new_key()
    from django.utils import timezone

    now = timezone.now()
    ApiToken.objects.create(
        user=phi_world.user("coordinator"),
        key_hash=key_hash,
        created_at=now,
        expires_at=now + timezone.timedelta(hours=1),
    )
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}", raise_request_exception=False)
    response = client.get(f"/api/v1/patients/{phi_world.patient.pk}")
    assert response.status_code == 500
    captured.pages.append(response.content)
    # Refusals are logged as warnings: they must not carry the token either.
    captured.pages.append(client.get("/api/v1/patients/999999").content)
    captured.pages.append(
        Client(HTTP_AUTHORIZATION="Bearer " + key[::-1]).get("/api/v1/patients").content
    )
    text = captured.text(caplog)
    assert "Internal Server Error" in text
    assert _leaks(text, _secrets(phi_world, key)) == []


def test_case_40_failed_sign_ins_and_token_requests_log_no_password(
    phi_world: PracticeWorld, captured: Captured, caplog: pytest.LogCaptureFixture
) -> None:
    username = phi_world.user("coordinator").username
    page = Client().post("/login/", {"username": username, "password": PASSWORD_TRIED})
    token = Client().post(
        "/api/v1/auth/token",
        json.dumps({"username": username, "password": PASSWORD_TRIED}),
        content_type="application/json",
    )
    assert page.status_code in (200, 401, 403) and token.status_code in (401, 403, 422)
    captured.pages += [page.content, token.content]
    assert _leaks(captured.text(caplog), _secrets(phi_world, "")) == []


def test_case_40_a_bad_import_names_rows_and_fields_but_no_names_or_mbis(
    phi_world: PracticeWorld,
    captured: Captured,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    header = (
        "mrn,given_name,family_name,birth_date,sex,mbi,coverage,qmb,phone,address_line,city,"
        "state,postal_code,coordinator,conditions"
    )
    rows = [
        f"B9001,{GIVEN},{FAMILY},1950-13-01,female,{MBI},,,,,,,,,I10",  # bad birth date
        f"B9002,{GIVEN},{FAMILY},1950-01-01,female,1SG4TE5MK73,,,,,,,,,I10",  # bad MBI
        f"A1000,{GIVEN},{FAMILY},1950-01-01,female,{MBI},,,,,,,,,",  # MRN already used
    ]
    path = tmp_path / "roster.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as refused:
        call_command(
            "import_patients", str(path), "--practice", "riverside", stdout=out, stderr=err
        )
    output = "\n".join((out.getvalue(), err.getvalue(), str(refused.value)))
    assert "line 2, field birth_date" in output  # the error names the row and the field
    needles = [GIVEN, FAMILY, MBI, "1SG4TE5MK73"]
    assert _leaks(output + captured.text(caplog), needles) == []
