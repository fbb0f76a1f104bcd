from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "careledger.billing"
    label = "billing"
    verbose_name = "Billing"
