"""Forms for the time pages: they parse input in the practice's zone; the services decide."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from careledger.patients.models import Enrollment, Program
from careledger.timelog.models import Kind, Outcome, TimeEntry

SUMMARY_HELP = "At least two sentences of clinical content: what was reviewed, decided or taught."
LOCAL_INPUT = "%Y-%m-%dT%H:%M"


class LocalDateTimeInput(forms.DateTimeInput):
    """A browser date-and-time picker; values are the practice's local wall-clock time."""

    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format=LOCAL_INPUT)


def apply_service_errors(
    form: forms.Form, error: ValidationError, aliases: Mapping[str, str] | None = None
) -> None:
    """Show a service's ValidationError on the fields it names (unknown ones on the form)."""
    aliases = aliases or {}
    if not hasattr(error, "error_dict"):
        for message in error.messages:
            form.add_error(None, message)
        return
    for field, messages in error.message_dict.items():
        target: str | None = aliases.get(field, field)
        if target not in form.fields:
            target = None
        for message in messages:
            form.add_error(target, message)


def program_choices(enrollments: Iterable[Enrollment]) -> list[tuple[str, str]]:
    """List the programs a patient is enrolled in, once each, in the registry's order."""
    enrolled = {e.program for e in enrollments}
    return [(value, f"{value} · {label}") for value, label in Program.choices if value in enrolled]


def _blank(choices: Iterable[tuple[str, str]], label: str = "Choose…") -> list[tuple[str, str]]:
    return [("", label), *choices]


class StopTimerForm(forms.Form):
    """What the timer measured: the kind of work, how the call went, and what happened."""

    kind = forms.ChoiceField(choices=Kind.choices, initial=Kind.INTERACTIVE_CALL)
    outcome = forms.ChoiceField(choices=_blank(Outcome.choices))
    summary = forms.CharField(
        label="Clinical summary",
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=SUMMARY_HELP,
        required=False,
    )
    trim = forms.BooleanField(
        required=False,
        widget=forms.HiddenInput,
        help_text="End the entry at the last activity instead of now (idle time does not count).",
    )


class DiscardTimerForm(forms.Form):
    reason = forms.CharField(
        label="Why discard the time?",
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": "e.g. started on the wrong patient"}),
    )


class EntryTimesForm(forms.Form):
    """Start in local time, and either minutes or a local end time (P1: the practice's zone)."""

    started_at = forms.DateTimeField(
        label="Started", widget=LocalDateTimeInput, input_formats=[LOCAL_INPUT, "%Y-%m-%d %H:%M"]
    )
    minutes = forms.IntegerField(label="Minutes", required=False, min_value=1, max_value=240)
    ended_time = forms.TimeField(
        label="or end time",
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text="An end time earlier than the start means the next day.",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start: datetime | None = data.get("started_at")
        minutes, ended_time = data.get("minutes"), data.get("ended_time")
        if minutes is None and ended_time is None and "minutes" not in self.errors:
            self.add_error("minutes", "Give the minutes or the end time.")
        elif minutes is not None and ended_time is not None:
            self.add_error("ended_time", "Give the minutes or the end time, not both.")
        elif start is not None and minutes is not None:
            # Real minutes, not wall-clock ones, across a DST change (case 28).
            data["ended_at"] = start.astimezone(UTC) + timedelta(minutes=minutes)
        elif start is not None and ended_time is not None:
            # Aware arithmetic in the practice's zone: combine the local date with the end time.
            end = datetime.combine(start.date(), ended_time, tzinfo=start.tzinfo)
            if end <= start:
                end = datetime.combine(
                    start.date() + timedelta(days=1), ended_time, tzinfo=start.tzinfo
                )
            data["ended_at"] = end
        return data

    @property
    def end_field(self) -> str:
        """Name the field a service's ``ended_at`` error belongs on."""
        return "ended_time" if self.data.get("ended_time") else "minutes"


class ManualEntryForm(EntryTimesForm):
    """A contact logged after the fact; late entries (over 48 hours) need a reason."""

    program = forms.ChoiceField()
    kind = forms.ChoiceField(choices=_blank(Kind.choices))
    outcome = forms.ChoiceField(choices=_blank(Outcome.choices))
    summary = forms.CharField(
        label="Clinical summary",
        max_length=10000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=SUMMARY_HELP + " A voicemail or attempt needs one sentence.",
    )
    reason = forms.CharField(
        label="Reason for a late entry",
        max_length=500,
        required=False,
        help_text="Needed when the contact ended more than 48 hours ago or its month is locked.",
    )

    field_order = [
        "program",
        "kind",
        "outcome",
        "started_at",
        "minutes",
        "ended_time",
        "summary",
        "reason",
    ]

    def __init__(self, *args: Any, enrollments: Iterable[Enrollment], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = program_choices(enrollments)
        self.fields["program"].choices = choices if len(choices) == 1 else _blank(choices)  # type: ignore[attr-defined]


class AmendEntryForm(forms.Form):
    """An amendment: the fields as they should read, and why they change."""

    program = forms.ChoiceField()
    kind = forms.ChoiceField(choices=Kind.choices)
    outcome = forms.ChoiceField(choices=Outcome.choices)
    started_at = forms.DateTimeField(
        label="Started", widget=LocalDateTimeInput, input_formats=[LOCAL_INPUT, "%Y-%m-%d %H:%M"]
    )
    ended_at = forms.DateTimeField(
        label="Ended", widget=LocalDateTimeInput, input_formats=[LOCAL_INPUT, "%Y-%m-%d %H:%M"]
    )
    summary = forms.CharField(
        label="Clinical summary",
        max_length=10000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=SUMMARY_HELP,
    )
    reason = forms.CharField(
        label="Reason for the amendment",
        max_length=500,
        help_text="Kept with the new version for auditors, e.g. “wrong end time typed”.",
    )

    def __init__(
        self, *args: Any, entry: TimeEntry, enrollments: Iterable[Enrollment], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        choices = program_choices(enrollments)
        if entry.program not in {value for value, _ in choices}:
            choices.insert(0, (entry.program, entry.program))
        self.fields["program"].choices = choices  # type: ignore[attr-defined]

    def changes(self, entry: TimeEntry) -> dict[str, Any]:
        """Return only the fields that differ from the entry (minute precision for times)."""
        data = self.cleaned_data
        out: dict[str, Any] = {}
        for name in ("program", "kind", "outcome"):
            if data[name] != getattr(entry, name):
                out[name] = data[name]
        if data["summary"].strip() != entry.summary:
            out["summary"] = data["summary"]
        for name in ("started_at", "ended_at"):
            current = getattr(entry, name)
            # The picker shows minutes; an unchanged field keeps the stored seconds.
            if data[name] != current.replace(second=0, microsecond=0):
                out[name] = data[name]
        return out


class VoidEntryForm(forms.Form):
    reason = forms.CharField(
        label="Why void this entry?",
        max_length=500,
        widget=forms.TextInput(attrs={"placeholder": "e.g. logged on the wrong patient"}),
    )
