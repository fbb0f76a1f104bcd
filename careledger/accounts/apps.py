from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "careledger.accounts"
    label = "accounts"
    verbose_name = "Accounts and practices"
