"""Dashboard, pre-close worklist and fee pages, mounted at /worklists/. Every view declares its
permission with ``requires``."""

from django.urls import path

from careledger.worklists import views

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("pre-close/", views.worklist, name="pre-close-worklist"),
    path("pre-close/assign/", views.worklist_assign, name="worklist-assign"),
    path("pre-close/export.csv", views.worklist_export, name="worklist-export"),
    path("fees/", views.practice_fees, name="practice-fees"),
]
