"""Write or check the committed OpenAPI snapshot (docs/openapi.json)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

SNAPSHOT = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def current_schema() -> str:
    """Render the live OpenAPI document as stable, sorted JSON."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "careledger.settings")
    import django

    django.setup()
    from careledger.api.main import api

    return json.dumps(api.get_openapi_schema(), indent=2, sort_keys=True) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--check", action="store_true")
    group.add_argument("--write", action="store_true")
    args = parser.parse_args()
    schema = current_schema()
    if args.write:
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(schema)
        return 0
    if not SNAPSHOT.exists() or SNAPSHOT.read_text() != schema:
        print(
            f"{SNAPSHOT} is out of date with the API: run `make openapi` and commit it.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
