"""Upload pages for the program-fact imports: each ``careledger import-*`` command in a form.

``/programs/import/`` lists the imports the member may use; ``/programs/import/<slug>/`` takes
a file, checks every row through the fact's service and stores all of them or none. Each page
declares the permission of the fact's own form.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from careledger.accounts.access import PracticeContext, requires
from careledger.lib.csvupload import CsvUploadForm, upload_status
from careledger.programs.fact_imports import (
    FACT_IMPORTS,
    MAX_BYTES,
    FactImport,
    FactsReport,
    FactsUnreadable,
    decode_facts,
    import_facts,
)


class FactFileForm(CsvUploadForm):
    max_bytes = MAX_BYTES


@requires("facts.view")
@require_GET
def import_index(request: HttpRequest) -> HttpResponse:
    """List the fact imports this member may use."""
    ctx: PracticeContext = request.ctx  # type: ignore[attr-defined]
    kinds = [kind for kind in FACT_IMPORTS if ctx.may(kind.permission)]
    return render(request, "programs/import_index.html", {"kinds": kinds})


def _upload(request: HttpRequest, kind: FactImport) -> HttpResponse:
    ctx: PracticeContext = request.ctx  # type: ignore[attr-defined]
    form = FactFileForm(request.POST, request.FILES) if request.method == "POST" else FactFileForm()
    report: FactsReport | None = None
    filename = ""
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        filename = upload.name or ""
        try:
            text = decode_facts(upload.read())
        except FactsUnreadable as exc:
            form.add_error("file", f"{str(exc)[:1].upper()}{str(exc)[1:]}.")
        else:
            report = import_facts(
                kind, ctx=ctx, text=text, now=timezone.now(), dry_run=form.cleaned_data["dry_run"]
            )
            if report.ok and not report.dry_run:
                messages.success(request, f"Stored {report.stored} {kind.noun} from {filename}.")
                return redirect("programs:import", slug=kind.slug)
    context = {
        "kind": kind,
        "form": form,
        "report": report,
        "bad_rows": len({p.line for p in report.problems}) if report else 0,
        "filename": filename,
    }
    refused = report is not None and not report.ok
    return render(
        request, "programs/import.html", context, status=upload_status(form, refused=refused)
    )


def _upload_view(kind: FactImport) -> Callable[..., HttpResponse]:
    @requires(kind.permission)
    @require_http_methods(["GET", "POST"])
    def upload(request: HttpRequest, slug: str) -> HttpResponse:
        """Show the upload form; on POST check the whole file and store every row or none."""
        # ``slug`` is the URL's fixed argument, there so one name reverses to every page.
        return _upload(request, kind)

    upload.__name__ = upload.__qualname__ = f"upload_{kind.slug.replace('-', '_')}"
    return upload


UPLOADS = {kind.slug: _upload_view(kind) for kind in FACT_IMPORTS}
