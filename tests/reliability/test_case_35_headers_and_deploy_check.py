"""Case 35: production settings pass Django's deploy check; PHI answers carry the safe headers.

Pass: ``careledger check --deploy --fail-level WARNING`` exits 0 with production settings (with
a SQLite and a PostgreSQL ``DATABASE_URL``); pages, htmx fragments and API answers with patient
data send ``Cache-Control: no-store``, HSTS (over HTTPS, as production serves), CSP,
``nosniff`` and frame denial.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from typing import Any

import pytest
from django.test import Client

from tests.conftest import PracticeWorld
from tests.reliability._helpers_b import CARELEDGER, ROOT


@pytest.mark.parametrize(
    "database_url",
    [
        "sqlite:///careledger-deploy-check.sqlite3",
        "postgres://careledger@db.example:5432/careledger",
    ],
    ids=["sqlite", "postgresql"],
)
def test_case_35_production_settings_pass_the_deploy_check_at_warning_level(
    database_url: str,
) -> None:
    env = {
        **os.environ,
        "CARELEDGER_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "careledger.example",
        "DATABASE_URL": database_url,
    }
    result = subprocess.run(
        [str(CARELEDGER), "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNINGS" not in result.stderr


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "htmx"),
    [
        ("/patients/{id}/", False),
        ("/patients/{id}/", True),
        ("/patients/", False),
        ("/api/v1/patients/{id}", False),
    ],
    ids=["page", "htmx-fragment", "list", "api"],
)
def test_case_35_phi_answers_send_no_store_hsts_csp_nosniff_and_frame_denial(
    world: PracticeWorld, settings: Any, api_client: Any, path: str, htmx: bool
) -> None:
    # Production's transport settings (careledger/settings.py, CARELEDGER_ENV=production).
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    url = path.format(id=world.patient.pk)
    if url.startswith("/api/"):
        client = api_client(world.user("coordinator"))
    else:
        client = Client()
        client.force_login(world.user("coordinator"))
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = client.get(url, secure=True, **headers)
    assert response.status_code == 200
    assert b"Samename" in response.content  # patient data, so the headers matter
    assert "no-store" in response["Cache-Control"]
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    if not url.startswith("/api/"):
        assert "default-src 'self'" in response["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
