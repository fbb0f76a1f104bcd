"""Exports of a closed month: billing.csv, billing.json and X12 837P claims (byte-deterministic)."""
