from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "careledger.records"
    label = "records"
    verbose_name = "Right-of-access records"
