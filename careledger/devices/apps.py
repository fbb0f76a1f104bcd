from django.apps import AppConfig


class DevicesConfig(AppConfig):
    name = "careledger.devices"
    label = "devices"
    verbose_name = "Devices and readings"
