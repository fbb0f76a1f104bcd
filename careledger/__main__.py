"""Run any Django management command: ``careledger <command> [args]``."""

import os
import sys


def main() -> None:
    """Dispatch to Django's command-line utility with careledger's settings."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "careledger.settings")
    from django.core.management import execute_from_command_line

    argv = sys.argv[1:]
    # Commands are documented with hyphens (import-patients); Django modules use underscores.
    if argv and not argv[0].startswith("-"):
        argv[0] = argv[0].replace("-", "_")
    execute_from_command_line(["careledger", *argv])


if __name__ == "__main__":
    main()
