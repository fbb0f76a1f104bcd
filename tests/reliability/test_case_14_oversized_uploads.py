"""Case 14: oversized and "bomb" uploads — CSV, X12, XML with entities, huge JSON bodies.

Pass: 413 (too large) or 422 (not importable) within a fixed time and memory, nothing stored;
careledger parses no XML with the standard library's expanding parsers (defusedxml if ever).
"""

from __future__ import annotations

import ast
import json
import resource
import time
from collections.abc import Iterator
from contextlib import contextmanager
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

import careledger
from careledger.devices.models import Reading
from careledger.patients.models import Patient
from careledger.timelog.importer import MAX_BYTES as ENTRIES_MAX_BYTES
from careledger.timelog.models import TimeEntry
from tests.conftest import PracticeWorld
from tests.devices.conftest import Monitored, bp, monitor

pytestmark = pytest.mark.django_db

SECONDS = 5.0
PEAK_BYTES = 128 * 1024 * 1024

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
 <!ENTITY xxe SYSTEM "file:///etc/passwd">
]>
<lolz>&lol9;&xxe;</lolz>
"""
X12_BOMB = (
    b"ISA*00*          *00*          *ZZ*SUBMIT01       *ZZ*05202          *260504*1500*^*00501*"
    b"000000100*0*T*:~GS*HC*SUBMIT01*05202*20260504*1500*100*X*005010X222A1~"
    + b"NM1*IL*1*"
    + b"A" * 200_000
    + b"~" * 1
    + b"HL*1**20*1~" * 50_000
)


@contextmanager
def bounded() -> Iterator[None]:
    """Fail when the block takes longer than SECONDS or grows the process's peak memory by
    more than PEAK_BYTES (ru_maxrss: cheap, unlike tracing every allocation)."""
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    started = time.monotonic()
    yield
    elapsed = time.monotonic() - started
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - peak_before
    assert elapsed < SECONDS, f"took {elapsed:.1f} s"
    assert grown < PEAK_BYTES, f"peak memory grew by {grown / 1e6:.0f} MB"


@pytest.fixture
def rpm(world: PracticeWorld) -> Monitored:
    return monitor(world, slug="acme-riverside")


def _upload(client: Client, content: bytes, name: str = "entries.csv") -> Any:
    return client.post(
        "/time/import/", {"file": SimpleUploadedFile(name, content, content_type="text/csv")}
    )


@pytest.mark.parametrize(
    ("name", "content", "status"),
    [
        ("too-big.csv", b"mrn,staff\n" + b"x" * ENTRIES_MAX_BYTES, 413),
        ("laughs.xml", BILLION_LAUGHS, 422),
        ("claims.837", X12_BOMB, 422),
        ("one-giant-cell.csv", b'mrn,summary\nA1000,"' + b"y" * 1_000_000 + b'"\n', 422),
        ("many-columns.csv", b",".join(b"c%d" % n for n in range(200_000)) + b"\n", 422),
        ("many-rows.csv", b"mrn,staff\n" + b"A1000,x\n" * 600_000, 422),
        ("nul-bytes.csv", b"mrn,staff\n\x00\x00\x00,\x00\n", 422),
    ],
)
def test_the_upload_page_refuses_bombs_quickly_and_stores_nothing(
    world: PracticeWorld,
    login,
    name: str,
    content: bytes,
    status: int,  # type: ignore[no-untyped-def]
) -> None:
    client: Client = login(world, "manager")
    with bounded():
        response = _upload(client, content, name)
    assert response.status_code == status, response.status_code
    assert b"root:" not in response.content  # no external entity was read
    assert b"lollollol" not in response.content
    assert not TimeEntry.objects.exists()


def test_a_readings_body_over_the_request_limit_is_413(rpm: Monitored, api_client) -> None:  # type: ignore[no-untyped-def]
    client: Client = api_client(rpm.world.user("coordinator"))
    body = json.dumps({"readings": [], "pad": "x" * (3 * 1024 * 1024)})
    with bounded():
        response = client.post("/api/v1/readings", data=body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["detail"]


def test_a_readings_batch_over_5000_is_413(rpm: Monitored, api_client) -> None:  # type: ignore[no-untyped-def]
    client: Client = api_client(rpm.world.user("coordinator"))
    body = json.dumps({"readings": [bp(rpm.cuff, f"r{n}") for n in range(5001)]})
    response = client.post("/api/v1/readings", data=body, content_type="application/json")
    assert response.status_code == 413
    assert Reading.objects.count() == 0


def test_deeply_nested_json_bodies_are_422_not_a_crash(rpm: Monitored, api_client) -> None:  # type: ignore[no-untyped-def]
    client: Client = api_client(rpm.world.user("coordinator"))
    body = '{"readings": ' + "[" * 200_000 + "]" * 200_000 + "}"
    with bounded():
        response = client.post("/api/v1/readings", data=body, content_type="application/json")
    assert response.status_code in (413, 422)
    assert Reading.objects.count() == 0


def test_an_oversized_webhook_body_is_413_before_its_signature_is_checked(rpm: Monitored) -> None:
    body = b'{"readings": [], "pad": "' + b"x" * (6 * 1024 * 1024) + b'"}'
    with bounded():
        response = Client().post(
            f"/api/v1/webhooks/{rpm.vendor.slug}/readings",
            data=body,
            content_type="application/json",
            HTTP_X_CARELEDGER_TIMESTAMP=str(int(time.time())),
            HTTP_X_CARELEDGER_SIGNATURE="sha256=00",
        )
    assert response.status_code == 413
    assert Reading.objects.count() == 0


def _command(name: str, path: Path) -> CommandError:
    with pytest.raises(CommandError) as caught:
        call_command(
            name, str(path), "--practice", "riverside", stdout=StringIO(), stderr=StringIO()
        )
    return caught.value


@pytest.mark.parametrize(
    ("command", "content"),
    [
        (
            "import_readings",
            b"device_serial,vendor_reading_id,measured_at,type,unit\n"
            + b"SN-BP1,r,2026-01-01T00:00:00Z,weight,kg\n" * 300_000,
        ),
        ("import_readings", b'vendor_reading_id,measured_at,type\n"' + b"z" * 1_000_000 + b'"\n'),
        ("import_readings", BILLION_LAUGHS),
        ("import_readings", X12_BOMB),
        ("import_patients", b"mrn,given_name\n" + b"x" * (10 * 1024 * 1024 + 1)),
        ("import_patients", BILLION_LAUGHS),
        ("import_entries", b"mrn,staff\n" + b"x" * (5 * 1024 * 1024 + 1)),
        ("import_entries", X12_BOMB),
    ],
)
def test_the_import_commands_refuse_bombs_with_exit_2_quickly(
    rpm: Monitored, tmp_path: Path, command: str, content: bytes
) -> None:
    path = tmp_path / "upload.dat"
    path.write_bytes(content)
    with bounded():
        error = _command(command, path)
    assert error.returncode == 2
    assert Reading.objects.count() == 0
    assert Patient.objects.count() == 1  # the world's own patient only
    assert not TimeEntry.objects.exists()


EXPANDING_PARSERS = ("xml.etree", "xml.dom", "xml.sax", "xml.parsers", "lxml", "xmltodict")


def _imports(tree: ast.AST) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


def test_no_module_parses_xml_except_through_defusedxml() -> None:
    root = Path(careledger.__file__).parent
    offenders = []
    for source in root.rglob("*.py"):
        for name in _imports(ast.parse(source.read_text(encoding="utf-8"))):
            if name.startswith(EXPANDING_PARSERS):
                offenders.append(f"{source.relative_to(root)}: {name}")
    assert offenders == [], "parse XML with defusedxml: " + ", ".join(offenders)
