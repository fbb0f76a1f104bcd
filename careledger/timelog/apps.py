from django.apps import AppConfig


class TimelogConfig(AppConfig):
    name = "careledger.timelog"
    label = "timelog"
    verbose_name = "Time log"
