from django.apps import AppConfig


class ProgramsConfig(AppConfig):
    name = "careledger.programs"
    label = "programs"
    verbose_name = "Program facts"
