from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "careledger.api"
    label = "api"
    verbose_name = "API"
