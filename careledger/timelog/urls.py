"""Time pages, mounted at /time/. Every view declares its permission with ``requires``."""

from django.urls import path

from careledger.timelog import views

urlpatterns = [
    path("my-day/", views.my_day, name="my-day"),
    path("patients/<int:patient_id>/timer/", views.timer_panel, name="timer-panel"),
    path("patients/<int:patient_id>/timer/start/", views.timer_start, name="timer-start"),
    path("timers/<int:timer_id>/touch/", views.timer_touch, name="timer-touch"),
    path("timers/<int:timer_id>/stop/", views.timer_stop, name="timer-stop"),
    path("timers/<int:timer_id>/discard/", views.timer_discard, name="timer-discard"),
    path("patients/<int:patient_id>/entries/new/", views.entry_add, name="entry-add"),
    path("entries/<int:entry_id>/", views.entry_history, name="entry-history"),
    path("entries/<int:entry_id>/amend/", views.entry_amend, name="entry-amend"),
    path("entries/<int:entry_id>/void/", views.entry_void, name="entry-void"),
]
