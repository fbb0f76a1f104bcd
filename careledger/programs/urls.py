"""Program-facts pages under /programs/. Every view declares its permission."""

from django.urls import path

from careledger.programs import import_views, views

app_name = "programs"

urlpatterns = [
    path("apcm/", views.attestations, name="attestations"),
    path("apcm/new/", views.attestation_add, name="attestation-add"),
    path("patients/<int:patient_id>/", views.patient_facts, name="patient-facts"),
    path("patients/<int:patient_id>/setup/", views.setup_add, name="setup-add"),
    path("patients/<int:patient_id>/claims/", views.claim_add, name="claim-add"),
    path("patients/<int:patient_id>/mdm/", views.mdm_record, name="mdm-record"),
    path("patients/<int:patient_id>/cocm/", views.cocm_start, name="cocm-start"),
    path("patients/<int:patient_id>/scales/", views.scale_add, name="scale-add"),
    path("patients/<int:patient_id>/bhi/", views.bhi_record, name="bhi-record"),
    path("import/", import_views.import_index, name="import-index"),
    *(
        path(f"import/{slug}/", upload, name="import", kwargs={"slug": slug})
        for slug, upload in import_views.UPLOADS.items()
    ),
]
