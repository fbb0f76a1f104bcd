"""A coordinator works the pre-close worklist: a 5-minute call moves a patient to 99457 (Chromium).

The server runs in a subprocess on its own SQLite file (see test_enroll_in_ccm.py for why), so
its clock cannot be frozen: the set-up script logs this month's time relative to the real local
date, and the worklist is opened with ``?as_of=`` its opening day when today is earlier.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect, sync_playwright

from careledger.lib.business_days import pre_close_opens_on, us_federal_holidays
from tests.browser.support import PASSWORD, PRACTICE_ZONE, RESULTS, launch, serve

# The set-up logs each patient's calls (35 minutes at most) by a different nurse, all ending a
# minute before the set-up runs, so they fall in this month once it is 40 minutes old.
NEEDS_MINUTES_INTO_MONTH = 40

SETUP = f"""
from datetime import timedelta
from django.utils import timezone
from careledger.accounts.access import PracticeContext
from careledger.accounts.models import Membership, Practice, User
from careledger.lib.localtime import local_today
from careledger.patients.services import (
    Consent, Order, add_condition, create_patient, enroll, record_visit,
)
from careledger.timelog.services import Contact, log_contact

now = timezone.now()
practice = Practice.objects.create(
    name="Riverside Family Medicine", slug="riverside", timezone="{PRACTICE_ZONE}",
    billing_npi="1234567893",
)

def member(username, first, last, role, credential, npi=""):
    user = User(username=username, first_name=first, last_name=last)
    user.set_password("{PASSWORD}")
    user.save()
    return Membership.objects.create(
        user=user, practice=practice, role=role, credential=credential, npi=npi
    )

coordinator = member("coordinator", "Rosa", "Jimenez", "coordinator", "RN")
doctor = member("practitioner", "Daniel", "Okafor", "practitioner", "MD", npi="1245319599")
ctx = PracticeContext(user=coordinator.user, membership=coordinator, source_ip=None)
today = local_today(practice, now)
SUMMARY = ("Reviewed the week's home readings with the patient and adjusted the plan. "
           "Confirmed medications and the next check-in.")

# (MRN, given, family, program, countable minutes this month)
PEOPLE = [
    ("R1001", "Irene", "Holloway", "RPM", 16),
    ("R1002", "Walter", "Brennan", "RPM", 8),
    ("R1003", "Grace", "Odum", "RPM", 35),
    ("R1004", "Harold", "Finch", "CCM", 17),
    ("R1005", "Lena", "Marsh", "CCM", 24),
    ("R1006", "Otis", "Pryor", "RPM", 0),
]
end = now - timedelta(minutes=1)
for number, (mrn, given, family, program, minutes) in enumerate(PEOPLE):
    nurse = member(f"nurse{{number}}", "Nurse", f"Number{{number}}", "coordinator", "RN")
    nurse_ctx = PracticeContext(user=nurse.user, membership=nurse, source_ip=None)
    patient = create_patient(ctx=ctx, now=now, data={{
        "mrn": mrn, "given_name": given, "family_name": family, "birth_date": "1947-06-02",
        "sex": "female", "mbi": "1EG4TE5MK73", "coverage": "medicare_ffs",
        "phone": "(312) 555-0142", "coordinator": coordinator.user_id,
    }})
    for code in ("I10", "E11.9"):
        add_condition(ctx=ctx, patient=patient, icd10_code=code, now=now)
    # Established (RPM-10): seen by the billing practitioner earlier this year.
    record_visit(ctx=ctx, patient=patient, practitioner=doctor.user, kind="em", em_level=3,
                 visited_on=today - timedelta(days=200), now=now)
    consent = Consent(consent_on=today - timedelta(days=60), method="verbal",
                      obtained_by=coordinator.user, told_cost_sharing=True,
                      told_one_practitioner=True, told_right_to_stop=True)
    order = None
    if program == "RPM":
        order = Order(ordered_on=today - timedelta(days=61), ordering_practitioner=doctor.user,
                      indication="I10")
    enroll(ctx=ctx, patient=patient, program=program, billing_practitioner=doctor.user,
           started_on=today - timedelta(days=60), now=now, consent=consent, order=order)
    if minutes:
        start = end - timedelta(minutes=minutes)
        log_contact(ctx=nurse_ctx, patient=patient, now=now, contact=Contact(
            program=program, kind="interactive_call", outcome="reached",
            started_at=start, ended_at=end, summary=SUMMARY,
        ))
"""


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """Serve a fresh careledger with a small RPM and CCM panel, time logged this month."""
    local = datetime.now(ZoneInfo(PRACTICE_ZONE))
    if local.day == 1 and local.hour == 0 and local.minute < NEEDS_MINUTES_INTO_MONTH:
        # The set-up's calls would fall in the previous month: wait until they would not.
        time.sleep((NEEDS_MINUTES_INTO_MONTH - local.minute) * 60 - local.second)
    with serve(("shell", "-c", SETUP), prefix="careledger-worklist-") as served:
        yield served.url


def worklist_day(today: date) -> date:
    """Return today, or the worklist's opening day when it has not opened yet this month."""
    holidays = us_federal_holidays(today.year)
    return max(today, pre_close_opens_on(today.year, today.month, holidays))


def holloway_row(page: Page):  # type: ignore[no-untyped-def]
    return page.locator("tbody tr", has=page.get_by_role("link", name="Holloway, Irene"))


@pytest.mark.browser
def test_a_coordinator_works_the_worklist_and_the_patient_reaches_99457(server: str) -> None:
    today = datetime.now(ZoneInfo(PRACTICE_ZONE)).date()
    as_of = worklist_day(today)
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if "favicon.ico" in message.location.get("url", ""):
            return
        if message.type == "error" or "Content Security Policy" in message.text:
            problems.append(f"{message.text} @ {message.location}")

    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.on("console", on_console)
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.goto(f"{server}/login/")
            page.get_by_label("Username").fill("coordinator")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            expect(page).to_have_url(f"{server}/patients/")

            # The dashboard: the coordinator's own panel, six rows.
            page.get_by_role("link", name="Dashboard", exact=True).click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Minutes dashboard")
            table = page.get_by_test_id("dashboard-table")
            expect(table.locator("tbody tr")).to_have_count(6)
            row = holloway_row(page)
            expect(row.get_by_test_id("minutes")).to_have_text("16")
            expect(row.get_by_test_id("codes")).to_contain_text("99470")
            expect(row.get_by_test_id("next")).to_contain_text("99457")
            expect(row.get_by_test_id("needed")).to_contain_text("4 min")

            # Filter to RPM: the table swaps in place (htmx) and the totals follow.
            page.get_by_label("Program").select_option("RPM")
            expect(table.locator("tbody tr")).to_have_count(4)
            expect(page).to_have_url(re.compile(r"/worklists/dashboard/\?.*program=RPM"))
            expect(page.get_by_test_id("total-minutes")).to_contain_text("59")

            # The pre-close worklist, on its opening day or later.
            page.goto(f"{server}/worklists/pre-close/?as_of={as_of:%Y-%m-%d}")
            expect(page.get_by_role("heading", level=1)).to_have_text("Pre-close worklist")
            expect(page.get_by_test_id("opens")).to_contain_text("Open since")
            row = holloway_row(page)
            expect(row).to_contain_text("99457")
            expect(row).to_contain_text("4 min")
            RESULTS.mkdir(exist_ok=True)
            page.screenshot(path=str(RESULTS / "worklist.png"), full_page=True)

            # A five-minute call, logged by hand from the patient page.
            row.get_by_role("link", name="Holloway, Irene").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Holloway, Irene")
            page.get_by_role("link", name="Log a contact by hand").click()
            page.get_by_label("Kind").select_option(label="Phone call")
            page.get_by_label("Outcome").select_option(label="Reached patient or caregiver")
            page.get_by_label("Minutes").fill("5")
            page.get_by_label("Clinical summary").fill(
                "Called about two missed morning readings; the cuff battery was flat and she "
                "replaced it. Reviewed this week's average of 142/88 and the low-salt plan."
            )
            page.get_by_role("button", name="Save entry").click()
            expect(page.locator(".flash")).to_contain_text("Logged 5 min of RPM.")

            # She leaves the worklist and reaches 99457 on the dashboard.
            page.goto(f"{server}/worklists/pre-close/?as_of={as_of:%Y-%m-%d}")
            expect(page.get_by_role("heading", level=1)).to_have_text("Pre-close worklist")
            expect(holloway_row(page)).to_have_count(0)
            page.get_by_role("link", name="Dashboard", exact=True).first.click()
            page.get_by_label("Program").select_option("RPM")
            expect(page.get_by_test_id("dashboard-table").locator("tbody tr")).to_have_count(4)
            expect(page.locator("#dash-indicator")).to_have_css("opacity", "0")
            row = holloway_row(page)
            expect(row.get_by_test_id("minutes")).to_have_text("21")
            expect(row.get_by_test_id("codes")).to_contain_text("99457")
            expect(row.get_by_test_id("codes")).not_to_contain_text("99470")
            page.screenshot(path=str(RESULTS / "dashboard.png"), full_page=True)
        finally:
            browser.close()

    assert problems == [], "\n".join(problems)
