"""The upload page for time entries: the CSV import of ``careledger import-entries`` in a form."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from careledger.accounts.access import PracticeContext, requires
from careledger.lib.csvupload import CsvUploadForm, upload_status
from careledger.timelog.importer import (
    COLUMN_GUIDE,
    MAX_BYTES,
    EntriesUnreadable,
    ImportReport,
    decode_entries,
    import_entries,
)

TEMPLATE = "timelog/import/upload.html"


class EntryFileForm(CsvUploadForm):
    max_bytes = MAX_BYTES


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
    refused = report is not None and not report.ok
    return render(request, TEMPLATE, context, status=upload_status(form, refused=refused))
