"""Verify a replenishment recommendation by simulation: given an (r,Q) reorder point and
quantity (or an (R,S) order-up-to level) and normal demand and lead time, what cycle service
level and fill rate does it really achieve?

Also the textbook reorder point for a fill-rate target, from the standard normal loss
function: expected units short per cycle ESC = sigma_L·G(k) = (1 - fill rate)·Q, with
sigma_L = sqrt(L·sd_d^2 + d^2·sd_L^2) the spread of demand over the lead time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from supplyline.kernel.errors import Invalid
from supplyline.planning.siminputs import FixedLeadTime, LeadTime, NormalDemand, NormalLeadTime
from supplyline.planning.simpolicies import OrderUpTo, Policy, ReorderPointQuantity
from supplyline.planning.simstats import Estimate, inverse_normal_loss
from supplyline.planning.simulation import Scenario, simulate


@dataclass(frozen=True)
class PolicyCheck:
    """What a policy achieved in simulation, each figure with its 95% interval."""

    cycle_service_level: Estimate
    fill_rate: Estimate
    average_on_hand: Estimate
    cycles: int

    def as_dict(self) -> dict[str, object]:
        return {
            "cycle_service_level": self.cycle_service_level.as_dict(),
            "fill_rate": self.fill_rate.as_dict(),
            "average_on_hand": self.average_on_hand.as_dict(),
            "cycles": self.cycles,
        }


def lead_time_demand_sd(demand_mean: float, demand_sd: float, lead_mean: float, lead_sd: float) -> float:
    """sigma_L = sqrt(L·sd_d^2 + d^2·sd_L^2): demand over a random lead time of independent periods."""
    return math.sqrt(lead_mean * demand_sd**2 + demand_mean**2 * lead_sd**2)


def reorder_point_for_fill_rate(
    fill_rate: float,
    order_quantity: float,
    demand_mean: float,
    demand_sd: float,
    lead_mean: float,
    lead_sd: float,
) -> float:
    """The (r,Q) reorder point whose expected shortage per cycle is (1 - fill rate)·Q under
    normal lead-time demand: r = d·L + k·sigma_L with G(k) = (1 - fill rate)·Q / sigma_L."""
    if not 0 < fill_rate < 1:
        raise Invalid("fill_rate", "must be between 0 and 1, exclusive")
    if not order_quantity > 0:
        raise Invalid("order_quantity", "must be greater than 0")
    sigma = lead_time_demand_sd(demand_mean, demand_sd, lead_mean, lead_sd)
    mean = demand_mean * lead_mean
    if sigma == 0:
        return mean
    return mean + inverse_normal_loss((1 - fill_rate) * order_quantity / sigma) * sigma


def verify_policy(
    *,
    demand_mean: float,
    demand_sd: float,
    lead_mean: float,
    lead_sd: float = 0.0,
    reorder_point: float | None = None,
    order_quantity: float | None = None,
    order_up_to: float | None = None,
    review_period: int = 1,
    periods: int = 1000,
    replications: int = 20,
    seed: int = 0,
) -> PolicyCheck:
    """Simulate normal demand per period against (r,Q) (``reorder_point`` and
    ``order_quantity``, continuous review) or (R,S) (``order_up_to`` every ``review_period``)
    with backorders, and return the achieved cycle service level and fill rate.

    The first tenth of each replication is warm-up (it starts full, which flatters service);
    a cycle is one replenishment order, from the receipt before it to its own receipt.
    """
    policy: Policy
    if order_up_to is not None:
        if reorder_point is not None or order_quantity is not None:
            raise Invalid("order_up_to", "give either a reorder point and quantity or an order-up-to level")
        policy = OrderUpTo(review_period, order_up_to)
    elif reorder_point is None or order_quantity is None:
        raise Invalid("reorder_point", "give a reorder point and an order quantity (or an order-up-to level)")
    else:
        policy = ReorderPointQuantity(reorder_point, order_quantity)
    lead: LeadTime = NormalLeadTime(lead_mean, lead_sd) if lead_sd > 0 else FixedLeadTime(lead_mean)
    scenario = Scenario(
        policy=policy,
        demand=NormalDemand(demand_mean, demand_sd),
        lead_time=lead,
        periods=periods,
        warmup=periods // 10,
    )
    report = simulate(scenario, replications=replications, seed=seed)
    return PolicyCheck(report.cycle_service_level, report.fill_rate, report.average_on_hand, report.cycles)
