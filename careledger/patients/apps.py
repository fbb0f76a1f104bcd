from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "careledger.patients"
    label = "patients"
    verbose_name = "Patients and enrollment"
