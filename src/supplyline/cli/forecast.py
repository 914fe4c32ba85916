"""``supplyline forecast``: the forecasting engine on the command line, without a database.

``backtest`` reads a long CSV (``unique_id,ds,y``; lines starting with ``#`` are comments),
forecasts each series' last windows (with ``--spread``, windows over its life) from the history
before each, and prints per series the MASE of the engine beside seasonal naive and naive, and
how many held-out points its 80% and 95% bands held.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from supplyline import planning
from supplyline.cli.common import console, fail, print_json
from supplyline.kernel.errors import Invalid

app = typer.Typer(help="Forecasting: backtests of the engine.", no_args_is_help=True)


def read_long_csv(path: Path) -> dict[str, list[float]]:
    """Series by ``unique_id`` in ``ds`` order from a ``unique_id,ds,y`` file."""
    rows: dict[str, list[tuple[str, float]]] = {}
    try:
        with path.open(newline="", encoding="utf-8") as f:
            lines = (line for line in f if not line.startswith("#"))
            for n, row in enumerate(csv.DictReader(lines), start=2):
                try:
                    rows.setdefault(row["unique_id"], []).append((row["ds"], float(row["y"])))
                except (KeyError, TypeError, ValueError):
                    raise Invalid("FILE", f"row {n}: needs unique_id, ds and a number y") from None
    except OSError as exc:
        raise Invalid("FILE", f"cannot be read: {exc.strerror}") from None
    if not rows:
        raise Invalid("FILE", "holds no rows")
    return {k: [y for _, y in sorted(v)] for k, v in rows.items()}


@app.command("backtest")
def backtest(
    file: Annotated[Path, typer.Argument(help="Long CSV: unique_id,ds,y.")],
    horizon: Annotated[int, typer.Option(min=1, help="Periods forecast per window.")],
    season: Annotated[int, typer.Option(min=1, help="Season length in periods (1: none).")],
    windows: Annotated[int, typer.Option(min=1, help="Rolling-origin windows per series.")] = 8,
    profile: Annotated[str, typer.Option(help="accurate (model search) or bulk (fast).")] = "accurate",
    spread: Annotated[
        bool, typer.Option("--spread", help="Windows spaced over each series' life, not the last ones.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Rolling-origin backtest per series: MASE ours / seasonal naive / naive, band coverage."""
    try:
        series = read_long_csv(file)
        reports = {
            k: planning.backtest_series(
                v, horizon=horizon, season=season, windows=windows, profile=profile, spread=spread
            )
            for k, v in series.items()
        }
    except Invalid as exc:
        fail(str(exc))
    if as_json:
        print_json(
            {"horizon": horizon, "season": season, "series": {k: r.as_dict() for k, r in reports.items()}}
        )
        return
    table = Table(title=f"Rolling-origin backtest · {windows} windows of {horizon} · season {season}")
    for column in ("series", "MASE ours", "seasonal naive", "naive", "80% band", "95% band", "models"):
        table.add_column(column, justify="left" if column in ("series", "models") else "right")
    for k, r in reports.items():
        cov = r.coverage
        table.add_row(
            k,
            f"{r.mase['ours']:.3f}",
            f"{r.mase['seasonal_naive']:.3f}",
            f"{r.mase['naive']:.3f}",
            f"{cov[80]:.0%}",
            f"{cov[95]:.0%}",
            ", ".join(f"{m} x{n}" for m, n in r.models.items()),
        )
    console.print(table)
