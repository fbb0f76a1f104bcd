"""The upload form every CSV import page uses, and the status a refused upload answers with."""

from __future__ import annotations

from typing import Any

from django import forms

MEBIBYTE = 1024 * 1024


class CsvUploadForm(forms.Form):
    """A CSV file (at most ``max_bytes``) and a dry-run switch; subclasses set ``max_bytes``."""

    max_bytes = 10 * MEBIBYTE

    file = forms.FileField(
        label="CSV file",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
    dry_run = forms.BooleanField(label="Dry run: check the file and store nothing", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields[
            "file"
        ].help_text = f"UTF-8 CSV with a header row, at most {self.max_bytes // MEBIBYTE} MB."

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > self.max_bytes:
            raise forms.ValidationError(
                f"The file is {upload.size / MEBIBYTE:.1f} MB; the limit is "
                f"{self.max_bytes // MEBIBYTE} MB. Split it into smaller files.",
                code="too_large",
            )
        return upload


def upload_status(form: forms.Form, *, refused: bool) -> int:
    """Case 14: a refused upload answers 413 (too large) or 422 (not importable), never 200."""
    if form.has_error("file", code="too_large"):
        return 413
    if form.errors or refused:
        return 422
    return 200
