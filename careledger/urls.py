"""Top-level URLs: pages, the JSON API and the (read-mostly) admin."""

from django.contrib import admin
from django.urls import include, path

from careledger.api.main import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("time/import/", include("careledger.timelog.import_urls")),
    path("time/", include("careledger.timelog.urls")),
    path("care-plans/", include("careledger.careplans.urls")),
    path("devices/", include("careledger.devices.urls")),
    path("worklists/", include("careledger.worklists.urls")),
    path("billing/", include("careledger.billing.urls")),
    path("programs/", include("careledger.programs.urls")),
    path("records/", include("careledger.records.urls")),
    path("", include("careledger.web.urls")),
]
