"""How much to order (pure): up to the target level, then the supplier's and the site's
constraints, each saying what it changed so that the planner sees why a number moved."""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Constraints:
    moq: float | None = None
    pack_size: float | None = None
    max_on_hand: float | None = None
    max_order: float | None = None


@dataclass
class Sized:
    quantity: float
    reasons: list[str] = field(default_factory=list)


def eoq(demand_per_day: float, ordering_cost: float, holding_per_unit_day: float) -> float:
    """Economic order quantity sqrt(2·D·S/H), D and H over the same day."""
    return math.sqrt(2 * demand_per_day * ordering_cost / holding_per_unit_day)


def size_order(position: float, rop: float, cycle: float, c: Constraints) -> Sized:
    """The order when the inventory position is at or below the reorder point: up to
    ``rop + cycle``, at least the MOQ, a whole number of packs, within capacity (capacity wins:
    a site cannot store what does not fit)."""
    if position > rop:
        return Sized(
            0.0, [f"inventory position {_n(position)} is above the reorder point {_n(rop)}: no order"]
        )
    want = max(0.0, rop + cycle - position)
    out = Sized(want, [f"inventory position {_n(position)} is at or below the reorder point {_n(rop)}"])
    if c.moq is not None and out.quantity < c.moq:
        out.reasons.append(f"raised from {_n(out.quantity)} to the minimum order quantity {_n(c.moq)}")
        out.quantity = c.moq
    if c.pack_size is not None:
        packs = math.ceil(out.quantity / c.pack_size - 1e-9)
        rounded = packs * c.pack_size
        if rounded != out.quantity:
            out.reasons.append(f"rounded up from {_n(out.quantity)} to {packs} packs of {_n(c.pack_size)}")
            out.quantity = rounded
    cap = _capacity(position, c)
    if cap is not None and out.quantity > cap[0]:
        out.reasons.append(f"capped from {_n(out.quantity)} to {_n(cap[0])} by {cap[1]}")
        out.quantity = cap[0]
    return out


def _capacity(position: float, c: Constraints) -> tuple[float, str] | None:
    """The largest order capacity allows, in whole packs, and which limit set it."""
    limits = []
    if c.max_order is not None:
        limits.append((c.max_order, f"the largest order {_n(c.max_order)}"))
    if c.max_on_hand is not None:
        limits.append((max(0.0, c.max_on_hand - position), f"the site's capacity {_n(c.max_on_hand)}"))
    if not limits:
        return None
    limit, why = min(limits)
    if c.pack_size is not None:
        limit = math.floor(limit / c.pack_size + 1e-9) * c.pack_size
    return limit, why


def _n(x: float) -> str:
    """A quantity as a person reads it: whole numbers without decimals, others to one place."""
    return f"{x:,.0f}" if abs(x - round(x)) < 0.05 else f"{x:,.1f}"
