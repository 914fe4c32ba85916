"""Policy simulation: run an inventory policy against demand, period by period, and report
what it achieved (fill rate, cycle service level, inventory, cost) with 95% confidence
intervals over replications, so a service target is verified rather than assumed.

Time is continuous inside a period: each period's demand flows at a constant rate, orders
arrive at the exact instant their (possibly random, fractional) lead time ends, and a
continuous-review policy orders at the instant the inventory position reaches its reorder
point. That keeps (r,Q) free of the undershoot a once-a-period check adds, which is what the
textbook reorder-point formulas assume. Periodic policies review at the start of a period,
after that instant's receipts.

Definitions the figures follow:
- fill rate: units filled from stock on hand when demanded / units demanded (backordered units
  filled later do not count);
- cycle service level: the share of replenishment cycles without a stockout, a cycle being the
  time between two receipts (one per replenishment order), closed by the later receipt;
- costs per period: ordering (setup + per unit, when placed), holding per unit per period on
  the time-average stock, shortage per unit per period backordered or, with lost sales, per
  unit lost.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field

import numpy as np

from supplyline.kernel.errors import Invalid
from supplyline.planning.siminputs import Costs, DemandSource, LeadTime
from supplyline.planning.simpolicies import Policy
from supplyline.planning.simstats import Estimate, estimate

# Work bound: periods x replications the simulator takes in one call (a few seconds).
MAX_PERIOD_REPLICATIONS = 1_000_000
MAX_PERIODS = 100_000
# A policy that orders more often than this per period has a Q (or review) far too small for
# its demand; refusing it bounds the work, since the steps of a run grow with its orders.
MAX_ORDERS_PER_PERIOD = 10
_EPS = 1e-7


@dataclass(frozen=True)
class Scenario:
    policy: Policy
    demand: DemandSource
    lead_time: LeadTime
    costs: Costs = field(default_factory=Costs)
    periods: int = 365
    initial_on_hand: float | None = None  # None: the policy's start level
    lost_sales: bool = False
    warmup: int = 0  # periods simulated before the figures start counting

    def check(self, replications: int) -> None:
        if not 1 <= self.periods <= MAX_PERIODS:
            raise Invalid("periods", f"must be from 1 to {MAX_PERIODS}")
        if not 0 <= self.warmup < self.periods:
            raise Invalid("warmup", "must be at least 0 and fewer than the periods")
        if replications < 1:
            raise Invalid("replications", "must be at least 1")
        if self.periods * replications > MAX_PERIOD_REPLICATIONS:
            raise Invalid("replications", f"periods x replications must be at most {MAX_PERIOD_REPLICATIONS}")
        start = self.initial_on_hand
        if start is not None and not (math.isfinite(start) and abs(start) <= 1e12):
            raise Invalid("initial_on_hand", "must be a number from -1e12 to 1e12")


@dataclass(frozen=True)
class Replication:
    """The figures of one replication (NaN: not measurable in it)."""

    fill_rate: float
    cycle_service_level: float
    average_on_hand: float
    average_backorders: float
    average_lost: float
    average_cost: float
    orders: int
    cycles: int


@dataclass(frozen=True)
class SimulationReport:
    policy: dict[str, float | int | str]
    replications: int
    seed: int
    periods: int
    fill_rate: Estimate
    cycle_service_level: Estimate
    average_on_hand: Estimate
    average_backorders: Estimate
    average_lost: Estimate
    average_cost: Estimate
    orders: int
    cycles: int

    def as_dict(self) -> dict[str, object]:
        figures = ("fill_rate", "cycle_service_level", "average_on_hand", "average_backorders")
        body: dict[str, object] = {
            "policy": self.policy,
            "replications": self.replications,
            "seed": self.seed,
            "periods": self.periods,
            "orders": self.orders,
            "cycles": self.cycles,
        }
        for name in (*figures, "average_lost", "average_cost"):
            body[name] = getattr(self, name).as_dict()
        return body


def simulate(scenario: Scenario, *, replications: int = 100, seed: int = 0) -> SimulationReport:
    """Run ``replications`` independent replications (streams spawned from ``seed``: the same
    seed gives the same report) and estimate each figure with its 95% interval."""
    scenario.check(replications)
    streams = np.random.SeedSequence(seed).spawn(replications)
    runs = [_Run(scenario, np.random.default_rng(stream)).run() for stream in streams]
    return SimulationReport(
        policy=scenario.policy.describe(),
        replications=replications,
        seed=seed,
        periods=scenario.periods,
        fill_rate=estimate(r.fill_rate for r in runs),
        cycle_service_level=estimate(r.cycle_service_level for r in runs),
        average_on_hand=estimate(r.average_on_hand for r in runs),
        average_backorders=estimate(r.average_backorders for r in runs),
        average_lost=estimate(r.average_lost for r in runs),
        average_cost=estimate(r.average_cost for r in runs),
        orders=sum(r.orders for r in runs),
        cycles=sum(r.cycles for r in runs),
    )


class _Run:
    """One replication. ``on_hand`` is net inventory (negative: backorders); the position is
    on hand + on order."""

    def __init__(self, scenario: Scenario, rng: np.random.Generator) -> None:
        self.sc = scenario
        self.policy = scenario.policy
        self.rng = rng
        start = scenario.initial_on_hand
        self.on_hand = self.policy.start_level if start is None else start
        self.on_order = 0.0
        self.pipeline: list[tuple[float, int, float]] = []  # (arrival time, sequence, units)
        self.placed = 0
        self.measuring = scenario.warmup == 0
        self.demanded = self.filled = self.lost = 0.0
        self.held_area = self.backorder_area = self.order_cost = 0.0
        self.orders = self.cycles = self.stockout_cycles = 0
        self.short_in_cycle = False

    def run(self) -> Replication:
        demand = self.sc.demand.draw(self.rng, self.sc.periods)
        review = self.policy.review_period
        if review is None:
            self._review(0.0)
        for k in range(self.sc.periods):
            if k == self.sc.warmup and k > 0:
                self.measuring, self.short_in_cycle = True, False
            self._receive(float(k))
            if review is not None and k % review == 0:
                self._review(float(k))
            self._flow(float(k), float(demand[k]))
        return self._result()

    def _flow(self, t: float, rate: float) -> None:
        """Let one period's demand flow, stopping at each receipt, stock-out and (continuous
        review) the instant the position reaches the reorder point."""
        end = t + 1.0
        continuous = self.policy.review_period is None
        trigger = self.policy.trigger_level
        while t < end:
            step, kind = end - t, "end"
            if self.pipeline and self.pipeline[0][0] - t < step:
                step, kind = max(self.pipeline[0][0] - t, 0.0), "receipt"
            if rate > 0 and self.on_hand > _EPS and self.on_hand / rate < step:
                step, kind = self.on_hand / rate, "stockout"
            falling = rate > 0 and (self.on_hand > _EPS or not self.sc.lost_sales)
            position = self.on_hand + self.on_order
            if continuous and falling and position > trigger and (position - trigger) / rate < step:
                step, kind = (position - trigger) / rate, "trigger"
            self._drain(step, rate)
            t = end if kind == "end" else t + step
            if kind == "stockout":
                self.on_hand = 0.0
            elif kind == "trigger":
                self.on_hand = trigger - self.on_order
            self._receive(t)
            if continuous:
                self._review(t)

    def _drain(self, dt: float, rate: float) -> None:
        units = rate * dt
        if self.measuring:
            self.demanded += units
        if self.on_hand > _EPS:  # a segment with stock ends at the stock-out at the latest
            after = self.on_hand - units
            if self.measuring:
                self.filled += units
                self.held_area += (self.on_hand + after) / 2 * dt
            self.on_hand = after
            return
        if units > _EPS:
            self.short_in_cycle = True
        if self.sc.lost_sales:
            self.on_hand = 0.0
            if self.measuring:
                self.lost += units
            return
        after = self.on_hand - units
        if self.measuring:
            self.backorder_area += -(self.on_hand + after) / 2 * dt
        self.on_hand = after

    def _receive(self, t: float) -> None:
        while self.pipeline and self.pipeline[0][0] <= t + 1e-12:
            _, _, units = heapq.heappop(self.pipeline)
            self.on_hand += units
            self.on_order -= units
            if self.measuring:
                self.cycles += 1
                self.stockout_cycles += self.short_in_cycle
            self.short_in_cycle = False

    def _review(self, t: float) -> None:
        units = self.policy.order_quantity(self.on_hand + self.on_order)
        if units <= _EPS:
            return
        if self.measuring:
            self.orders += 1
            self.order_cost += self.sc.costs.setup + self.sc.costs.per_unit * units
        self.placed += 1
        if self.placed > MAX_ORDERS_PER_PERIOD * self.sc.periods + 10:
            raise Invalid(
                "policy",
                f"orders more than {MAX_ORDERS_PER_PERIOD} times a period: its quantity is too small",
            )
        arrival = t + self.sc.lead_time.draw(self.rng)
        heapq.heappush(self.pipeline, (arrival, self.placed, units))
        self.on_order += units
        self._receive(t)  # a zero lead time arrives at once

    def _result(self) -> Replication:
        span = self.sc.periods - self.sc.warmup
        costs = self.sc.costs
        shortage = self.lost if self.sc.lost_sales else self.backorder_area
        total = self.order_cost + costs.holding * self.held_area + costs.shortage * shortage
        return Replication(
            fill_rate=self.filled / self.demanded if self.demanded > 0 else math.nan,
            cycle_service_level=1 - self.stockout_cycles / self.cycles if self.cycles else math.nan,
            average_on_hand=self.held_area / span,
            average_backorders=self.backorder_area / span,
            average_lost=self.lost / span,
            average_cost=total / span,
            orders=self.orders,
            cycles=self.cycles,
        )
