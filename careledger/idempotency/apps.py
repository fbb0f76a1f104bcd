from django.apps import AppConfig


class IdempotencyConfig(AppConfig):
    name = "careledger.idempotency"
    label = "idempotency"
    verbose_name = "Idempotency keys"
