from django.apps import AppConfig


class LocksConfig(AppConfig):
    name = "careledger.locks"
    label = "locks"
    verbose_name = "Locked billing months"
