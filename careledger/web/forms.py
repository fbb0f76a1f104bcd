"""Forms for the pages: they parse and shape input; the services decide what is valid."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError

from careledger.accounts.models import Membership, Practice
from careledger.accounts.roles import Role, RuleClass
from careledger.audit.events import EVENTS
from careledger.audit.selectors import ORDERINGS
from careledger.patients.models import DEVICE_PROGRAMS, Enrollment, Patient, Program, Visit


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def person_label(membership: Membership) -> str:
    """Name a member as colleagues know them: full name and credential."""
    user = membership.user
    name = user.get_full_name() or user.get_username()
    return f"{name}, {membership.credential}"


def member_choices(
    practice: Practice, *, billing: bool = False, roles: frozenset[str] | None = None
) -> list[tuple[int, str]]:
    """List the practice's active members as (user id, label), optionally only billing ones."""
    qs = Membership.objects.filter(practice=practice, is_active=True).select_related("user")
    if billing:
        qs = qs.filter(rule_class=RuleClass.PHYSICIAN_QHP).exclude(npi="")
    if roles is not None:
        qs = qs.filter(role__in=roles)
    members = sorted(qs, key=lambda m: (m.user.last_name, m.user.first_name, m.user.username))
    return [(m.user_id, person_label(m)) for m in members]


def apply_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the fields it names (unknown ones on the form)."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            target = field if field in form.fields else None
            for message in messages:
                form.add_error(target, message)
    else:
        for message in error.messages:
            form.add_error(None, message)


PROGRAM_CHOICES = [("", "All programs"), *Program.choices]


class PatientFilterForm(forms.Form):
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": "Name or MRN",
                "autocomplete": "off",
                "aria-label": "Search by name or MRN",
            }
        ),
    )
    program = forms.ChoiceField(label="Program", required=False, choices=PROGRAM_CHOICES)
    coordinator = forms.TypedChoiceField(
        label="Coordinator", required=False, coerce=int, empty_value=None
    )
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args: Any, practice: Practice, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["coordinator"].choices = [  # type: ignore[attr-defined]
            ("", "All coordinators"),
            *member_choices(practice, roles=frozenset({Role.COORDINATOR})),
        ]


class PatientForm(forms.Form):
    mrn = forms.CharField(
        label="MRN",
        max_length=40,
        help_text="The medical record number in your EHR; unique within the practice.",
    )
    given_name = forms.CharField(label="First name", max_length=100)
    family_name = forms.CharField(label="Last name", max_length=100)
    birth_date = forms.DateField(label="Date of birth", widget=DateInput)
    sex = forms.ChoiceField(choices=Patient.Sex.choices)
    mbi = forms.CharField(
        label="Medicare Beneficiary Identifier (MBI)",
        max_length=14,
        required=False,
        help_text="11 characters from the Medicare card, e.g. 1EG4-TE5-MK73. Dashes are optional.",
    )
    coverage = forms.ChoiceField(choices=Patient.Coverage.choices)
    qmb = forms.BooleanField(
        label="Qualified Medicare beneficiary (QMB)",
        required=False,
        help_text="QMB patients may not be billed for cost sharing.",
    )
    phone = forms.CharField(max_length=20, required=False)
    address_line = forms.CharField(label="Street address", max_length=200, required=False)
    city = forms.CharField(max_length=100, required=False)
    state = forms.CharField(max_length=2, required=False, help_text="Two-letter code, e.g. IL.")
    postal_code = forms.CharField(label="ZIP code", max_length=10, required=False)
    coordinator = forms.TypedChoiceField(
        label="Care coordinator",
        required=False,
        coerce=int,
        empty_value=None,
        help_text="Whose panel the patient joins.",
    )

    def __init__(self, *args: Any, practice: Practice, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["coordinator"].choices = [  # type: ignore[attr-defined]
            ("", "Nobody yet"),
            *member_choices(practice),
        ]

    def service_data(self) -> dict[str, Any]:
        """Return the cleaned data in the shape create_patient() takes."""
        data = dict(self.cleaned_data)
        if data.get("coordinator") is None:
            data.pop("coordinator", None)
        return data


class ConditionForm(forms.Form):
    icd10_code = forms.CharField(
        label="ICD-10-CM code",
        max_length=10,
        help_text="A billable code, e.g. E11.9 or I10. The dot is optional.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    description = forms.CharField(
        max_length=255,
        required=False,
        help_text="Leave empty to use the code set's description.",
    )
    chronic = forms.BooleanField(
        required=False,
        initial=True,
        help_text="CCM needs two or more chronic conditions expected to last 12 months or more.",
    )
    onset_on = forms.DateField(label="Onset", required=False, widget=DateInput)


class VisitForm(forms.Form):
    """A face-to-face visit with a billing practitioner (RPM-10 established; CCM-7 initiating)."""

    practitioner = forms.ChoiceField(label="Practitioner")
    visited_on = forms.DateField(label="Visit date", widget=DateInput)
    kind = forms.ChoiceField(choices=Visit.Kind.choices)
    em_level = forms.TypedChoiceField(
        label="E/M level",
        choices=[("", "—"), *[(str(n), str(n)) for n in range(1, 6)]],
        coerce=int,
        empty_value=None,
        required=False,
        help_text="For an E/M visit; levels 2 to 5 qualify as an initiating visit (CCM-7).",
    )

    def __init__(self, *args: Any, practitioners: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ChoiceField, self.fields["practitioner"])
        field.choices = [(str(pk), name) for pk, name in practitioners]


TOLD_FIELDS = ("told_cost_sharing", "told_one_practitioner", "told_right_to_stop")


class ConsentFields(forms.Form):
    """What the patient agreed to and how: shared by enrolling and recording consent later."""

    consent_method = forms.ChoiceField(
        label="Consent method",
        choices=Enrollment.ConsentMethod.choices,
        widget=forms.RadioSelect,
    )
    consent_on = forms.DateField(label="Consent date", required=False, widget=DateInput)
    consent_obtained_by = forms.TypedChoiceField(
        label="Obtained by", coerce=int, required=False, empty_value=None
    )
    told_cost_sharing = forms.BooleanField(
        label="Told that cost sharing (coinsurance) may apply", required=False
    )
    told_one_practitioner = forms.BooleanField(
        label="Told that only one practitioner can bill this service a month", required=False
    )
    told_right_to_stop = forms.BooleanField(
        label="Told that they may stop at any time, effective at the end of the month",
        required=False,
    )
    told_specialist_consultation = forms.BooleanField(
        label="Agreed to consultation with behavioral-health specialists (BHI, CoCM)",
        required=False,
    )

    def __init__(self, *args: Any, practice: Practice, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["consent_obtained_by"].choices = member_choices(practice)  # type: ignore[attr-defined]

    def consent_given(self) -> bool:
        return bool(self.cleaned_data.get("consent_method"))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("consent_method") and not cleaned.get("consent_on"):
            self.add_error("consent_on", "Give the date the patient consented.")
        return cleaned


class ConsentForm(ConsentFields):
    """Record consent for an enrollment that is awaiting it."""


class EnrollmentForm(ConsentFields):
    program = forms.ChoiceField(choices=Program.choices)
    billing_practitioner = forms.TypedChoiceField(
        label="Billing practitioner",
        coerce=int,
        help_text="A physician or qualified health professional with an individual NPI.",
    )
    started_on = forms.DateField(label="Services start", widget=DateInput)
    ordered_on = forms.DateField(label="Order date", required=False, widget=DateInput)
    ordering_practitioner = forms.TypedChoiceField(
        label="Ordering practitioner", coerce=int, required=False, empty_value=None
    )
    order_indication = forms.CharField(
        label="Indication (ICD-10-CM)",
        max_length=10,
        required=False,
        help_text="The condition the device monitors, e.g. I10.",
    )

    field_order = [
        "program",
        "billing_practitioner",
        "started_on",
        "ordered_on",
        "ordering_practitioner",
        "order_indication",
        "consent_method",
    ]

    def __init__(self, *args: Any, practice: Practice, **kwargs: Any) -> None:
        super().__init__(*args, practice=practice, **kwargs)
        billing = member_choices(practice, billing=True)
        self.fields["billing_practitioner"].choices = billing  # type: ignore[attr-defined]
        self.fields["ordering_practitioner"].choices = [  # type: ignore[attr-defined]
            ("", "—"),
            *billing,
        ]
        method = cast(forms.ChoiceField, self.fields["consent_method"])
        method.required = False
        method.choices = [
            ("", "Not yet: enroll as awaiting consent"),
            *Enrollment.ConsentMethod.choices,
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        consent_parts = ["consent_on", *TOLD_FIELDS, "told_specialist_consultation"]
        if not cleaned.get("consent_method") and any(cleaned.get(f) for f in consent_parts):
            self.add_error(
                "consent_method",
                "Choose how the patient consented, or clear the consent fields to enroll "
                "as awaiting consent.",
            )
        order_parts = ("ordered_on", "ordering_practitioner", "order_indication")
        given = [f for f in order_parts if cleaned.get(f)]
        if given and cleaned.get("program") not in DEVICE_PROGRAMS:
            self.add_error(given[0], "Only RPM and RTM enrollments carry an order.")
        elif given:
            for field in order_parts:
                if not cleaned.get(field) and field not in self.errors:
                    self.add_error(field, "An order needs its date, practitioner and indication.")
        return cleaned

    def has_order(self) -> bool:
        return bool(self.cleaned_data.get("ordered_on"))


class EndEnrollmentForm(forms.Form):
    ended_on = forms.DateField(
        label="End date",
        widget=DateInput,
        help_text="Ending takes effect at the end of the month in which the patient asks.",
    )
    end_reason = forms.CharField(
        label="Reason",
        max_length=200,
        help_text="e.g. patient declined further services, moved, entered hospice.",
    )


def _sort_choices() -> list[tuple[str, str]]:
    names = sorted(ORDERINGS)
    return [("", "Newest first")] + [(n, n) for n in names] + [(f"-{n}", f"-{n}") for n in names]


def _event_choices() -> list[tuple[str, str]]:
    prefixes = sorted({name.split(".")[0] + "." for name in EVENTS})
    return (
        [("", "All events")]
        + [(p, f"All {p[:-1]} events") for p in prefixes]
        + [(name, f"{name} — {kind.summary}") for name, kind in sorted(EVENTS.items())]
    )


class AuditFilterForm(forms.Form):
    since = forms.DateField(label="From", required=False, widget=DateInput)
    until = forms.DateField(
        label="To", required=False, widget=DateInput, help_text="Inclusive, practice time."
    )
    user = forms.ChoiceField(label="User", required=False)
    patient = forms.IntegerField(label="Patient id", required=False, min_value=1)
    event = forms.ChoiceField(label="Event", required=False, choices=_event_choices)
    sort = forms.ChoiceField(required=False, choices=_sort_choices, widget=forms.HiddenInput)

    def __init__(self, *args: Any, practice: Practice, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        members = Membership.objects.filter(practice=practice).select_related("user")
        usernames = sorted(m.user.get_username() for m in members)
        self.fields["user"].choices = [("", "Everyone")] + [(u, u) for u in usernames]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until < since:
            self.add_error("until", "The end of the range is before its start.")
        return cleaned
