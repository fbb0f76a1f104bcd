"""What keeps a 500-patient dashboard fast: no whole-table join, a paused collector, lean rows."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from careledger.billing.facts import build_month_facts
from careledger.billing.months import parse_month
from careledger.lib.collector import collector_paused
from careledger.patients.models import Condition, Patient, Visit
from careledger.worklists import queries, views
from careledger.worklists.queries import DayBandReach
from careledger.worklists.selectors import panel_rows
from careledger.worklists.table import PatientLink, band_label
from tests.conftest import PracticeWorld
from tests.factories import EnrollmentFactory, PatientFactory, log_minutes

pytestmark = pytest.mark.django_db

MONTH = parse_month("2026-04", "America/Chicago")
AS_OF = date(2026, 4, 26)
START = datetime(2026, 4, 6, 15, 0, tzinfo=UTC)
DASHBOARD = "/worklists/dashboard/"


@pytest.fixture(autouse=True)
def _sunday_april_26() -> Iterator[None]:
    with time_machine.travel(datetime(2026, 4, 26, 17, 0, tzinfo=UTC), tick=False):
        yield


def _patient(world: PracticeWorld, program: str, minutes: int, n: int = 0) -> Patient:
    patient = PatientFactory(practice=world.practice, coordinator=world.user("coordinator"))
    enrollment = EnrollmentFactory(
        patient=patient, program=program, billing_practitioner=world.user("practitioner")
    )
    Visit.objects.create(
        patient=patient,
        practitioner=world.user("practitioner"),
        visited_on=date(2026, 1, 5),
        kind="em",
        em_level=3,
        created_at=START,
    )
    Condition.objects.create(
        patient=patient, icd10_code="I10", description="I10", chronic=True, created_at=START
    )
    if minutes:
        log_minutes(enrollment, minutes, start=START + timedelta(hours=n))
    return patient


def test_the_facts_read_conditions_and_visits_without_joining_every_patient(
    world: PracticeWorld,
) -> None:
    # Ordering by the models' Meta.ordering ("patient", ...) joined the whole patient table:
    # a 100,000-row scan per panel on PostgreSQL.
    _patient(world, "CCM", 12)
    with CaptureQueriesContext(connection) as captured:
        build_month_facts(practice=world.practice, month=MONTH, as_of=AS_OF)
    reads = [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].startswith(('SELECT "patients_condition"', 'SELECT "patients_visit"'))
    ]
    assert len(reads) == 2
    assert all('JOIN "patients_patient"' not in sql for sql in reads)


def test_the_facts_still_count_chronic_conditions_and_see_the_visit(world: PracticeWorld) -> None:
    patient = _patient(world, "CCM", 12)
    (built,) = build_month_facts(practice=world.practice, month=MONTH, as_of=AS_OF)[patient.pk]
    assert built.facts.patient.chronic_conditions == 1
    assert built.facts.patient.established_patient is True


def test_the_collector_is_paused_inside_and_resumed_after() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():  # nested: the inner block leaves it to the outer one
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_the_collector_is_resumed_after_an_error() -> None:
    with pytest.raises(ZeroDivisionError), collector_paused():
        _ = 1 / 0
    assert gc.isenabled()


def test_a_collector_someone_else_turned_off_stays_off() -> None:
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_panel_and_the_dashboard_are_built_with_the_collector_paused(
    world: PracticeWorld,
    login,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _patient(world, "RPM", 12)
    seen: list[bool] = []
    original = queries.dashboard_rows

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(gc.isenabled())
        return original(*args, **kwargs)

    monkeypatch.setattr(views.queries, "dashboard_rows", spy)
    assert login(world).get(DASHBOARD).status_code == 200
    assert seen == [False]
    assert gc.isenabled()
    rows = panel_rows(practice=world.practice, month=MONTH, as_of=AS_OF)
    assert len(rows) == 1 and gc.isenabled()


@pytest.mark.parametrize(
    ("name", "query"),
    [("patient-detail", ""), ("patient-month", "?month=2026-04"), ("devices:patient-readings", "")],
)
def test_a_row_link_is_what_reverse_gives(name: str, query: str) -> None:
    link = PatientLink(name, query=query)
    for patient_id in (1, 42, 2_147_483_646):
        assert link.href(patient_id) == reverse(name, args=[patient_id]) + query


def test_every_row_links_to_its_own_patient_and_month(
    world: PracticeWorld,
    login,  # type: ignore[no-untyped-def]
) -> None:
    patients = [_patient(world, program, 16, n) for n, program in enumerate(("RPM", "CCM"))]
    response = login(world).get(DASHBOARD)
    body = response.content.decode()
    for patient in patients:
        assert f'href="{reverse("patient-detail", args=[patient.pk])}"' in body
        assert f'href="{reverse("patient-month", args=[patient.pk])}?month=2026-04"' in body


def test_rows_with_the_same_bar_share_one_drawing(world: PracticeWorld) -> None:
    for n in range(3):
        _patient(world, "RPM", 16, n)
    rows = panel_rows(practice=world.practice, month=MONTH, as_of=AS_OF)
    drawn = queries.dashboard_rows(rows, month=MONTH, as_of=AS_OF)
    assert len({id(d.bar) for d in drawn}) == 1
    assert drawn[0].bar == queries.bar_for("RPM", 16, MONTH, 20)


@pytest.mark.parametrize(
    ("reached", "reachable", "every_day", "css", "text"),
    [
        (True, True, False, "band-reached", "16 ✓"),
        (False, True, True, "band-tight", "16 every day"),
        (False, True, False, "band-open", "16 reachable"),
        (False, False, False, "band-lost", "16 out of reach"),
    ],
)
def test_a_band_says_reached_tight_reachable_or_lost(
    reached: bool, reachable: bool, every_day: bool, css: str, text: str
) -> None:
    label = band_label(DayBandReach("99454", 16, reached, reachable, every_day))
    assert (label.css, label.title, label.text) == (css, "99454: 16 reading days", text)


def test_only_those_who_may_choose_a_panel_read_the_coordinators(
    world: PracticeWorld,
    login,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[int] = []
    original = queries.coordinators

    def spy(practice):  # type: ignore[no-untyped-def]
        asked.append(practice.pk)
        return original(practice)

    monkeypatch.setattr(views.queries, "coordinators", spy)
    assert login(world).get(DASHBOARD).status_code == 200  # the coordinator's own panel
    assert asked == []
    manager = login(world, "manager").get(DASHBOARD)
    assert manager.status_code == 200 and asked == [world.practice.pk]
    assert 'name="coordinator"' in manager.content.decode()


def test_a_bar_is_drawn_as_the_bar_template_draws_it() -> None:
    from django.template.loader import render_to_string

    from careledger.worklists.table import bar_svg

    for program in ("RPM", "CCM", "PCM", "RTM", "BHI"):
        for minutes in (0, 1, 5, 16, 19, 20, 39, 40, 61, 125):
            for target in (None, minutes + 1, minutes + 4):
                bar = queries.bar_for(program, minutes, MONTH, target)
                assert bar is not None
                assert bar_svg(bar) == render_to_string("worklists/_bar.html", {"bar": bar})
    odd = queries.Bar(minutes=3, scale=0, marks=(queries.Mark(2, "<&>", 96.0, True),))
    assert bar_svg(odd) == render_to_string("worklists/_bar.html", {"bar": odd})


# The dashboard row as its template printed it before the rows were formatted in Python.
ROW_TEMPLATE = """{% with r=d.row %}
      <tr data-patient="{{ r.patient_id }}" data-program="{{ r.program }}">
        <td><a href="{{ d.patient_href }}">{{ r.name }}</a><br><span class="mono muted small">{{ r.mrn }}</span></td>
        <td><span class="program-tag {{ d.program_css }}">{{ r.program }}</span></td>
        <td class="num col-minutes">
          <a class="minutes-link" href="{{ d.month_href }}" data-testid="minutes" title="Entries behind these minutes">{{ r.minutes }}</a>
          {{ d.bar_html }}
        </td>
        <td>{% if r.interactive_contact %}<span class="badge badge-active">Yes</span>{% else %}<span class="badge badge-pending">Not yet</span>{% endif %}</td>
        <td class="num">
          {% if r.reading_days is not None %}
          <a href="{{ d.readings_href }}" title="Readings behind these days">{{ r.reading_days }}</a>
          <div class="bands">{% for b in d.bands %}<span class="band {{ b.css }}" title="{{ b.title }}">{{ b.text }}</span>{% endfor %}</div>
          {% else %}<span class="muted">—</span>{% endif %}
        </td>
        <td data-testid="codes">{% for code in r.codes %}<span class="code-pill mono">{{ code }}</span> {% empty %}<span class="muted small">Nothing yet</span>{% endfor %}{% if d.flag_labels %}<div class="flags-line">{% for label in d.flag_labels %}<span class="flag-note">{{ label }}</span>{% endfor %}</div>{% endif %}</td>
        <td data-testid="next">{% if r.next_code %}<span class="mono">{{ r.next_code }}</span>{% elif r.device_next_code %}<span class="mono">{{ r.device_next_code }}</span>{% else %}<span class="muted">—</span>{% endif %}</td>
        <td class="num" data-testid="needed">
          {% if r.minutes_needed %}<strong>{{ r.minutes_needed }}</strong> min{% endif %}
          {% if r.reading_days_needed %}<div class="small muted">{{ r.reading_days_needed }} day{{ r.reading_days_needed|pluralize }}</div>{% endif %}
          {% if not r.minutes_needed and not r.reading_days_needed %}<span class="muted">—</span>{% endif %}
        </td>
        <td class="num">{% if d.value_text is not None %}${{ d.value_text }}{% else %}<span class="muted">—</span>{% endif %}</td>
      </tr>
    {% endwith %}"""  # noqa: E501


@pytest.mark.parametrize(
    ("name", "program", "minutes", "reading_days", "needed", "days_needed", "flags"),
    [
        ('<b>O\'Hara & "Sons"</b>', "RPM", 16, 12, 4, 4, ("NO_CARE_PLAN",)),
        ("Doe, Jane", "CCM", 0, None, 20, None, ()),
        ("Roe, Rick", "RTM", 25, 16, None, 1, ()),
        ("Poe, Pat", "APCM", 0, None, None, None, ("<x>",)),
    ],
)
def test_a_dashboard_row_prints_what_its_template_printed(
    name: str,
    program: str,
    minutes: int,
    reading_days: int | None,
    needed: int | None,
    days_needed: int | None,
    flags: tuple[str, ...],
) -> None:
    from decimal import Decimal

    from django.template import Context, Template

    from careledger.worklists.selectors import PanelRow
    from careledger.worklists.table import row_html, table_rows

    row = PanelRow(
        patient_id=42,
        mrn="M<1>&",
        name=name,
        coordinator_id=None,
        program=program,
        minutes=minutes,
        interactive_contact=bool(minutes),
        reading_days=reading_days,
        codes=("99454", "<c>") if minutes else (),
        flags=flags,
        next_code="99457" if needed else None,
        minutes_needed=needed,
        device_next_code="99445" if days_needed else None,
        reading_days_needed=days_needed,
        entry_ids=(),
        projected_value=Decimal("47.5") if minutes else None,
        period_end_on=date(2026, 4, 30),
    )
    (shown,) = table_rows(queries.dashboard_rows([row], MONTH, AS_OF), month_label="2026-04")
    assert row_html(shown) == Template(ROW_TEMPLATE).render(Context({"d": shown}))


# A worklist row as worklists/_items.html printed it before the rows were formatted in Python.
ITEM_TEMPLATE = """
    <tr data-patient="{{ x.item.row.patient_id }}" data-program="{{ x.item.row.program }}" data-reason="{{ x.item.reason }}" class="{% if x.worked %}worked{% endif %}">
      <td class="num muted">{{ x.rank }}</td>
      <td><a href="{% url 'patient-detail' x.item.row.patient_id %}">{{ x.item.row.name }}</a><br><span class="mono muted small">{{ x.item.row.mrn }}</span></td>
      <td><span class="program-tag program-{{ x.item.row.program|lower }}">{{ x.item.row.program }}</span></td>
      <td class="num"><a href="{% url 'patient-month' x.item.row.patient_id %}?month={{ scope.month.label }}" title="Entries behind these minutes">{{ x.item.row.minutes }}</a></td>
      <td><span class="mono code-pill">{{ x.item.next_code|default:"—" }}</span></td>
      <td class="num">
        {% if x.item.reason == "minutes" %}<strong>{{ x.item.row.minutes_needed }}</strong> min
        {% else %}<strong>{{ x.item.row.reading_days_needed }}</strong> reading day{{ x.item.row.reading_days_needed|pluralize }}<div class="small muted">{{ x.item.row.reading_days }} so far</div>{% endif %}
        {% if x.item.every_remaining_day %}<div><span class="badge badge-pending" title="Only reachable with a reading on every remaining day of the month">Every remaining day</span></div>{% endif %}
      </td>
      <td class="num">{% if x.item.value_at_stake is not None %}<strong>${{ x.item.value_at_stake|floatformat:2 }}</strong>{% else %}<span class="muted" title="No amount in the fee table for this code yet">—</span>{% endif %}</td>
      <td class="num">{% if x.item.value_per_minute is not None %}${{ x.item.value_per_minute|floatformat:2 }}{% else %}<span class="muted">—</span>{% endif %}</td>
      <td class="outreach">
        {% if x.worked %}<span class="badge badge-active" data-testid="worked">Worked</span>{% endif %}
        {% if x.item.assigned_to %}<span class="badge badge-info">{{ x.item.assigned_to }}</span>{% endif %}
        {% if may_assign and x.item.reachable %}
        <form method="post" action="{% url 'worklist-assign' %}" class="assign-form">
          {% csrf_token %}
          <input type="hidden" name="patient" value="{{ x.item.row.patient_id }}">
          <input type="hidden" name="program" value="{{ x.item.row.program }}">
          <input type="hidden" name="month" value="{{ scope.month.label }}">
          {% if scope.as_of != scope.today %}<input type="hidden" name="as_of" value="{{ scope.as_of|date:'Y-m-d' }}">{% endif %}
          {% if query_panel %}<input type="hidden" name="coordinator" value="{{ query_panel }}">{% endif %}
          <label class="visually-hidden" for="assign-{{ x.item.row.patient_id }}-{{ x.item.row.program }}-{{ x.item.reason }}">Assign outreach for {{ x.item.row.name }}</label>
          <select name="assigned_to" id="assign-{{ x.item.row.patient_id }}-{{ x.item.row.program }}-{{ x.item.reason }}">
            <option value="">{% if x.item.assigned_to %}Reassign…{% else %}Assign to…{% endif %}</option>
            {% for pk, label in members %}<option value="{{ pk }}">{{ label }}</option>{% endfor %}
          </select>
          <button type="submit" class="secondary outline compact">Assign</button>
        </form>
        {% elif not x.worked and not x.item.assigned_to %}<span class="muted small">—</span>{% endif %}
      </td>
    </tr>
  """  # noqa: E501


@pytest.mark.parametrize("may_assign", [False, True])
@pytest.mark.parametrize(
    ("reason", "reachable", "worked", "assigned_to", "value"),
    [
        ("minutes", True, False, None, "21.3"),
        ("minutes", True, True, "<b>ann</b>", None),
        ("reading_days", True, False, None, "19.73"),
        ("reading_days", False, True, None, None),
        ("reading_days", False, False, "bob", "8"),
    ],
)
def test_a_worklist_row_prints_what_its_template_printed(
    rf,  # type: ignore[no-untyped-def]
    may_assign: bool,
    reason: str,
    reachable: bool,
    worked: bool,
    assigned_to: str | None,
    value: str | None,
) -> None:
    from decimal import Decimal

    from django.middleware.csrf import get_token
    from django.template import Context, Template

    from careledger.worklists.selectors import PanelRow, WorklistItem

    row = PanelRow(
        patient_id=7,
        mrn="M&7",
        name='<i>O\'Hara, "Al"</i>',
        coordinator_id=None,
        program="RPM",
        minutes=17,
        interactive_contact=True,
        reading_days=12 if reason == "reading_days" else None,
        codes=("99454",),
        flags=(),
        next_code="99457",
        minutes_needed=3,
        device_next_code="99445",
        reading_days_needed=4 if reason == "reading_days" else None,
        entry_ids=(),
        projected_value=None,
    )
    amount = Decimal(value) if value is not None else None
    item = WorklistItem(
        row=row,
        reason=reason,
        reachable=reachable,
        every_remaining_day=reason == "reading_days" and reachable,
        value_at_stake=amount,
        value_per_minute=amount / 3 if amount is not None and reason == "minutes" else None,
        assigned_to=assigned_to,
    )
    listed = views.ListedItem(item=item, worked=worked, rank=3)
    scope = views.Scope(MONTH, date(2026, 4, 20), AS_OF, MONTH, 2, "Panel")
    members = [(5, "Lee, <RN>")]
    request = rf.get("/")
    token = get_token(request)
    assign = None
    if may_assign:
        fixed, options = views._assign_tail(scope, "2", members)
        csrf = f'<input type="hidden" name="csrfmiddlewaretoken" value="{token}">'
        assign = (csrf, fixed, options)
    (shown,) = views._shown([listed], scope, assign=assign)
    context = {
        "x": listed,
        "scope": scope,
        "may_assign": may_assign,
        "members": members,
        "query_panel": "2",
        "csrf_token": token,
    }
    assert shown.html == Template(ITEM_TEMPLATE).render(Context(context))
