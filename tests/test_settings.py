"""Settings come from the environment exactly as API.md lists."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from careledger.settings import envbool

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("TRUE", True), ("Yes", True), ("0", False), ("false", False), ("NO", False)],
)
def test_booleans_accept_any_case(
    monkeypatch: pytest.MonkeyPatch, raw: str, expected: bool
) -> None:
    monkeypatch.setenv("CARELEDGER_TEST_FLAG", raw)
    assert envbool("CARELEDGER_TEST_FLAG", default=not expected) is expected


def _settings(env: dict[str, str], expr: str) -> str:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "DEBUG", "CARELEDGER_ENV", "SECRET_KEY"}
    }
    clean.update(env)
    code = f"import careledger.settings as s; print(repr(({expr})))"
    result = subprocess.run(
        [sys.executable, "-c", code], env=clean, cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_no_variables_means_sqlite_in_the_project_folder_and_debug() -> None:
    out = _settings({}, "s.DATABASES['default']['ENGINE'], s.DATABASES['default']['NAME'], s.DEBUG")
    assert "sqlite3" in out
    assert str(ROOT) in out
    assert out.endswith("True)")


def test_a_postgres_url_selects_postgresql() -> None:
    out = _settings(
        {"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/careledger"},
        "s.DATABASES['default']['ENGINE']",
    )
    assert out == "'django.db.backends.postgresql'"


def test_debug_off_alone_does_not_switch_on_https_redirects() -> None:
    out = _settings(
        {"DEBUG": "0"},
        "s.DEBUG, getattr(s, 'SECURE_SSL_REDIRECT', False), s.STORAGES['staticfiles']['BACKEND']",
    )
    assert out == "(False, False, 'django.contrib.staticfiles.storage.StaticFilesStorage')"


def test_production_switches_on_hardening_and_refuses_the_development_key() -> None:
    clean = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    clean["CARELEDGER_ENV"] = "production"
    refused = subprocess.run(
        [sys.executable, "-c", "import careledger.settings"],
        env=clean,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert refused.returncode != 0
    assert "SECRET_KEY" in refused.stderr
    out = _settings(
        {"CARELEDGER_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(50)},
        "s.DEBUG, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, "
        "s.SECURE_HSTS_SECONDS, s.REQUIRE_MFA",
    )
    assert out == "(False, True, True, 31536000, True)"


def test_production_settings_pass_the_deploy_check() -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        {
            "CARELEDGER_ENV": "production",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "careledger.example",
        }
    )
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "careledger"),
            "check",
            "--deploy",
            "--fail-level",
            "WARNING",
        ],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
