"""Placeholder until the CLI lands."""

from __future__ import annotations


def main() -> None:
    raise SystemExit("the CLI is not built yet")
