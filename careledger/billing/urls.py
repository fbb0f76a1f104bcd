"""Month-close pages under /billing/. Every view declares its permission."""

from django.urls import path

from careledger.billing import views

urlpatterns = [
    path("", views.months_page, name="billing-months"),
    path("<str:month>/", views.month_page, name="billing-month"),
    path("<str:month>/close/", views.close_page, name="billing-close"),
    path("<str:month>/approve/", views.approve_page, name="billing-approve"),
    path("<str:month>/lines/<int:line_id>/decision/", views.decide_page, name="billing-decide"),
    path("<str:month>/billing.csv", views.csv_page, name="billing-csv"),
    path("<str:month>/evidence/<int:patient_id>/", views.evidence_page, name="billing-evidence"),
    path(
        "<str:month>/evidence/<int:patient_id>/pdf/",
        views.evidence_pdf,
        name="billing-evidence-pdf",
    ),
]
