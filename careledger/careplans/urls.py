"""Care-plan pages under /care-plans/. Every view declares its permission."""

from django.urls import path

from careledger.careplans import template_views, views

urlpatterns = [
    path("", views.worklist_page, name="careplan-worklist"),
    path("templates/", template_views.template_list, name="careplan-templates"),
    path(
        "templates/versions/<int:version_id>/",
        template_views.template_version,
        name="careplan-template-version",
    ),
    path("templates/<str:key>/", template_views.template_history, name="careplan-template-history"),
    path("templates/<str:key>/edit/", template_views.template_edit, name="careplan-template-edit"),
    path(
        "templates/<str:key>/reset/", template_views.template_reset, name="careplan-template-reset"
    ),
    path("patients/<int:patient_id>/", views.patient_plans, name="careplan-patient"),
    path("patients/<int:patient_id>/start/", views.start, name="careplan-start"),
    path(
        "patients/<int:patient_id>/acute-events/",
        views.acute_event,
        name="careplan-acute-event",
    ),
    path("<int:plan_id>/edit/", views.edit, name="careplan-edit"),
    path("<int:plan_id>/template/", views.add_template, name="careplan-template"),
    path("<int:plan_id>/publish/", views.publish, name="careplan-publish"),
    path("<int:plan_id>/compare/", views.compare, name="careplan-compare"),
    path("versions/<int:version_id>/", views.version_detail, name="careplan-version"),
    path("versions/<int:version_id>/sign/", views.sign, name="careplan-sign"),
    path("versions/<int:version_id>/share/", views.share, name="careplan-share"),
    path(
        "versions/<int:version_id>/patient-copy/",
        views.patient_copy,
        name="careplan-patient-copy",
    ),
    path("versions/<int:version_id>/pdf/", views.pdf, name="careplan-pdf"),
    path("versions/<int:version_id>/fhir/", views.fhir, name="careplan-fhir"),
]
