#!/usr/bin/env python
"""Run Django management commands (same as the `careledger` console script)."""

from careledger.__main__ import main

if __name__ == "__main__":
    main()
