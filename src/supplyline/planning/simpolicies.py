"""Inventory policies the simulator runs. Each answers one question, "how much to order now,
given the inventory position?", and says when it is asked: at every review (periodic) or the
instant the position reaches its reorder level (continuous). A new policy is one new class.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

from supplyline.kernel.errors import Invalid


class Policy(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def review_period(self) -> int | None:
        """Periods between reviews; None for continuous review."""
        ...

    @property
    def trigger_level(self) -> float:
        """Continuous review orders when the position falls to this level."""
        ...

    @property
    def start_level(self) -> float:
        """The stock a run starts with unless told otherwise: the policy's top level."""
        ...

    def order_quantity(self, position: float) -> float:
        """Units to order now (0: none) given the inventory position (on hand + on order -
        backorders)."""
        ...

    def describe(self) -> dict[str, float | int | str]: ...


# Levels beyond this are typing mistakes; a smallest Q keeps r + Q distinct from r in floats.
MAX_LEVEL = 1e12
MIN_QUANTITY = 1e-3


def _level(name: str, value: float) -> None:
    if not math.isfinite(value) or abs(value) > MAX_LEVEL:
        raise Invalid(f"policy.{name}", f"must be a number from -{MAX_LEVEL:g} to {MAX_LEVEL:g}")


def _review(value: int) -> None:
    if value < 1:
        raise Invalid("policy.review", "must be at least 1 period")


@dataclass(frozen=True)
class MinMax:
    """(s,S), periodic review every ``review`` periods: at or below s, order up to S."""

    s: float
    S: float
    review: int = 1
    name: str = "sS"

    def __post_init__(self) -> None:
        _level("s", self.s)
        _level("S", self.S)
        _review(self.review)
        if self.s >= self.S:
            raise Invalid("policy.S", "must be greater than s")

    @property
    def review_period(self) -> int | None:
        return self.review

    @property
    def trigger_level(self) -> float:
        return self.s

    @property
    def start_level(self) -> float:
        return self.S

    def order_quantity(self, position: float) -> float:
        return self.S - position if position <= self.s else 0.0

    def describe(self) -> dict[str, float | int | str]:
        return {"policy": self.name, "s": self.s, "S": self.S, "review": self.review}


@dataclass(frozen=True)
class ReorderPointQuantity:
    """(r,Q), continuous review: when the position falls to r, order Q (as many Q as it takes to
    lift the position above r again)."""

    r: float
    Q: float
    name: str = "rQ"

    def __post_init__(self) -> None:
        _level("r", self.r)
        _level("Q", self.Q)
        if self.Q < MIN_QUANTITY:
            raise Invalid("policy.Q", f"must be at least {MIN_QUANTITY:g}")

    @property
    def review_period(self) -> int | None:
        return None

    @property
    def trigger_level(self) -> float:
        return self.r

    @property
    def start_level(self) -> float:
        return self.r + self.Q

    def order_quantity(self, position: float) -> float:
        if position > self.r:
            return 0.0
        # The fewest whole Q that bring the position above r; the 1e-9 keeps a position that
        # sits exactly on r from being lifted only to r.
        return self.Q * max(1, math.ceil((self.r - position) / self.Q + 1e-9))

    def describe(self) -> dict[str, float | int | str]:
        return {"policy": self.name, "r": self.r, "Q": self.Q}


@dataclass(frozen=True)
class OrderUpTo:
    """(R,S) order-up-to: every R periods, order whatever lifts the position to S."""

    R: int
    S: float
    name: str = "RS"

    def __post_init__(self) -> None:
        _review(self.R)
        _level("S", self.S)

    @property
    def review_period(self) -> int | None:
        return self.R

    @property
    def trigger_level(self) -> float:
        return self.S

    @property
    def start_level(self) -> float:
        return self.S

    def order_quantity(self, position: float) -> float:
        return max(self.S - position, 0.0)

    def describe(self) -> dict[str, float | int | str]:
        return {"policy": self.name, "R": self.R, "S": self.S}
