"""``supplyline console screenshots``: a PNG of each console view on the demo data (what
``make screenshots`` runs for the README and docs)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer

from supplyline.cli.common import CliError, console, run
from supplyline.demo.screenshots import take_screenshots

app = typer.Typer(help="The operations console.", no_args_is_help=True)


@app.command("screenshots")
def screenshots(
    out: Annotated[Path, typer.Option(help="Directory the PNGs are written to.")] = Path("docs/screenshots"),
    chromium: Annotated[Path, typer.Option(help="Chromium to drive (`make browser`).")] = Path(
        "/usr/bin/chromium"
    ),
    devices: Annotated[int, typer.Option(min=0, help="A fleet of this many devices beside the demo's.")] = 40,
) -> None:
    """Stage the demo tenant in a temporary SQLite database, serve the console and picture
    every built view (1280 x 800) as the person it is for."""

    async def main() -> list[Path]:
        with tempfile.TemporaryDirectory(prefix="supplyline-screens-") as tmp:
            try:
                return await take_screenshots(out, Path(tmp), chromium, devices=devices)
            except RuntimeError as exc:
                raise CliError(str(exc)) from None

    for path in run(main):
        console.print(f"wrote {path}", highlight=False)
