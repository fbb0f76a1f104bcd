"""Right-of-access pages under /records/."""

from django.urls import path

from careledger.records import views

urlpatterns = [
    path("patients/<int:patient_id>/record.pdf", views.record_pdf, name="record-pdf"),
    path("patients/<int:patient_id>/record.fhir.json", views.record_fhir, name="record-fhir"),
]
