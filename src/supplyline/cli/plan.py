"""``supplyline plan``: planning on the command line, without a database.

``simulate`` runs an inventory policy against sampled or replayed demand and prints what it
achieved (fill rate, cycle service level, inventory, cost) with 95% intervals;
``simulate --law-kelton`` runs the textbook (s,S) model beside its published costs.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from supplyline import planning
from supplyline.cli.common import console, fail, print_json
from supplyline.kernel.errors import Invalid

app = typer.Typer(help="Planning: policy simulation.", no_args_is_help=True)


class PolicyKind(StrEnum):
    sS = "sS"
    rQ = "rQ"
    RS = "RS"


class DemandKind(StrEnum):
    normal = "normal"
    poisson = "poisson"
    compound = "compound"


def _numbers(field: str, text: str) -> tuple[float, ...]:
    try:
        return tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise Invalid(field, f"{text!r} is not a comma-separated list of numbers") from None


def _need(field: str, value: float | None) -> float:
    if value is None:
        raise Invalid(field, "is required for this policy")
    return value


def _policy(
    kind: PolicyKind, reorder: float | None, quantity: float | None, up_to: float | None, review: int
) -> planning.Policy:
    if kind is PolicyKind.sS:
        return planning.MinMax(_need("--reorder-point", reorder), _need("--order-up-to", up_to), review)
    if kind is PolicyKind.rQ:
        return planning.ReorderPointQuantity(
            _need("--reorder-point", reorder), _need("--order-quantity", quantity)
        )
    return planning.OrderUpTo(review, _need("--order-up-to", up_to))


def _demand(
    kind: DemandKind, mean: float, sd: float, history: Path | None, series: str | None, sizes: str, probs: str
) -> planning.DemandSource:
    if history is not None:
        try:
            text = history.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise Invalid("--history", f"cannot read {history}: {exc}") from None
        return planning.ReplayDemand(planning.read_history(text, series))
    if kind is DemandKind.normal:
        return planning.NormalDemand(mean, sd)
    if kind is DemandKind.poisson:
        return planning.PoissonDemand(mean)
    # Compound: --mean is the mean time between customers, in periods.
    return planning.CompoundDemand(mean, _numbers("--sizes", sizes), _numbers("--probabilities", probs))


def _lead_time(mean: float, sd: float, span: str | None) -> planning.LeadTime:
    if span is not None:
        bounds = _numbers("--lead-time-range", span)
        if len(bounds) != 2:
            raise Invalid("--lead-time-range", "give LOW,HIGH")
        return planning.UniformLeadTime(*bounds)
    return planning.NormalLeadTime(mean, sd) if sd > 0 else planning.FixedLeadTime(mean)


def _cell(value: planning.Estimate, percent: bool = False) -> str:
    if value.mean is None:
        return "n/a"
    scale, unit = (100.0, "%") if percent else (1.0, "")
    return f"{value.mean * scale:,.2f}{unit} ± {value.half_width * scale:,.2f}"


def _print_report(report: planning.SimulationReport) -> None:
    table = Table(title=f"{report.policy} · {report.replications} replications of {report.periods} periods")
    table.add_column("figure")
    table.add_column("mean ± 95% CI", justify="right")
    table.add_row("fill rate", _cell(report.fill_rate, percent=True))
    table.add_row("cycle service level", _cell(report.cycle_service_level, percent=True))
    table.add_row("average on hand", _cell(report.average_on_hand))
    table.add_row("average backorders", _cell(report.average_backorders))
    table.add_row("average lost per period", _cell(report.average_lost))
    table.add_row("average cost per period", _cell(report.average_cost))
    console.print(table)
    console.print(f"{report.orders} orders, {report.cycles} replenishment cycles (seed {report.seed}).")


def _law_kelton(replications: int, seed: int, as_json: bool) -> None:
    if not 1 <= replications <= 10_000:
        fail("--replications: must be between 1 and 10000 for --law-kelton")
    results = planning.law_kelton(replications=replications, seed=seed)
    if as_json:
        print_json({"replications": replications, "seed": seed, "policies": [r.as_dict() for r in results]})
        return
    table = Table(title=f"Law & Kelton (s,S) inventory model · {replications} replications of 120 months")
    for column in ("policy", "total ± 95% CI", "ordering", "holding", "shortage", "published total"):
        table.add_column(column, justify="right")
    for r in results:
        published = "" if r.published_total is None else f"{r.published_total:.2f}"
        table.add_row(
            f"({r.s},{r.S})",
            _cell(r.total),
            _cell(r.ordering),
            _cell(r.holding),
            _cell(r.shortage),
            published,
        )
    console.print(table)


@app.command("simulate")
def simulate(
    policy: Annotated[
        PolicyKind, typer.Option(help="sS (periodic min-max), rQ (continuous), RS (order-up-to).")
    ] = PolicyKind.rQ,
    reorder_point: Annotated[float | None, typer.Option(help="s of (s,S) or r of (r,Q).")] = None,
    order_quantity: Annotated[float | None, typer.Option(help="Q of (r,Q).")] = None,
    order_up_to: Annotated[float | None, typer.Option(help="S of (s,S) or (R,S).")] = None,
    review: Annotated[int, typer.Option(help="Periods between reviews (sS, RS).")] = 1,
    demand: Annotated[DemandKind, typer.Option(help="Sampled demand per period.")] = DemandKind.normal,
    mean: Annotated[
        float, typer.Option(help="Demand mean per period (compound: mean periods between customers).")
    ] = 100.0,
    sd: Annotated[float, typer.Option(help="Demand standard deviation per period (normal).")] = 20.0,
    sizes: Annotated[str, typer.Option(help="Compound: customer sizes, comma-separated.")] = "1,2,3,4",
    probabilities: Annotated[
        str, typer.Option(help="Compound: their probabilities.")
    ] = "0.1667,0.3333,0.3333,0.1667",
    history: Annotated[
        Path | None, typer.Option(help="Replay this CSV (unique_id, ds, y) instead of sampling.")
    ] = None,
    series: Annotated[
        str | None, typer.Option(help="The unique_id to replay when the file holds several.")
    ] = None,
    lead_time: Annotated[float, typer.Option(help="Lead time mean, in periods.")] = 9.0,
    lead_time_sd: Annotated[float, typer.Option(help="Lead time standard deviation (0: fixed).")] = 0.0,
    lead_time_range: Annotated[str | None, typer.Option(help="Uniform lead time LOW,HIGH instead.")] = None,
    setup_cost: Annotated[float, typer.Option(help="Cost per order placed.")] = 0.0,
    unit_cost: Annotated[float, typer.Option(help="Cost per unit ordered.")] = 0.0,
    holding_cost: Annotated[float, typer.Option(help="Per unit on hand per period.")] = 0.0,
    shortage_cost: Annotated[
        float, typer.Option(help="Per unit backordered per period (lost sales: per unit lost).")
    ] = 0.0,
    lost_sales: Annotated[
        bool, typer.Option("--lost-sales", help="Unmet demand is lost, not backordered.")
    ] = False,
    initial: Annotated[
        float | None, typer.Option(help="Stock on hand at the start (default: the policy's top level).")
    ] = None,
    periods: Annotated[
        int | None, typer.Option(help="Periods per replication (default 365, or the history's length).")
    ] = None,
    warmup: Annotated[int, typer.Option(help="Periods simulated before the figures count.")] = 0,
    replications: Annotated[int, typer.Option(help="Independent replications.")] = 100,
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same figures.", min=0)] = 0,
    law_kelton_preset: Annotated[
        bool, typer.Option("--law-kelton", help="Run Law & Kelton's nine (s,S) policies.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Simulate an inventory policy and print the achieved fill rate, cycle service level,
    inventory and cost per period, each with its 95% confidence interval."""
    if law_kelton_preset:
        _law_kelton(replications, seed, as_json)
        return
    try:
        source = _demand(demand, mean, sd, history, series, sizes, probabilities)
        horizon = (
            periods
            if periods is not None
            else (len(source.values) if isinstance(source, planning.ReplayDemand) else 365)
        )
        scenario = planning.Scenario(
            policy=_policy(policy, reorder_point, order_quantity, order_up_to, review),
            demand=source,
            lead_time=_lead_time(lead_time, lead_time_sd, lead_time_range),
            costs=planning.Costs(setup_cost, unit_cost, holding_cost, shortage_cost),
            periods=horizon,
            initial_on_hand=initial,
            lost_sales=lost_sales,
            warmup=warmup,
        )
        report = planning.simulate(scenario, replications=replications, seed=seed)
    except Invalid as exc:
        fail(str(exc))
    if as_json:
        print_json(report.as_dict())
    else:
        _print_report(report)
