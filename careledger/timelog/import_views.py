"""The upload page for time entries: the CSV import of ``careledger import-entries`` in a form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from careledger.accounts.access import PracticeContext, requires
from careledger.timelog.importer import (
    COLUMN_GUIDE,
    MAX_BYTES,
    EntriesUnreadable,
    ImportReport,
    decode_entries,
    import_entries,
)

TEMPLATE = "timelog/import/upload.html"


class EntryFileForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text=f"UTF-8 CSV with a header row, at most {MAX_BYTES // (1024 * 1024)} MB.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
    dry_run = forms.BooleanField(label="Dry run: check the file and store nothing", required=False)

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(
                f"The file is {upload.size / (1024 * 1024):.1f} MB; the limit is "
                f"{MAX_BYTES // (1024 * 1024)} MB. Split it into smaller files.",
                code="too_large",
            )
        return upload


@requires("time.import")
@require_http_methods(["GET", "POST"])
def upload_entries(request: HttpRequest) -> HttpResponse:
    """Show the upload form; on POST validate the whole file and store every row or none."""
    ctx: PracticeContext = request.ctx  # type: ignore[attr-defined]
    form = (
        EntryFileForm(request.POST, request.FILES) if request.method == "POST" else EntryFileForm()
    )
    report: ImportReport | None = None
    filename = ""
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        filename = upload.name or ""
        try:
            text = decode_entries(upload.read())
        except EntriesUnreadable as exc:
            form.add_error("file", f"{str(exc)[:1].upper()}{str(exc)[1:]}.")
        else:
            report = import_entries(
                ctx=ctx,
                text=text,
                now=timezone.now(),
                dry_run=form.cleaned_data["dry_run"],
                source=filename,
            )
            if report.ok and not report.dry_run:
                messages.success(
                    request,
                    f"Stored {report.entries_stored} "
                    f"{'entry' if report.entries_stored == 1 else 'entries'} "
                    f"({report.minutes} minutes) from {filename}.",
                )
                return redirect("time-import")
    context = {
        "form": form,
        "report": report,
        "filename": filename,
        "columns": COLUMN_GUIDE,
    }
    # Case 14: a refused upload is answered 413 (too large) or 422 (not importable), not 200.
    status = 200
    if form.has_error("file", code="too_large"):
        status = 413
    elif form.errors or (report is not None and not report.ok):
        status = 422
    return render(request, TEMPLATE, context, status=status)
