"""The minutes dashboard, the pre-close worklist and the practice's fee page.

Every number comes from ``panel_rows`` / ``pre_close_worklist`` (the one facts builder and the
engine); these views parse the request, authorize, call one selector or service, and render.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from html import escape  # Django's escape, without its lazy-string wrapper: rows call it a lot
from typing import Any, cast
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from careledger.accounts.access import PracticeContext, ctx_of, requires
from careledger.accounts.models import User
from careledger.accounts.roles import Role
from careledger.audit.services import record_event
from careledger.billing.months import LocalMonth, month_of, parse_month
from careledger.lib.collector import collector_paused
from careledger.lib.localtime import local_today
from careledger.patients.access import patient_for
from careledger.patients.models import Program
from careledger.worklists import queries, services
from careledger.worklists.forms import (
    SORTS,
    WHOLE_PRACTICE,
    AssignForm,
    DashboardForm,
    FeeForm,
    PanelForm,
)
from careledger.worklists.selectors import (
    WorklistItem,
    panel_rows,
    pre_close_worklist,
    worklist_opens_on,
)
from careledger.worklists.table import AmountTexts, PatientLink, table_rows

ROWS_PER_PAGE = 100
CSV_INJECTION_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Scope:
    """The month, the day the engine decides as of, and whose panel."""

    month: LocalMonth
    as_of: date
    today: date
    current: LocalMonth
    coordinator_id: int | None
    panel_label: str

    @property
    def params(self) -> dict[str, str]:
        out = {"month": self.month.label}
        if self.as_of != self.today:
            out["as_of"] = self.as_of.isoformat()
        return out


def _scope(ctx: PracticeContext, form: PanelForm) -> Scope:
    """Read month, as_of and panel from a (validated) form; values that do not parse drop."""
    data = form.cleaned_data
    tz = ctx.practice.timezone
    today = local_today(ctx.practice, timezone.now())
    current = month_of(today, tz)
    as_of_asked: date | None = data.get("as_of")
    month = parse_month(data["month"], tz) if data.get("month") else None
    if month is None:
        month = month_of(as_of_asked, tz) if as_of_asked else current
    if month.first_on > current.first_on:
        month = current  # no months that have not started
    # ``as_of`` is honoured within the month shown (e.g. a preview of the worklist's opening day).
    in_month = as_of_asked is not None and month.first_on <= as_of_asked <= month.last_on
    as_of = as_of_asked if in_month and as_of_asked is not None else today
    names = dict(form.fields["coordinator"].choices) if "coordinator" in form.fields else {}  # type: ignore[attr-defined]
    chosen = data.get("coordinator") or ""
    if "coordinator" not in form.fields:
        return Scope(month, as_of, today, current, ctx.user.pk, "Your panel")
    if chosen and chosen != WHOLE_PRACTICE:
        return Scope(month, as_of, today, current, int(chosen), f"{names[chosen]}'s panel")
    return Scope(month, as_of, today, current, None, "Whole practice")


def _panel_form(form_class: type[PanelForm], ctx: PracticeContext, data: QueryDict) -> PanelForm:
    # A coordinator works their own panel; every other role may choose one or the whole practice
    # (so only they need the list of coordinators: one query fewer on a coordinator's page).
    may_choose = ctx.role != Role.COORDINATOR
    coordinators = queries.coordinators(ctx.practice) if may_choose else []
    initial = {"coordinator": WHOLE_PRACTICE}
    form = form_class(data, coordinators=coordinators, may_choose=may_choose, initial=initial)
    form.is_valid()  # fields that do not parse are dropped from cleaned_data and ignored
    return form


def _panel_param(form: PanelForm, scope: Scope) -> str:
    if "coordinator" not in form.fields:
        return ""
    return "&" + urlencode({"coordinator": scope.coordinator_id or WHOLE_PRACTICE})


def _month_links(scope: Scope) -> dict[str, Any]:
    tz = scope.month.timezone
    previous = month_of(scope.month.first_on - timedelta(days=1), tz)
    following = month_of(scope.month.last_on + timedelta(days=1), tz)
    has_next = following.first_on <= scope.current.first_on
    return {
        "previous_label": previous.label,
        "previous_on": previous.first_on,
        "next_label": following.label if has_next else None,
        "next_on": following.first_on if has_next else None,
    }


# -- dashboard ---------------------------------------------------------------------------------

SORT_KEYS: dict[str, Callable[[queries.DashboardRow], Any]] = {
    "name": lambda d: (d.row.name.casefold(), d.row.patient_id),
    "program": lambda d: d.row.program,
    "minutes": lambda d: d.row.minutes,
    "contact": lambda d: d.row.interactive_contact,
    "reading_days": lambda d: d.row.reading_days,
    "codes": lambda d: d.row.codes,
    "next_code": lambda d: d.row.next_code,
    "minutes_needed": lambda d: d.row.minutes_needed,
    "value": lambda d: d.row.projected_value,
}


def _filtered(rows: list[queries.DashboardRow], data: dict[str, Any]) -> list[queries.DashboardRow]:
    program, contact = data.get("program"), data.get("contact")
    code, next_code = data.get("code"), data.get("next_code")
    within, days = data.get("within"), data.get("days")

    def keep(d: queries.DashboardRow) -> bool:
        row = d.row
        if program and row.program != program:
            return False
        if contact and row.interactive_contact != (contact == "yes"):
            return False
        if code == "none" and row.codes:
            return False
        if code and code != "none" and code not in row.codes:
            return False
        if next_code and next_code not in (row.next_code, row.device_next_code):
            return False
        if within is not None and (row.minutes_needed is None or row.minutes_needed > within):
            return False
        if days:
            top = d.bands[-1] if d.bands else None
            state = (
                None
                if top is None
                else "reached"
                if top.reached
                else "every_day"
                if top.every_remaining_day
                else "reachable"
                if top.reachable
                else "out_of_reach"
            )
            if state != days and not (days == "reachable" and state == "every_day"):
                return False
        return True

    return [d for d in rows if keep(d)]


def _sorted(
    rows: list[queries.DashboardRow], sort: str, descending: bool
) -> list[queries.DashboardRow]:
    key = SORT_KEYS.get(sort)
    if key is None:
        return rows
    # Rows without a value (no reading days, no next code) go last in either direction.
    present = [d for d in rows if key(d) is not None]
    absent = [d for d in rows if key(d) is None]
    return sorted(present, key=key, reverse=descending) + absent


def _sort_links(request: HttpRequest, sort: str, descending: bool) -> dict[str, dict[str, str]]:
    links = {}
    for key, label in SORTS:
        params = request.GET.copy()
        params.pop("page", None)
        params["sort"] = key
        params["dir"] = "asc" if key != sort or descending else "desc"
        state = ("descending" if descending else "ascending") if key == sort else "none"
        links[key] = {"url": "?" + params.urlencode(), "label": label, "aria_sort": state}
    return links


@requires("patient.view")
@require_GET
@collector_paused()
def dashboard(request: HttpRequest) -> HttpResponse:
    """Show the month's minutes per patient and program; HTMX swaps get only the results."""
    ctx = ctx_of(request)
    form = cast(DashboardForm, _panel_form(DashboardForm, ctx, request.GET))
    scope = _scope(ctx, form)
    data = form.cleaned_data
    panel = panel_rows(
        practice=ctx.practice,
        month=scope.month,
        as_of=scope.as_of,
        coordinator_id=scope.coordinator_id,
    )
    rows = queries.dashboard_rows(panel, month=scope.month, as_of=scope.as_of)
    shown = _filtered(rows, data)
    sort, descending = data.get("sort") or "", data.get("dir") == "desc"
    shown = _sorted(shown, sort, descending)
    totals = queries.panel_totals(d.row for d in shown)
    paginator = Paginator(shown, ROWS_PER_PAGE)
    page = paginator.get_page(request.GET.get("page") or 1)
    filters = {
        k: data.get(k)
        for k in ("program", "contact", "code", "next_code", "within", "days")
        if data.get(k) not in (None, "")
    }
    record_event(
        "dashboard.viewed",
        actor=ctx.user,
        practice=ctx.practice,
        source_ip=ctx.source_ip,
        details={
            "month": scope.month.label,
            "as_of": scope.as_of.isoformat(),
            "rows": len(shown),
            "panel": scope.coordinator_id or "practice",
            "filters": filters,
            "sort": sort or None,
        },
    )
    base = {**scope.params}
    if "coordinator" in form.fields:
        base["coordinator"] = str(scope.coordinator_id or WHOLE_PRACTICE)
    context = {
        "form": form,
        "scope": scope,
        "page": page,
        "rows": table_rows(list(page.object_list), month_label=scope.month.label),
        "totals": totals,
        "filtered": bool(filters),
        "sort": sort,
        "sort_links": _sort_links(request, sort, descending),
        "query": urlencode(base),
        "chosen_panel": str(scope.coordinator_id or WHOLE_PRACTICE),
        "panel_param": _panel_param(form, scope),
        "page_query": _without(request.GET, "page"),
        "dashboard_url": reverse("dashboard"),  # once, not a {% url %} per sort link and chip
        **_month_links(scope),
    }
    template = "worklists/dashboard.html"
    if getattr(request, "htmx", False):
        template += "#results"
    with timezone.override(ZoneInfo(ctx.practice.timezone)):
        return render(request, template, context)


def _without(params: QueryDict, *names: str) -> str:
    copy = params.copy()
    for name in names:
        copy.pop(name, None)
    return copy.urlencode()


# -- pre-close worklist ------------------------------------------------------------------------


@dataclass(frozen=True)
class ListedItem:
    item: WorklistItem
    worked: bool
    rank: int


def _worklist(ctx: PracticeContext, scope: Scope) -> tuple[list[ListedItem], date]:
    items = pre_close_worklist(
        practice=ctx.practice,
        month=scope.month,
        as_of=scope.as_of,
        coordinator_id=scope.coordinator_id,
    )
    opens_on = worklist_opens_on(ctx.practice, scope.month)
    worked = queries.worked_since(
        practice=ctx.practice, items=items, month=scope.month, opens_on=opens_on
    )
    listed = [
        ListedItem(item=i, worked=(i.row.patient_id, i.row.program) in worked, rank=n)
        for n, i in enumerate(items, start=1)
    ]
    return listed, opens_on


@dataclass(frozen=True)
class ShownItem:
    """A listed item and its printed ``<tr>`` (the markup of worklists/_items.html's rows)."""

    item: WorklistItem
    worked: bool
    rank: int
    html: SafeString


_DASH = '<span class="muted">—</span>'
_WORKED = '<span class="badge badge-active" data-testid="worked">Worked</span>'
_ASSIGN_BUTTON = '<button type="submit" class="secondary outline compact">Assign</button>'
_EVERY_DAY = (
    '<div><span class="badge badge-pending" title="Only reachable with a reading on every'
    ' remaining day of the month">Every remaining day</span></div>'
)


def _assign_tail(scope: Scope, query_panel: str, members: list[tuple[int, str]]) -> tuple[str, str]:
    """The assign form's fields that are the same on every row of the page."""
    as_of = (
        f'<input type="hidden" name="as_of" value="{scope.as_of:%Y-%m-%d}">'
        if scope.as_of != scope.today
        else ""
    )
    panel = (
        f'<input type="hidden" name="coordinator" value="{escape(query_panel)}">'
        if query_panel
        else ""
    )
    return (
        f'          <input type="hidden" name="month" value="{escape(scope.month.label)}">\n'
        f"          {as_of}\n"
        f"          {panel}\n"
    ), "".join(f'<option value="{pk}">{escape(label)}</option>' for pk, label in members)


def _shown(
    listed: list[ListedItem],
    scope: Scope,
    *,
    assign: tuple[str, str, str] | None,
) -> list[ShownItem]:
    """Print each listed item's row; ``assign`` is (csrf input, fixed fields, options) or None.

    Formatted here rather than by a per-row template: the engine spent some 0.1 ms per row on
    ~50 nodes and two ``{% url %}`` tags. Every text value is escaped, as the template did
    (tests/worklists/test_panel_speed.py renders a row both ways).
    """
    patient = PatientLink("patient-detail")
    month = PatientLink("patient-month", query=f"?month={scope.month.label}")
    assign_url = reverse("worklist-assign")
    amounts = AmountTexts()
    out = []
    for x in listed:
        i, r = x.item, x.item.row
        program, name = escape(r.program), escape(r.name)
        if i.reason == "minutes":
            needed = f"<strong>{r.minutes_needed}</strong> min\n        "
        else:
            n = r.reading_days_needed
            needed = (
                f"<strong>{n}</strong> reading day{'' if n == 1 else 's'}"
                f'<div class="small muted">{r.reading_days} so far</div>'
            )
        value = amounts(i.value_at_stake)
        per_minute = amounts(i.value_per_minute)
        outreach = _WORKED if x.worked else ""
        assigned = ""
        if i.assigned_to:
            assigned = f'<span class="badge badge-info">{escape(i.assigned_to)}</span>'

        if assign is not None and i.reachable:
            csrf_input, fixed, options = assign
            key = f"assign-{r.patient_id}-{program}-{escape(i.reason)}"
            form = (
                f'\n        <form method="post" action="{assign_url}" class="assign-form">\n'
                f"          {csrf_input}\n"
                f'          <input type="hidden" name="patient" value="{r.patient_id}">\n'
                f'          <input type="hidden" name="program" value="{program}">\n'
                f"{fixed}"
                f'          <label class="visually-hidden" for="{key}">Assign outreach for {name}'
                "</label>\n"
                f'          <select name="assigned_to" id="{key}">\n'
                f'            <option value="">{"Reassign…" if i.assigned_to else "Assign to…"}'
                "</option>\n"
                f"            {options}\n"
                "          </select>\n"
                f"          {_ASSIGN_BUTTON}\n"
                "        </form>\n        "
            )
        elif not x.worked and not i.assigned_to:
            form = '<span class="muted small">—</span>'
        else:
            form = ""
        html = (
            f'\n    <tr data-patient="{r.patient_id}" data-program="{program}"'
            f' data-reason="{escape(i.reason)}" class="{"worked" if x.worked else ""}">\n'
            f'      <td class="num muted">{x.rank}</td>\n'
            f'      <td><a href="{escape(patient.href(r.patient_id))}">{name}</a><br>'
            f'<span class="mono muted small">{escape(r.mrn)}</span></td>\n'
            f'      <td><span class="program-tag program-{escape(r.program.lower())}">{program}'
            "</span></td>\n"
            f'      <td class="num"><a href="{escape(month.href(r.patient_id))}"'
            f' title="Entries behind these minutes">{r.minutes}</a></td>\n'
            f'      <td><span class="mono code-pill">{escape(i.next_code or "—")}</span></td>\n'
            '      <td class="num">\n'
            f"        {needed}\n"
            f"        {_EVERY_DAY if i.every_remaining_day else ''}\n"
            "      </td>\n"
            '      <td class="num">'
            + (
                f"<strong>${value}</strong>"
                if value is not None
                else '<span class="muted" title="No amount in the fee table for this code yet">'
                "—</span>"
            )
            + "</td>\n"
            f'      <td class="num">{f"${per_minute}" if per_minute is not None else _DASH}</td>\n'
            '      <td class="outreach">\n'
            f"        {outreach}\n"
            f"        {assigned}\n"
            f"        {form}\n"
            "      </td>\n"
            "    </tr>\n  "
        )
        # Every text value is escaped above.
        out.append(ShownItem(item=i, worked=x.worked, rank=x.rank, html=mark_safe(html)))
    return out


@requires("patient.view")
@require_GET
@collector_paused()
def worklist(request: HttpRequest) -> HttpResponse:
    """List the patients a short contact or a few readings from their next code, by value."""
    ctx = ctx_of(request)
    form = _panel_form(PanelForm, ctx, request.GET)
    scope = _scope(ctx, form)
    listed, opens_on = _worklist(ctx, scope)
    record_event(
        "worklist.viewed",
        actor=ctx.user,
        practice=ctx.practice,
        source_ip=ctx.source_ip,
        details={
            "month": scope.month.label,
            "as_of": scope.as_of.isoformat(),
            "rows": len(listed),
            "panel": scope.coordinator_id or "practice",
        },
    )
    may_assign = services.may_manage(ctx)
    members = queries.assignable_members(ctx.practice) if may_assign else []
    query_panel = (
        str(scope.coordinator_id or WHOLE_PRACTICE) if "coordinator" in form.fields else ""
    )
    assign = None
    if may_assign:
        fixed, options = _assign_tail(scope, query_panel, members)
        csrf_input = format_html(
            '<input type="hidden" name="csrfmiddlewaretoken" value="{}">', get_token(request)
        )
        assign = (csrf_input, fixed, options)
    shown = _shown(listed, scope, assign=assign)
    reachable = [x for x in shown if x.item.reachable]
    context = {
        "form": form,
        "scope": scope,
        "opens_on": opens_on,
        "is_open": opens_on <= scope.as_of,
        "reachable": reachable,
        "out_of_reach": [x for x in shown if not x.item.reachable],
        "at_stake": sum((x.item.value_at_stake or Decimal(0) for x in reachable), Decimal(0)),
        "worked_count": sum(1 for x in listed if x.worked),
        "assigned_count": sum(1 for x in listed if x.item.assigned_to),
        "may_assign": may_assign,
        "panel_param": _panel_param(form, scope),
        "members": members,
        "window": ctx.practice.pre_close_window_minutes,
        "query": urlencode(_scope_params(form, scope)),
        "query_panel": query_panel,
        **_month_links(scope),
    }
    with timezone.override(ZoneInfo(ctx.practice.timezone)):
        return render(request, "worklists/worklist.html", context)


def _scope_params(form: PanelForm, scope: Scope) -> dict[str, str]:
    params = dict(scope.params)
    if "coordinator" in form.fields:
        params["coordinator"] = str(scope.coordinator_id or WHOLE_PRACTICE)
    return params


@requires("patient.view")
@require_POST
def worklist_assign(request: HttpRequest) -> HttpResponse:
    """Assign a worklist row's outreach to a member (program managers and practice admins)."""
    ctx = ctx_of(request)
    if not services.may_manage(ctx):
        raise PermissionDenied
    members = queries.assignable_members(ctx.practice)
    form = AssignForm(request.POST, members=members)
    back = reverse("pre-close-worklist")
    if not form.is_valid():
        messages.error(request, "Choose who should make the call.")
        return redirect(
            back
            + "?"
            + _without(request.POST, "csrfmiddlewaretoken", "patient", "program", "assigned_to")
        )
    data = form.cleaned_data
    patient = patient_for(ctx, data["patient"], audit_view=False)
    month = parse_month(data["month"], ctx.practice.timezone)
    assignee = User.objects.get(pk=data["assigned_to"])
    try:
        services.assign_outreach(
            ctx=ctx,
            patient=patient,
            program=data["program"],
            month=month,
            assigned_to=assignee,
            now=timezone.now(),
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        who = assignee.get_full_name() or assignee.get_username()
        messages.success(
            request, f"Outreach for {patient.name} ({data['program']}) assigned to {who}."
        )
    params = {"month": month.label}
    if data.get("as_of"):
        params["as_of"] = data["as_of"].isoformat()
    if request.POST.get("coordinator"):
        params["coordinator"] = request.POST["coordinator"]
    return redirect(f"{back}?{urlencode(params)}")


def neutralise(value: object) -> str:
    """Render a CSV cell so a spreadsheet never runs it as a formula (OWASP CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(CSV_INJECTION_PREFIXES) else text


CSV_COLUMNS = (
    "rank",
    "patient_id",
    "mrn",
    "name",
    "program",
    "reason",
    "minutes",
    "next_code",
    "minutes_needed",
    "reading_days",
    "reading_days_needed",
    "reachable",
    "every_remaining_day",
    "value_at_stake",
    "value_per_minute",
    "assigned_to",
    "worked",
)


def _csv_row(x: ListedItem) -> list[object]:
    i, row = x.item, x.item.row
    per_minute = i.value_per_minute.quantize(Decimal("0.01")) if i.value_per_minute else None
    return [
        x.rank,
        row.patient_id,
        row.mrn,
        row.name,
        row.program,
        i.reason,
        row.minutes,
        i.next_code,
        row.minutes_needed if i.reason == "minutes" else None,
        row.reading_days,
        row.reading_days_needed if i.reason == "reading_days" else None,
        "yes" if i.reachable else "no",
        "yes" if i.every_remaining_day else "no",
        i.value_at_stake,
        per_minute,
        i.assigned_to,
        "yes" if x.worked else "no",
    ]


@requires("patient.view")
@require_GET
def worklist_export(request: HttpRequest) -> HttpResponse:
    """Download the worklist as CSV (UTF-8, header row, formula-looking cells neutralised)."""
    ctx = ctx_of(request)
    form = _panel_form(PanelForm, ctx, request.GET)
    scope = _scope(ctx, form)
    listed, _ = _worklist(ctx, scope)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = f"careledger-worklist-{ctx.practice.slug}-{scope.month.label}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    for x in listed:
        writer.writerow([neutralise(v) for v in _csv_row(x)])
    record_event(
        "worklist.exported",
        actor=ctx.user,
        practice=ctx.practice,
        source_ip=ctx.source_ip,
        details={
            "month": scope.month.label,
            "as_of": scope.as_of.isoformat(),
            "rows": len(listed),
            "panel": scope.coordinator_id or "practice",
            "format": "csv",
        },
    )
    return response


# -- fees --------------------------------------------------------------------------------------


@requires("patient.view")
@require_http_methods(["GET", "POST"])
def practice_fees(request: HttpRequest) -> HttpResponse:
    """List what each code is worth; managers and admins add the practice's own estimates."""
    ctx = ctx_of(request)
    now = timezone.now()
    today = local_today(ctx.practice, now)
    may_edit = services.may_manage(ctx)
    lines = queries.fee_lines(ctx.practice, today)
    codes = [line.code for line in lines]
    form = None
    status = 200
    if may_edit:
        initial = {"effective_on": today.replace(day=1)}
        data = request.POST if request.method == "POST" else None
        form = FeeForm(data, codes=codes, practice=ctx.practice, initial=initial)
        if data is not None and form.is_valid():
            cleaned = form.cleaned_data
            try:
                fee = services.set_practice_fee(
                    ctx=ctx,
                    code=cleaned["code"],
                    amount=cleaned["amount"],
                    effective_on=cleaned["effective_on"],
                    now=now,
                )
            except ValidationError as error:
                for field, errors in error.message_dict.items():
                    for message in errors:
                        form.add_error(field if field in form.fields else None, message)
            else:
                messages.success(
                    request,
                    f"{fee.code} set to ${fee.amount} from {fee.effective_on:%b %-d, %Y}.",
                )
                return redirect("practice-fees")
        status = 422 if form.is_bound and form.errors else 200
    elif request.method == "POST":
        raise PermissionDenied
    context = {
        "lines": lines,
        "history": queries.fee_history(ctx.practice),
        "form": form,
        "may_edit": may_edit,
        "today": today,
        "programs": dict(Program.choices),
    }
    with timezone.override(ZoneInfo(ctx.practice.timezone)):
        return render(request, "worklists/fees.html", context, status=status)
