"""The single-product (s,S) inventory system of Law & Kelton, *Simulation Modeling and
Analysis* (section 1.5), as the event-driven model the book builds: the yardstick the policy
simulator is checked against.

Customers arrive with exponential interarrival times (mean 0.1 month) and take 1, 2, 3 or 4
items (probabilities 1/6, 1/3, 1/3, 1/6); unmet demand is backlogged. At the start of each
month the level I is reviewed: below s, order S - I, at 32 + 3 per item, delivered after a
uniform(0.5, 1) month lag. Holding costs 1 and backlog 5 per item per month, on the time
averages of I+ and I-. 120 months from I = 60. Events are handled in time order by a timing
routine, as in the book, ties in the book's order: arrival, demand, end, evaluation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from supplyline.planning.simstats import Estimate, estimate

LAW_KELTON_POLICIES: tuple[tuple[int, int], ...] = (
    (20, 40), (20, 60), (20, 80), (20, 100), (40, 60), (40, 80), (40, 100), (60, 80), (60, 100),
)  # fmt: skip

# Average total cost per month of each policy in the book's output report: one 120-month run
# per policy (Law & Kelton, Simulation Modeling and Analysis, 3rd ed. 2000, section 1.5.3).
PUBLISHED_AVERAGE_TOTAL_COST: dict[tuple[int, int], float] = {
    (20, 40): 126.61, (20, 60): 122.74, (20, 80): 123.86, (20, 100): 125.32, (40, 60): 126.37,
    (40, 80): 125.46, (40, 100): 132.34, (60, 80): 150.02, (60, 100): 143.20,
}  # fmt: skip


@dataclass(frozen=True)
class InventoryModel:
    initial_level: int = 60
    months: int = 120
    interarrival_mean: float = 0.1
    sizes: tuple[int, ...] = (1, 2, 3, 4)
    probabilities: tuple[float, ...] = (1 / 6, 1 / 3, 1 / 3, 1 / 6)
    lag_low: float = 0.5
    lag_high: float = 1.0
    setup_cost: float = 32.0
    incremental_cost: float = 3.0
    holding_cost: float = 1.0
    shortage_cost: float = 5.0


@dataclass(frozen=True)
class RunCosts:
    """Average costs per month of one run."""

    ordering: float
    holding: float
    shortage: float

    @property
    def total(self) -> float:
        return self.ordering + self.holding + self.shortage


@dataclass(frozen=True)
class PolicyCosts:
    s: int
    S: int
    total: Estimate
    ordering: Estimate
    holding: Estimate
    shortage: Estimate
    published_total: float | None

    def as_dict(self) -> dict[str, object]:
        return {
            "policy": f"({self.s},{self.S})",
            "average_total_cost": self.total.as_dict(),
            "average_ordering_cost": self.ordering.as_dict(),
            "average_holding_cost": self.holding.as_dict(),
            "average_shortage_cost": self.shortage.as_dict(),
            "published_average_total_cost": self.published_total,
        }


_ARRIVAL, _DEMAND, _END, _EVALUATE = range(4)


def run_once(model: InventoryModel, s: int, S: int, rng: np.random.Generator) -> RunCosts:
    """One 120-month run: the book's event loop, with the time-average areas of I+ and I-
    updated before each event."""
    level = model.initial_level
    ordered = 0
    clock = last = 0.0
    holding_area = shortage_area = ordering = 0.0
    # Demand arrival times and sizes, drawn up front: the draws are the same as drawing them
    # one event at a time, and numpy draws them far faster.
    expected = int(model.months / model.interarrival_mean * 1.5) + 50
    gaps = rng.exponential(model.interarrival_mean, expected)
    arrivals = np.cumsum(gaps)
    while arrivals[-1] <= model.months:  # rare: top up the stream
        arrivals = np.concatenate(
            [arrivals, arrivals[-1] + np.cumsum(rng.exponential(model.interarrival_mean, 100))]
        )
    sizes = rng.choice(model.sizes, size=len(arrivals), p=model.probabilities).tolist()
    demand_times = arrivals.tolist()
    i = 0
    next_event = [math.inf, demand_times[0], float(model.months), 0.0]
    while True:
        kind = min(range(4), key=next_event.__getitem__)  # ties: the lowest event type
        clock = next_event[kind]
        if level > 0:
            holding_area += level * (clock - last)
        elif level < 0:
            shortage_area -= level * (clock - last)
        last = clock
        if kind == _END:
            break
        if kind == _ARRIVAL:
            level += ordered
            next_event[_ARRIVAL] = math.inf
        elif kind == _DEMAND:
            level -= sizes[i]
            i += 1
            next_event[_DEMAND] = demand_times[i]
        else:
            if level < s:
                ordered = S - level
                ordering += model.setup_cost + model.incremental_cost * ordered
                next_event[_ARRIVAL] = clock + float(rng.uniform(model.lag_low, model.lag_high))
            next_event[_EVALUATE] = clock + 1.0
    months = model.months
    return RunCosts(
        ordering / months,
        model.holding_cost * holding_area / months,
        model.shortage_cost * shortage_area / months,
    )


def law_kelton(
    *,
    replications: int = 100,
    seed: int = 0,
    policies: tuple[tuple[int, int], ...] = LAW_KELTON_POLICIES,
    model: InventoryModel | None = None,
) -> list[PolicyCosts]:
    """Each policy's average costs per month over ``replications`` independent runs, with
    95% intervals. Replication j of every policy uses the same random numbers (common random
    numbers), so differences between policies are sharper than the intervals alone suggest."""
    model = model or InventoryModel()
    streams = np.random.SeedSequence(seed).spawn(replications)
    results = []
    for s, S in policies:
        runs = [run_once(model, s, S, np.random.default_rng(stream)) for stream in streams]
        results.append(
            PolicyCosts(
                s=s,
                S=S,
                total=estimate(r.total for r in runs),
                ordering=estimate(r.ordering for r in runs),
                holding=estimate(r.holding for r in runs),
                shortage=estimate(r.shortage for r in runs),
                published_total=PUBLISHED_AVERAGE_TOTAL_COST.get((s, S)),
            )
        )
    return results
