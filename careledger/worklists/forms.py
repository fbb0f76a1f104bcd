"""Forms for the dashboard, worklist and fee pages: they parse input; services decide."""

from __future__ import annotations

from typing import Any

from django import forms

from careledger.accounts.models import Practice
from careledger.patients.models import Program

MONTH_RE = r"^\d{4}-(0[1-9]|1[0-2])$"
WHOLE_PRACTICE = "all"

# Whitelisted sort keys: the column name in the URL -> how a dashboard row sorts on it.
SORTS = (
    ("name", "Patient"),
    ("program", "Program"),
    ("minutes", "Minutes"),
    ("contact", "Live contact"),
    ("reading_days", "Reading days"),
    ("codes", "Decision now"),
    ("next_code", "Next code"),
    ("minutes_needed", "Minutes needed"),
    ("value", "Projected"),
)
DAYS_FILTERS = (
    ("", "Any"),
    ("reached", "16 days reached"),
    ("reachable", "16 days still reachable"),
    ("every_day", "Only with a reading every day"),
    ("out_of_reach", "16 days out of reach"),
)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class MonthInput(forms.TextInput):
    input_type = "month"


class PanelForm(forms.Form):
    """Which month, which day and whose panel; shared by the dashboard and the worklist."""

    month = forms.RegexField(label="Month", regex=MONTH_RE, required=False, widget=MonthInput)
    as_of = forms.DateField(label="As of", required=False, widget=forms.HiddenInput)
    coordinator = forms.ChoiceField(label="Panel", required=False)

    def __init__(
        self,
        *args: Any,
        coordinators: list[tuple[int, str]],
        may_choose: bool,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["coordinator"]
        if may_choose:
            field.choices = [  # type: ignore[attr-defined]
                (WHOLE_PRACTICE, "Whole practice"),
                *((str(pk), label) for pk, label in coordinators),
            ]
        else:
            del self.fields["coordinator"]


class DashboardForm(PanelForm):
    """Filters and sort of the dashboard; a value that does not parse is ignored."""

    program = forms.ChoiceField(
        label="Program", required=False, choices=[("", "All programs"), *Program.choices]
    )
    contact = forms.ChoiceField(
        label="Live contact",
        required=False,
        choices=[("", "Any"), ("yes", "Yes"), ("no", "Not yet")],
    )
    code = forms.RegexField(
        label="Decision now", regex=r"^([0-9A-Z]{5}|none)$", required=False, max_length=5
    )
    next_code = forms.RegexField(
        label="Next code", regex=r"^[0-9A-Z]{5}$", required=False, max_length=5
    )
    within = forms.IntegerField(
        label="Minutes needed at most", required=False, min_value=0, max_value=240
    )
    days = forms.ChoiceField(label="Reading days", required=False, choices=DAYS_FILTERS)
    sort = forms.ChoiceField(required=False, choices=SORTS, widget=forms.HiddenInput)
    dir = forms.ChoiceField(
        required=False, choices=[("asc", "asc"), ("desc", "desc")], widget=forms.HiddenInput
    )


class AssignForm(forms.Form):
    """Hand a worklist row to a member for outreach."""

    patient = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    program = forms.ChoiceField(choices=Program.choices, widget=forms.HiddenInput)
    month = forms.RegexField(regex=MONTH_RE, widget=forms.HiddenInput)
    as_of = forms.DateField(required=False, widget=forms.HiddenInput)
    assigned_to = forms.TypedChoiceField(label="Assign to", coerce=int)

    def __init__(self, *args: Any, members: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assigned_to"].choices = [("", "Choose…"), *members]  # type: ignore[attr-defined]


class FeeForm(forms.Form):
    """The practice's own amount for one code from a date on."""

    code = forms.ChoiceField(label="Code")
    amount = forms.DecimalField(label="Amount (USD)", min_value=0, max_digits=8, decimal_places=2)
    effective_on = forms.DateField(
        label="From", widget=DateInput, help_text="Applies to months whose last day is on or after."
    )

    def __init__(self, *args: Any, codes: list[str], practice: Practice, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.practice = practice
        self.fields["code"].choices = [("", "Choose…"), *((c, c) for c in codes)]  # type: ignore[attr-defined]
