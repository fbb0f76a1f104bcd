"""Page URLs. Every view declares its permission (requires/public/signed_in)."""

from django.urls import path

from careledger.accounts.access import public
from careledger.web.views import audit, auth, enrollments, months, patients

urlpatterns = [
    path("", auth.home, name="home"),
    path("login/", public(auth.LoginView.as_view()), name="login"),
    path("logout/", auth.logout_view, name="logout"),
    path("practice/", auth.choose_practice, name="choose-practice"),
    path("patients/", patients.patient_list, name="patient-list"),
    path("patients/new/", patients.patient_add, name="patient-add"),
    path("patients/<int:patient_id>/", patients.patient_detail, name="patient-detail"),
    path(
        "patients/<int:patient_id>/conditions/new/",
        patients.condition_add,
        name="condition-add",
    ),
    path("patients/<int:patient_id>/visits/new/", patients.visit_add, name="visit-add"),
    path(
        "patients/<int:patient_id>/enrollments/new/",
        enrollments.enrollment_add,
        name="enrollment-add",
    ),
    path(
        "patients/<int:patient_id>/enrollments/<int:enrollment_id>/consent/",
        enrollments.enrollment_consent,
        name="enrollment-consent",
    ),
    path(
        "patients/<int:patient_id>/enrollments/<int:enrollment_id>/end/",
        enrollments.enrollment_end,
        name="enrollment-end",
    ),
    path("audit/", audit.audit_log, name="audit-log"),
    path("patients/<int:patient_id>/month/", months.patient_month, name="patient-month"),
]
