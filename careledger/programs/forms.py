"""Small forms for the program facts (issue 9); the services do the domain checks."""

from __future__ import annotations

from typing import Any

from django import forms

from careledger.programs.models import DeviceProgram, Instrument, MdmLevel

DATE = forms.DateInput(attrs={"type": "date"})
MONTH = forms.DateInput(attrs={"type": "month"}, format="%Y-%m")
MONTH_FORMATS = ["%Y-%m", "%Y-%m-%d"]


class SetupForm(forms.Form):
    program = forms.ChoiceField(choices=DeviceProgram.choices)
    performed_on = forms.DateField(label="Set-up date", widget=DATE)
    device_id = forms.TypedChoiceField(
        label="Device", coerce=int, required=False, empty_value=None, choices=()
    )
    note = forms.CharField(max_length=400, required=False)

    def __init__(
        self, *args: Any, devices: list[tuple[int, str]] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["device_id"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", "—"), *(devices or [])]


class ClaimForm(forms.Form):
    practitioner = forms.CharField(label="Other practitioner", max_length=200)
    practitioner_npi = forms.CharField(label="NPI", max_length=10, required=False)
    code = forms.CharField(label="Code", max_length=5)
    period_start_on = forms.DateField(label="Period start", widget=DATE)
    period_end_on = forms.DateField(label="Period end", widget=DATE)


class MdmForm(forms.Form):
    month = forms.DateField(input_formats=MONTH_FORMATS, widget=MONTH)
    mdm = forms.ChoiceField(label="Medical decision making", choices=MdmLevel.choices)
    care_plan_revised = forms.BooleanField(
        label="Care plan established or substantially revised", required=False
    )


class CocmEpisodeForm(forms.Form):
    started_on = forms.DateField(label="Episode start", widget=DATE)
    psychiatric_consultant = forms.CharField(max_length=200)
    psychiatric_consultant_npi = forms.CharField(
        label="Consultant NPI", max_length=10, required=False
    )


class RatingScaleForm(forms.Form):
    instrument = forms.ChoiceField(choices=Instrument.choices)
    administered_on = forms.DateField(label="Administered", widget=DATE)
    score = forms.IntegerField(min_value=0, max_value=27)


class BhiElementsForm(forms.Form):
    month = forms.DateField(input_formats=MONTH_FORMATS, widget=MONTH)
    validated_rating_scale = forms.BooleanField(required=False)
    bh_care_plan = forms.BooleanField(label="Behavioral-health care plan", required=False)
    treatment_coordination = forms.BooleanField(required=False)
    continuity = forms.BooleanField(label="Continuity of care", required=False)


class AttestationForm(forms.Form):
    effective_on = forms.DateField(label="Effective", widget=DATE)
    practitioner_id = forms.TypedChoiceField(
        label="Practitioner", coerce=int, required=False, empty_value=None, choices=()
    )
    access_24_7 = forms.BooleanField(label="24/7 access", required=False)
    continuity = forms.BooleanField(
        label="Continuity with a designated care-team member", required=False
    )
    responsible_for_primary_care = forms.BooleanField(
        label="Responsible for the patients' primary care", required=False
    )

    def __init__(
        self, *args: Any, practitioners: list[tuple[int, str]] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["practitioner_id"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", "Whole practice"), *(practitioners or [])]
