"""The time-entry upload page, mounted at /time/import/."""

from django.urls import URLPattern, path

from careledger.timelog.import_views import upload_entries

urlpatterns: list[URLPattern] = [
    path("", upload_entries, name="time-import"),
]
