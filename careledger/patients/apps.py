from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "careledger.patients"
    label = "patients"
    verbose_name = "Patients and enrollment"

    def ready(self) -> None:
        from careledger.lib import idset

        # ``patient_id__in_ids=[...]`` for the bulk readers of a whole panel.
        idset.register()
