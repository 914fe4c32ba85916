"""``supplyline demo`` on the command line (the demo itself is tested in tests/demo/)."""

from __future__ import annotations

import typer

from supplyline.cli.app import app


def test_demo_offers_the_loop_and_the_once_switch() -> None:
    group = typer.main.get_command(app)
    params = {p.name: p for p in group.commands["demo"].params}  # type: ignore[attr-defined]
    assert params["loop"].opts == ["--loop"] and params["loop"].secondary_opts == ["--no-loop"]
    assert params["once"].envvar == "SUPPLYLINE_DEMO_EXIT_AFTER_LOOP"
