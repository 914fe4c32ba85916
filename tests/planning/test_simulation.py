"""Policy simulation: the simulator reproduces the textbook model, verifies service targets,
and its mechanics hold on cases small enough to check by hand."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from supplyline import planning
from supplyline.cli.app import app
from supplyline.kernel.errors import Invalid

FLAT_TEN = planning.ReplayDemand((10.0,) * 30)


def run_once(policy: planning.Policy, lead: float = 2.0, **options: object) -> planning.SimulationReport:
    scenario = planning.Scenario(
        policy=policy, demand=FLAT_TEN, lead_time=planning.FixedLeadTime(lead), periods=30, **options
    )
    return planning.simulate(scenario, replications=1)


# --- Law & Kelton ------------------------------------------------------------------------------


def test_law_kelton_reproduces_the_published_average_total_costs() -> None:
    """Law & Kelton, Simulation Modeling and Analysis (3rd ed., 2000, section 1.5), print one
    120-month run per (s,S) policy: 126.61, 122.74, 123.86, 125.32, 126.37, 125.46, 132.34,
    150.02, 143.20 for (20,40) ... (60,100). A single run is one draw from a spread of s = 2 to
    4 per month, so each published figure must lie within 3 s of our mean over 100 replications,
    and the nine standardised gaps together must fit chance (sum of z^2 below the 0.99 quantile
    of chi-square with 9 degrees of freedom, 21.67). With seed 0 the means' 95% intervals are
    +-0.4 to +-0.8 per month (e.g. (20,60): 118.75 +- 0.68), and the largest gap is (60,80)'s
    150.02 against 143.67 +- 0.52, z = 2.4."""
    results = planning.law_kelton(replications=100, seed=0)
    assert [(r.s, r.S) for r in results] == list(planning.LAW_KELTON_POLICIES)
    chi_square = 0.0
    for r in results:
        assert r.total.mean is not None and r.published_total is not None
        assert r.total.half_width < 1.0  # the interval the docstring states
        z = (r.published_total - r.total.mean) / r.total.sd
        assert abs(z) < 3, (r.s, r.S, r.total.mean, r.published_total)
        chi_square += z * z
        parts = (r.ordering.mean or 0) + (r.holding.mean or 0) + (r.shortage.mean or 0)
        assert math.isclose(parts, r.total.mean)
    assert chi_square < 21.67
    # The book's conclusion holds: (20,60) is the cheapest policy.
    cheapest = min(results, key=lambda r: r.total.mean or math.inf)
    assert (cheapest.s, cheapest.S) == (20, 60)


# --- Service targets verified ---------------------------------------------------------------


def test_reorder_point_for_a_95_percent_csl_achieves_93_to_97_percent() -> None:
    """d = 100/day, sd 20, L = 9 days, sd 2, 95% CSL: safety stock 1.645 x sqrt(9 x 20^2 +
    100^2 x 2^2) = 343.5 and reorder point 1,243.5 (the worked example of issue [7]). A cycle is
    one replenishment order: from the receipt before it to its own receipt; it fails when any
    demand in it finds no stock. About 1,800 cycles: the interval is about +-0.7 points."""
    safety = 1.645 * planning.lead_time_demand_sd(100, 20, 9, 2)
    assert safety == pytest.approx(343.5, abs=0.05)
    check = planning.verify_policy(
        demand_mean=100, demand_sd=20, lead_mean=9, lead_sd=2, reorder_point=1243.5, order_quantity=1000,
        periods=2000, replications=20, seed=0,
    )  # fmt: skip
    csl = check.cycle_service_level
    assert csl.low is not None and csl.high is not None
    assert csl.low >= 0.93 and csl.high <= 0.97
    assert check.cycles > 1500


def test_reorder_point_for_a_98_percent_fill_rate_meets_it_within_one_point() -> None:
    """ESC = sigma_L G(k) = (1 - 0.98) x Q with Q = 1000 gives k = 0.93, r = 1,093; the
    simulated fill rate (units from stock / units demanded) is 97.8% +- 0.2."""
    r = planning.reorder_point_for_fill_rate(0.98, 1000, 100, 20, 9, 2)
    assert r == pytest.approx(1093.3, abs=0.5)
    check = planning.verify_policy(
        demand_mean=100, demand_sd=20, lead_mean=9, lead_sd=2, reorder_point=r, order_quantity=1000,
        periods=2000, replications=20, seed=0,
    )  # fmt: skip
    fill = check.fill_rate
    assert fill.low is not None and fill.high is not None
    assert fill.low >= 0.97 and fill.high <= 0.99


def test_order_up_to_is_verified_too() -> None:
    # (R,S) covers R + L periods: S = 100 x 10 + 1.645 x 20 x sqrt(10) gives a CSL near 95%.
    check = planning.verify_policy(
        demand_mean=100, demand_sd=20, lead_mean=9, order_up_to=1000 + 1.645 * 20 * math.sqrt(10),
        review_period=1, periods=1000, replications=10,
    )  # fmt: skip
    assert check.cycle_service_level.mean == pytest.approx(0.95, abs=0.02)


def test_normal_loss_and_its_inverse() -> None:
    assert planning.normal_loss(0.0) == pytest.approx(0.398942, abs=1e-6)
    assert planning.normal_loss(1.0) == pytest.approx(0.083315, abs=1e-6)
    k = planning.reorder_point_for_fill_rate(0.99, 100, 10, 3, 4, 0)  # sigma_L = 6
    assert planning.normal_loss((k - 40) / 6) == pytest.approx(0.01 * 100 / 6, rel=1e-6)


# --- Mechanics on hand-checkable cases (10 units a period, fixed lead time 2) ------------------


def test_rq_that_reorders_just_in_time_never_runs_short() -> None:
    # From 50: the position reaches r = 20 at t = 3, 8, ..., 28 (six orders of 50); each arrives
    # 2 periods later as the stock touches zero. Stock saws 50 -> 0: 25 on average.
    report = run_once(
        planning.ReorderPointQuantity(20, 50), initial_on_hand=50, costs=planning.Costs(10, 1, 1, 5)
    )
    assert report.orders == 6
    assert report.fill_rate.mean == 1.0
    assert report.cycle_service_level.mean == 1.0
    assert report.average_on_hand.mean == pytest.approx(25.0)
    # (6 x (10 + 50 x 1) ordering + 25 x 30 holding) / 30 periods
    assert report.average_cost.mean == pytest.approx(37.0)


def test_rq_with_too_low_a_reorder_point_backorders_every_cycle() -> None:
    # r = 15: orders at 3.5, 8.5, ...; stock runs out half a period before each receipt, 5 units
    # backordered each of the 5 closed cycles.
    report = run_once(planning.ReorderPointQuantity(15, 50), initial_on_hand=50)
    assert report.cycles == 5
    assert report.cycle_service_level.mean == 0.0
    assert report.fill_rate.mean == pytest.approx(1 - 25 / 300)
    # each shortfall is a triangle of 0.5 period x 5 units
    assert report.average_backorders.mean == pytest.approx(5 * 0.5 * 5 / 2 / 30)


def test_lost_sales_lose_the_shortfall_instead_of_owing_it() -> None:
    # Same policy with lost sales: the position stops falling while the shelf is empty, so the
    # cycle is 5.5 periods; 5 units lost in each of the 5 cycles closed by t = 27.5.
    report = run_once(
        planning.ReorderPointQuantity(15, 50), lost_sales=True, costs=planning.Costs(shortage=2)
    )
    assert report.average_backorders.mean == 0.0
    assert report.average_lost.mean == pytest.approx(25 / 30)
    assert report.fill_rate.mean == pytest.approx(275 / 300)
    assert report.cycles == 5
    holding = report.average_on_hand.mean or 0.0
    assert holding > 0
    assert report.average_cost.mean == pytest.approx(2 * 25 / 30)  # holding costs nothing here


def test_min_max_reviews_each_period_and_orders_up_to_s() -> None:
    # (s,S) = (20,60), zero lead time: at the start of periods 4, 8, ..., 28 the position is 20,
    # so seven orders of 40 arrive at once.
    report = run_once(planning.MinMax(20, 60), lead=0.0, costs=planning.Costs(per_unit=1))
    assert report.orders == 7
    assert report.fill_rate.mean == 1.0
    assert report.average_cost.mean == pytest.approx(7 * 40 / 30)


def test_order_up_to_orders_what_was_used_since_the_last_review() -> None:
    # (R,S) = (5,100): at t = 5, 10, ..., 25 the position is 50, so 50 is ordered, arriving 2
    # periods later when 30 are left; nothing is ever short.
    report = run_once(planning.OrderUpTo(5, 100))
    assert report.orders == 5
    assert report.cycles == 5
    assert report.fill_rate.mean == 1.0
    assert report.cycle_service_level.mean == 1.0


def test_warmup_leaves_the_first_periods_out_of_the_figures() -> None:
    report = run_once(planning.ReorderPointQuantity(15, 50), initial_on_hand=50, warmup=10)
    # Shortfalls after t = 10: [10.5, 11], [16, 16.5], [21.5, 22], [27, 27.5]: 20 of 200 units.
    assert report.fill_rate.mean == pytest.approx(180 / 200)


# --- Replay, reproducibility, validation -----------------------------------------------------


def test_a_long_format_history_replays_with_its_gaps_as_zero_demand() -> None:
    text = "unique_id,ds,y\nA,2026-01-01,5\nA,2026-01-04,7\nB,2026-01-01,1\nA,2026-01-02,3\n"
    assert planning.read_history(text, "A") == (5.0, 3.0, 0.0, 7.0)
    weekly = "unique_id,ds,y\nW,2026-01-05,4\nW,2026-01-19,6\nW,2026-01-12,5\n"
    assert planning.read_history(weekly) == (4.0, 5.0, 6.0)
    with pytest.raises(Invalid, match="2 series"):
        planning.read_history(text)
    with pytest.raises(Invalid, match=r"row 3\.y"):
        planning.read_history("unique_id,ds,y\nA,1,2\nA,2,x\n")


def test_replayed_demand_is_the_same_in_every_replication() -> None:
    history = planning.ReplayDemand(tuple(float(v) for v in (12, 0, 7, 30, 5, 9, 14, 0, 3, 22) * 10))
    scenario = planning.Scenario(
        planning.ReorderPointQuantity(40, 60), history, planning.FixedLeadTime(3), periods=100
    )
    report = planning.simulate(scenario, replications=5, seed=3)
    assert report.fill_rate.half_width == 0.0  # nothing random left
    assert report.fill_rate.n == 5
    with pytest.raises(Invalid, match="only 100 periods"):
        planning.simulate(planning.Scenario(scenario.policy, history, scenario.lead_time, periods=101))


def test_the_same_seed_gives_the_same_report() -> None:
    scenario = planning.Scenario(
        planning.MinMax(30, 90, review=2),
        planning.CompoundDemand(0.1, (1, 2, 3, 4), (1 / 6, 1 / 3, 1 / 3, 1 / 6)),
        planning.UniformLeadTime(0.5, 1.5),
        planning.Costs(32, 3, 1, 5),
        periods=200,
    )
    first = planning.simulate(scenario, replications=8, seed=42)
    assert planning.simulate(scenario, replications=8, seed=42) == first
    assert planning.simulate(scenario, replications=8, seed=43) != first
    poisson = planning.Scenario(
        planning.ReorderPointQuantity(20, 40), planning.PoissonDemand(5), planning.NormalLeadTime(2, 0.5)
    )
    assert planning.simulate(poisson, replications=3, seed=1) == planning.simulate(
        poisson, replications=3, seed=1
    )


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: planning.MinMax(50, 40), "policy.S"),
        (lambda: planning.ReorderPointQuantity(10, 0), "policy.Q"),
        (lambda: planning.OrderUpTo(0, 100), "policy.review"),
        (lambda: planning.NormalDemand(10, -1), "demand.sd"),
        (lambda: planning.CompoundDemand(0.1, (1, 2), (0.5, 0.6)), "demand.probabilities"),
        (lambda: planning.UniformLeadTime(2, 1), "lead_time.high"),
        (lambda: planning.Costs(holding=math.inf), "costs.holding"),
        (lambda: planning.ReplayDemand((1.0, -2.0)), "demand.history.1"),
    ],
)
def test_bad_inputs_are_refused_by_name(build: object, field: str) -> None:
    with pytest.raises(Invalid) as raised:
        build()  # type: ignore[operator]
    assert raised.value.errors[0].field == field


def test_work_is_bounded() -> None:
    scenario = planning.Scenario(
        planning.ReorderPointQuantity(1, 2), planning.PoissonDemand(1), planning.FixedLeadTime(1)
    )
    with pytest.raises(Invalid, match="periods x replications"):
        planning.simulate(scenario, replications=10_000)
    # A Q far too small for the demand would order millions of times: refused, not run.
    tiny = planning.Scenario(
        planning.ReorderPointQuantity(5, 0.01), planning.PoissonDemand(100), planning.FixedLeadTime(1)
    )
    with pytest.raises(Invalid, match="too small"):
        planning.simulate(tiny, replications=1)


# --- The command --------------------------------------------------------------------------


def test_plan_simulate_prints_the_figures_as_json(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["plan", "simulate", "--policy", "rQ", "--reorder-point", "1243.5", "--order-quantity", "1000",
         "--mean", "100", "--sd", "20", "--lead-time", "9", "--lead-time-sd", "2", "--periods", "400",
         "--replications", "5", "--seed", "7", "--holding-cost", "0.1", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["policy"] == {"policy": "rQ", "r": 1243.5, "Q": 1000.0}
    assert 0.8 < body["cycle_service_level"]["mean"] <= 1.0
    assert body["fill_rate"]["ci95_low"] <= body["fill_rate"]["mean"] <= body["fill_rate"]["ci95_high"]

    csv_file = tmp_path / "demand.csv"
    csv_file.write_text("unique_id,ds,y\nsku,2026-01-01,10\nsku,2026-01-02,10\nsku,2026-01-03,10\n")
    replay = runner.invoke(
        app, ["plan", "simulate", "--policy", "sS", "--reorder-point", "10", "--order-up-to", "30",
              "--lead-time", "0", "--history", str(csv_file), "--replications", "1"],
    )  # fmt: skip
    assert replay.exit_code == 0, replay.output
    assert "fill rate" in replay.stdout and "100.00%" in replay.stdout


def test_plan_simulate_law_kelton_preset_and_mistakes() -> None:
    runner = CliRunner()
    preset = runner.invoke(app, ["plan", "simulate", "--law-kelton", "--replications", "5", "--json"])
    assert preset.exit_code == 0, preset.output
    policies = json.loads(preset.stdout)["policies"]
    assert [p["policy"] for p in policies][:2] == ["(20,40)", "(20,60)"]
    assert policies[1]["published_average_total_cost"] == 122.74
    table = runner.invoke(app, ["plan", "simulate", "--law-kelton", "--replications", "3"])
    assert table.exit_code == 0 and "(60,100)" in table.stdout
    missing = runner.invoke(app, ["plan", "simulate", "--policy", "sS", "--reorder-point", "5"])
    assert missing.exit_code == 1
    assert "--order-up-to" in missing.output
    bad = runner.invoke(app, ["plan", "simulate", "--reorder-point", "5", "--order-quantity", "-1"])
    assert bad.exit_code == 1 and "policy.Q" in bad.output
