"""Page URLs. Every view declares its permission (requires/public/signed_in)."""

from django.urls import path

from careledger.accounts.access import public
from careledger.web.views import account, audit, auth, enrollments, months, patients, users

urlpatterns = [
    path("", auth.home, name="home"),
    path("login/", public(auth.LoginView.as_view()), name="login"),
    path("login/mfa/", auth.login_mfa, name="login-mfa"),
    path("logout/", auth.logout_view, name="logout"),
    path("practice/", auth.choose_practice, name="choose-practice"),
    path("account/mfa/", account.mfa_setup, name="mfa-setup"),
    path("account/mfa/recovery-codes/", account.recovery_codes, name="mfa-recovery-codes"),
    path("account/mfa/remove/", account.mfa_remove, name="mfa-remove"),
    path("account/sessions/", account.session_list, name="account-sessions"),
    path("account/password/", account.password_change, name="password-change"),
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
    path("users/", users.user_list, name="user-list"),
    path("users/invite/", users.user_invite, name="user-invite"),
    path("users/<int:membership_id>/", users.member_edit, name="user-edit"),
    path("users/<int:membership_id>/active/", users.member_active, name="user-active"),
    path(
        "users/<int:membership_id>/break-glass/",
        users.break_glass_add,
        name="user-break-glass",
    ),
    path("break-glass/<int:grant_id>/end/", users.break_glass_end, name="break-glass-end"),
    path(
        "invitation/<str:uidb64>/<str:token>/",
        users.invite_accept,
        name="user-invite-accept",
    ),
    path("patients/<int:patient_id>/month/", months.patient_month, name="patient-month"),
]
