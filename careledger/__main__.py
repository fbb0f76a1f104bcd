"""Run any Django management command: ``careledger <command> [args]``."""

import os
import sys


def main() -> None:
    """Dispatch to Django's command-line utility with careledger's settings."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "careledger.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["careledger", *sys.argv[1:]])


if __name__ == "__main__":
    main()
