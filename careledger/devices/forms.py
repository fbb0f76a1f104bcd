"""Forms of the device pages: resolving an alert (optionally with the call) and excluding."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django import forms

from careledger.devices.alerts import Call


class ResolveForm(forms.Form):
    note = forms.CharField(
        label="What was done",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        help_text="Stays with the alert in the patient's history.",
    )
    log_call = forms.BooleanField(
        label="Log the call as a time entry", required=False, initial=True
    )
    call_started = forms.DateTimeField(
        label="Call started",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text="In the practice's time zone.",
    )
    call_minutes = forms.IntegerField(label="Minutes", required=False, min_value=1, max_value=240)
    reached = forms.BooleanField(
        label="Reached the patient or caregiver", required=False, initial=True
    )
    summary = forms.CharField(
        label="Clinical summary",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        help_text="At least two sentences of clinical content for the time entry.",
    )

    def __init__(self, *args: Any, zone: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.zone = ZoneInfo(zone)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("log_call"):
            for name in ("call_started", "call_minutes", "summary"):
                if not data.get(name):
                    self.add_error(name, "Needed to log the call.")
        return data

    def call(self) -> Call | None:
        data = self.cleaned_data
        if not data.get("log_call"):
            return None
        started = data["call_started"]
        if isinstance(started, datetime):
            started = started.replace(tzinfo=None).replace(tzinfo=self.zone)
        return Call(
            started_at=started,
            ended_at=started + timedelta(minutes=data["call_minutes"]),
            summary=data["summary"],
            outcome="reached" if data.get("reached") else "no_answer",
        )


class ExcludeForm(forms.Form):
    reason = forms.CharField(label="Why exclude this reading", max_length=500)
