from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "careledger.audit"
    label = "audit"
    verbose_name = "Audit log"
