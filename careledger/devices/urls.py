"""Device pages under /devices/. Every view declares its permission."""

from django.urls import path

from careledger.devices import views

app_name = "devices"

urlpatterns = [
    path("alerts/", views.alert_queue_page, name="alert-queue"),
    path("alerts/<int:alert_id>/acknowledge/", views.alert_acknowledge, name="alert-acknowledge"),
    path("alerts/<int:alert_id>/resolve/", views.alert_resolve, name="alert-resolve"),
    path("patients/<int:patient_id>/", views.patient_readings, name="patient-readings"),
    path("readings/<int:reading_id>/exclude/", views.reading_exclude, name="reading-exclude"),
]
