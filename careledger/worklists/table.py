"""The dashboard table's rows, with every display value computed once in Python.

A 500-patient panel's page spent most of its template time resolving per-row lookups,
``{% url %}`` tags, filters and the progress bar's include (bench/panel_dashboard.py). Here each
shown row gets its links (built from one reversed pattern per page), its bar (drawn by
``worklists/_bar.html`` once per distinct bar, not once per row), its band labels and its amount,
so the row template only prints. Nothing here decides a number: they all come from the rows.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.template.defaultfilters import floatformat
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString

from careledger.worklists.queries import Bar, DashboardRow, DayBandReach
from careledger.worklists.selectors import PanelRow

# A patient id no database holds, reversed once and replaced per row.
_MARKER = 2_147_483_647


class PatientLink:
    """A URL taking a patient id, reversed once: ``href(42)`` is ``reverse(name, args=[42])``."""

    def __init__(self, name: str, query: str = "") -> None:
        self.head, _, tail = reverse(name, args=[_MARKER]).partition(str(_MARKER))
        self.tail = tail + query

    def href(self, patient_id: int) -> str:
        return f"{self.head}{patient_id}{self.tail}"


@dataclass(frozen=True)
class BandLabel:
    """A reading-day band as the table shows it: its class, title and words."""

    css: str
    title: str
    text: str


def band_label(band: DayBandReach) -> BandLabel:
    """Say whether a band is reached, tight (every remaining day), reachable or out of reach."""
    if band.reached:
        css, words = "band-reached", " ✓"
    elif band.every_remaining_day:
        css, words = "band-tight", " every day"
    elif band.reachable:
        css, words = "band-open", " reachable"
    else:
        css, words = "band-lost", " out of reach"
    return BandLabel(
        css=css, title=f"{band.code}: {band.min_days} reading days", text=f"{band.min_days}{words}"
    )


@dataclass(frozen=True)
class TableRow:
    """One shown row of the dashboard table, ready to print."""

    row: PanelRow
    patient_href: str
    month_href: str
    readings_href: str
    program_css: str
    bar: Bar | None
    bar_html: str
    bands: tuple[BandLabel, ...]
    flag_labels: tuple[str, ...]
    value_text: str | None


def table_rows(rows: list[DashboardRow], *, month_label: str) -> list[TableRow]:
    """Lay out the page's rows; the links are reversed once and each distinct bar drawn once."""
    patient = PatientLink("patient-detail")
    month = PatientLink("patient-month", query=f"?month={month_label}")
    readings = PatientLink("devices:patient-readings")
    bars: dict[Bar, SafeString] = {}
    out = []
    for d in rows:
        row = d.row
        bar_html = SafeString("")
        if d.bar is not None:
            bar_html = bars.get(d.bar) or bars.setdefault(
                d.bar, render_to_string("worklists/_bar.html", {"bar": d.bar})
            )
        out.append(
            TableRow(
                row=row,
                patient_href=patient.href(row.patient_id),
                month_href=month.href(row.patient_id),
                readings_href=readings.href(row.patient_id),
                program_css=f"program-{row.program.lower()}",
                bar=d.bar,
                bar_html=bar_html,
                bands=tuple(band_label(b) for b in d.bands),
                flag_labels=d.flag_labels,
                value_text=_amount(row.projected_value),
            )
        )
    return out


def _amount(value: Decimal | None) -> str | None:
    # The same filter the template used, so amounts print exactly as before.
    return None if value is None else floatformat(value, 2)
