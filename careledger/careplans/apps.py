from django.apps import AppConfig


class CareplansConfig(AppConfig):
    name = "careledger.careplans"
    label = "careplans"
    verbose_name = "Care plans"
