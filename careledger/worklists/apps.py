from django.apps import AppConfig


class WorklistsConfig(AppConfig):
    name = "careledger.worklists"
    label = "worklists"
    verbose_name = "Dashboard and pre-close worklist"
