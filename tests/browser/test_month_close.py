"""A manager closes last month for the demo practice, reviews a line, approves, opens an evidence
packet (its PDF's first page rendered to PNG) and sees the capture-rate chart (Chromium).

The server runs in a subprocess on its own SQLite file with ``careledger demo --patients 30``
(see test_enroll_in_ccm.py for why not pytest-django's live server). When the demo's previous
month would have no line needing review, the setup adds one through the services: an RPM
patient without an order, with a 25-minute call last month (MISSING_ORDER).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pypdfium2
import pytest
from playwright.sync_api import ConsoleMessage, Dialog, expect, sync_playwright

from tests.browser.support import RESULTS, launch, serve

DEMO_PASSWORD = "demo"

# Make sure last month has a needs_review line: only when the demo's own patients give none.
SETUP = """
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo
from django.utils import timezone
from careledger.accounts.access import PracticeContext
from careledger.accounts.models import Membership, Practice
from careledger.billing.close import decide_month
from careledger.billing.months import month_of
from careledger.lib.localtime import local_today
from careledger.patients.services import (
    Consent, add_condition, create_patient, enroll, record_visit,
)
from careledger.timelog.services import Contact, log_contact

now = timezone.now()
practice = Practice.objects.get(slug="riverside")
today = local_today(practice, now)
last = month_of(today.replace(day=1) - timedelta(days=1), practice.timezone)
decided = decide_month(practice=practice, month=last)
if not any(p.review_reasons for ds in decided.values() for d in ds for p in d.proposals):
    coordinator = Membership.objects.get(practice=practice, user__username="coordinator")
    doctor = Membership.objects.get(practice=practice, user__username="practitioner")
    ctx = PracticeContext(user=coordinator.user, membership=coordinator, source_ip=None)
    patient = create_patient(ctx=ctx, now=now, data={
        "mrn": "R9901", "given_name": "Opal", "family_name": "Noorder",
        "birth_date": "1946-02-11", "sex": "female", "mbi": "1EG4TE5MK73",
        "coverage": "medicare_ffs", "phone": "(217) 555-0190", "address_line": "7 Birch Ln",
        "city": "Springfield", "state": "IL", "postal_code": "62704",
        "coordinator": coordinator.user_id,
    })
    for code in ("I10", "E11.9"):
        add_condition(ctx=ctx, patient=patient, icd10_code=code, now=now)
    record_visit(ctx=ctx, patient=patient, practitioner=doctor.user, kind="em", em_level=3,
                 visited_on=last.first_on - timedelta(days=120), now=now)
    started = last.first_on - timedelta(days=40)
    enroll(
        ctx=ctx, patient=patient, program="RPM", billing_practitioner=doctor.user,
        started_on=started, now=now,
        consent=Consent(consent_on=started, method="verbal", obtained_by=coordinator.user,
                        told_cost_sharing=True, told_one_practitioner=True,
                        told_right_to_stop=True),
        order=None,
    )
    zone = ZoneInfo(practice.timezone)
    start = datetime.combine(last.first_on + timedelta(days=9), time(10), zone)
    log_contact(ctx=ctx, patient=patient, now=now, contact=Contact(
        program="RPM", kind="interactive_call", outcome="reached", started_at=start,
        ended_at=start + timedelta(minutes=25),
        summary="Reviewed the home blood pressure log with the patient. Adjusted the salt plan.",
        reason="Entered from the paper call log.",
    ))
print(last.label)
"""


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """Serve a fresh careledger loaded with the demo (30 patients a practice)."""
    with serve(
        ("demo", "--patients", "30"), ("shell", "-c", SETUP), prefix="careledger-close-"
    ) as served:
        yield served.url


@pytest.mark.browser
def test_a_manager_closes_reviews_approves_and_reads_the_evidence_and_analytics(
    server: str,
) -> None:
    dialogs: list[str] = []
    problems: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    def on_console(message: ConsoleMessage) -> None:
        if "favicon.ico" in message.location.get("url", ""):
            return
        if message.type == "error" or "Content Security Policy" in message.text:
            problems.append(f"{message.text} @ {message.location}")

    RESULTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.on("dialog", on_dialog)
            page.on("console", on_console)
            page.on("pageerror", lambda error: problems.append(str(error)))

            page.goto(f"{server}/login/")
            page.get_by_label("Username").fill("manager")
            page.get_by_label("Password").fill(DEMO_PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.get_by_role("link", name="Billing").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Month close")

            # Close last month.
            close = page.get_by_test_id("close-last-month")
            month = close.inner_text().removeprefix("Close ").strip()
            close.click()
            expect(page).to_have_url(f"{server}/billing/{month}/")
            expect(page.get_by_test_id("month-status")).to_have_text("Closed, draft")
            expect(page.locator(".flash")).to_contain_text(f"Closed {month}")

            # Review a line that needs a person: approve it with a reason.
            review = page.locator("tr[data-status=needs_review]").first
            expect(review).to_be_visible()
            line_id = review.get_attribute("data-line")
            reason = review.locator("td").nth(6).inner_text()
            assert reason.strip(), "a needs_review line says why"
            review.get_by_label(f"Reason for line {line_id}").fill(
                "Order confirmed on the signed paper requisition in the chart"
            )
            review.get_by_label(f"Decision for line {line_id}").select_option("approve")
            review.get_by_role("button", name="Save").click()
            decided = page.locator(f"tr[data-line='{line_id}']")
            expect(decided).to_have_attribute("data-status", "approved")
            expect(decided).to_contain_text("Order confirmed on the signed paper requisition")

            # Approve and lock the month.
            page.get_by_test_id("approve-month").click()
            expect(page.get_by_test_id("month-status")).to_have_text("Approved and locked")
            expect(page.get_by_test_id("approve-month")).to_have_count(0)
            page.screenshot(path=str(RESULTS / "month-close.png"), full_page=True)

            # A device-supply patient's evidence packet (reading days), and its PDF's first page.
            supply = page.locator("tr[data-line]").filter(
                has=page.get_by_role("cell", name="99454", exact=True)
            )
            has_supply = supply.count() > 0
            (supply.first if has_supply else decided).locator("td").first.get_by_role(
                "link"
            ).click()
            expect(page.get_by_role("heading", level=1)).to_contain_text("Evidence packet")
            if has_supply:
                # The demo's device patients: each reading day with its date and device.
                day = page.get_by_test_id("evidence-reading-days").first.locator("tbody tr").first
                expect(day).to_contain_text(re.compile(r"\d{4}-\d{2}-\d{2}"))
                expect(page.get_by_test_id("evidence-devices")).to_be_visible()
            expect(
                page.get_by_role("heading", name="Care plan in force", exact=False)
            ).to_be_visible()
            expect(page.get_by_role("heading", name="Device reading days")).to_be_visible()
            pdf_url = page.get_by_test_id("evidence-pdf").get_attribute("href")
            assert pdf_url
            pdf = page.request.get(f"{server}{pdf_url}")
            assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
            document = pypdfium2.PdfDocument(pdf.body())
            first = document[0]
            assert "Evidence packet" in first.get_textpage().get_text_range()
            RESULTS.mkdir(exist_ok=True)
            first.render(scale=2).to_pil().save(RESULTS / "evidence-pdf.png")
            document.close()
            page.screenshot(path=str(RESULTS / "evidence.png"), full_page=True)

            # Capture analytics from the billing sub-navigation: the chart draws.
            page.get_by_test_id("nav-analytics").click()
            expect(page.get_by_role("heading", level=1)).to_contain_text("Capture analytics")
            expect(page.get_by_test_id("analytics-month")).to_have_text(month)
            chart = page.get_by_test_id("capture-chart")
            expect(chart).to_be_visible()
            page.wait_for_function(
                "() => window.Chart && window.Chart.getChart("
                "document.querySelector('[data-capture-chart]')) !== undefined"
            )
            labels = page.evaluate(
                "() => window.Chart.getChart("
                "document.querySelector('[data-capture-chart]')).data.labels"
            )
            assert len(labels) == 12 and labels[-1] == month
            trend = page.get_by_test_id("capture-trend")
            expect(trend.locator("tbody tr")).to_have_count(12)
            expect(trend.locator("tbody tr").first).to_contain_text("approved")
            expect(page.get_by_test_id("analytics-csv")).to_be_visible()
            page.screenshot(path=str(RESULTS / "analytics.png"), full_page=True)
        finally:
            browser.close()

    assert dialogs == []
    assert problems == [], "\n".join(problems)
