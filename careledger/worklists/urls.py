"""Dashboard, pre-close worklist and fee pages, mounted at /worklists/. Every view declares its
permission with ``requires``."""

from django.urls import path

from careledger.worklists import analytics_views, views

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("pre-close/", views.worklist, name="pre-close-worklist"),
    path("pre-close/assign/", views.worklist_assign, name="worklist-assign"),
    path("pre-close/export.csv", views.worklist_export, name="worklist-export"),
    path("fees/", views.practice_fees, name="practice-fees"),
]
urlpatterns += [
    path("analytics/", analytics_views.capture_analytics, name="capture-analytics"),
    path(
        "analytics/capture.csv", analytics_views.capture_analytics_csv, name="capture-analytics-csv"
    ),
]
