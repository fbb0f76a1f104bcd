from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "careledger.demo"
    label = "demo"
    verbose_name = "Demo data"
