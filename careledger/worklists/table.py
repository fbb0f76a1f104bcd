"""The dashboard table's rows, with every display value computed once in Python.

A 500-patient panel's page spent most of its template time resolving per-row lookups,
``{% url %}`` tags, filters and the progress bar's include (bench/panel_dashboard.py). Here each
shown row gets its links (built from one reversed pattern per page), its bar (formatted once per
distinct bar, as ``worklists/_bar.html`` draws it), its band labels and its amount, and is then
printed as one ``<tr>`` (``row_html``), so the page template only loops. Nothing here decides a
number: they all come from the rows.
"""

from dataclasses import dataclass
from decimal import Decimal
from html import escape  # Django's escape, without its lazy-string wrapper: rows call it a lot

from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

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

    @property
    def html(self) -> SafeString:
        """The row's ``<tr>``, as the dashboard's row template printed it."""
        return row_html(self)


def table_rows(rows: list[DashboardRow], *, month_label: str) -> list[TableRow]:
    """Lay out the page's rows; the links are reversed once and each distinct bar drawn once."""
    patient = PatientLink("patient-detail")
    month = PatientLink("patient-month", query=f"?month={month_label}")
    readings = PatientLink("devices:patient-readings")
    bars: dict[Bar, SafeString] = {}
    amounts = AmountTexts()
    out = []
    for d in rows:
        row = d.row
        bar_html = SafeString("")
        if d.bar is not None:
            bar_html = bars.get(d.bar) or bars.setdefault(d.bar, bar_svg(d.bar))
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
                value_text=amounts(row.projected_value),
            )
        )
    return out


_DASH = '<span class="muted">—</span>'
_CONTACT = {
    True: '<span class="badge badge-active">Yes</span>',
    False: '<span class="badge badge-pending">Not yet</span>',
}


def row_html(d: TableRow) -> SafeString:
    """Print one dashboard row; every text value is escaped, as the template did.

    Formatted here rather than by a per-row template: the template engine spent some 0.15 ms
    per row resolving ~60 nodes. The markup is the template's, line for line and byte for byte
    (tests/worklists/test_panel_speed.py renders a row both ways).
    """
    r = d.row
    program = escape(r.program)
    if r.reading_days is not None:
        bands = "".join(
            f'<span class="band {escape(b.css)}" title="{escape(b.title)}">{escape(b.text)}</span>'
            for b in d.bands
        )
        days = (
            f'\n          <a href="{escape(d.readings_href)}" title="Readings behind these days">'
            f'{r.reading_days}</a>\n          <div class="bands">{bands}</div>\n          '
        )
    else:
        days = _DASH
    codes = (
        "".join(f'<span class="code-pill mono">{escape(c)}</span> ' for c in r.codes)
        or '<span class="muted small">Nothing yet</span>'
    )
    if d.flag_labels:
        notes = "".join(f'<span class="flag-note">{escape(x)}</span>' for x in d.flag_labels)
        codes += f'<div class="flags-line">{notes}</div>'
    nxt = r.next_code or r.device_next_code
    next_cell = f'<span class="mono">{escape(nxt)}</span>' if nxt else _DASH
    minutes_needed = f"<strong>{r.minutes_needed}</strong> min" if r.minutes_needed else ""
    days_needed = r.reading_days_needed
    days_needed_cell = (
        f'<div class="small muted">{days_needed} day{"" if days_needed == 1 else "s"}</div>'
        if days_needed
        else ""
    )
    value = f"${d.value_text}" if d.value_text is not None else _DASH
    return mark_safe(  # every text value escaped above
        f'\n      <tr data-patient="{r.patient_id}" data-program="{program}">\n'
        f'        <td><a href="{escape(d.patient_href)}">{escape(r.name)}</a><br>'
        f'<span class="mono muted small">{escape(r.mrn)}</span></td>\n'
        f'        <td><span class="program-tag {escape(d.program_css)}">{program}</span></td>\n'
        '        <td class="num col-minutes">\n'
        f'          <a class="minutes-link" href="{escape(d.month_href)}" data-testid="minutes"'
        f' title="Entries behind these minutes">{r.minutes}</a>\n'
        f"          {d.bar_html}\n"
        "        </td>\n"
        f"        <td>{_CONTACT[bool(r.interactive_contact)]}</td>\n"
        '        <td class="num">\n'
        f"          {days}\n"
        "        </td>\n"
        f'        <td data-testid="codes">{codes}</td>\n'
        f'        <td data-testid="next">{next_cell}</td>\n'
        '        <td class="num" data-testid="needed">\n'
        f"          {minutes_needed}\n"
        f"          {days_needed_cell}\n"
        f"          {'' if r.minutes_needed or days_needed else _DASH}\n"
        "        </td>\n"
        f'        <td class="num">{value}</td>\n'
        "      </tr>\n    "
    )


def bar_svg(bar: Bar) -> SafeString:
    """Draw a row's bar: the markup ``worklists/_bar.html`` renders, byte for byte.

    Formatted here rather than rendered: a panel's page has some 70 distinct bars and the
    template engine took about 0.2 ms for each (tests/worklists/test_panel_speed.py holds the
    two to the same output).
    """
    labels = "".join(
        f" {m.minutes}" + (f" ({escape(m.code)})" if m.code else "") for m in bar.marks
    )
    parts = [
        "\n",
        f'<svg class="minutes-bar row-bar" role="img" aria-label="{bar.minutes} countable minutes;'
        f' marks at{labels}" width="100%" height="30">\n',
        '  <rect class="bar-track" x="0" y="3" width="100%" height="9" rx="4.5"></rect>\n',
    ]
    fill = bar.percent
    head = (
        f'<rect class="bar-fill" x="0" y="3" width="{fill:.2f}%" height="9" rx="4.5"></rect>'
        if fill
        else ""
    )
    parts.append(f"  {head}\n")
    for m in bar.marks:
        reached = " reached" if m.reached else ""
        x = f"{m.percent:.2f}%"
        anchor = "end" if m.percent >= 90 else "start" if m.percent <= 8 else "middle"
        parts.append(
            f'  \n  <line class="bar-mark{reached}" x1="{x}" x2="{x}" y1="0" y2="15"></line>\n'
            f'  <text class="bar-label{reached}" x="{x}" y="27" text-anchor="{anchor}">'
            f"{m.minutes}</text>\n"
        )
    parts.append("  \n</svg>\n")
    return mark_safe("".join(parts))  # numbers, and codes escaped above


def amount_text(value: Decimal | None) -> str | None:
    """Print an amount with two decimals, or None for no amount."""
    # The same filter the template used, so amounts print exactly as before.
    return None if value is None else floatformat(value, 2)


class AmountTexts:
    """``amount_text`` remembered per distinct amount: a page repeats a few fees, and the
    filter (Decimal context, localization) costs some 50 µs a call. One per page, so the
    active locale cannot change under it."""

    def __init__(self) -> None:
        self._seen: dict[Decimal, str | None] = {}

    def __call__(self, value: Decimal | None) -> str | None:
        if value is None:
            return None
        if value not in self._seen:
            self._seen[value] = amount_text(value)
        return self._seen[value]
