"""What a policy simulation is fed: demand per period, lead times, the policy and its costs.

Each demand source and lead-time distribution draws from a numpy Generator the simulator
hands it, so one seed reproduces a whole run. Values are checked when built (``Invalid``),
so a bad command-line or API value is refused before any period is simulated.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from supplyline.kernel.errors import Invalid

FloatArray = NDArray[np.float64]

# Quantities, periods and money beyond this are typing mistakes; bounding them keeps every
# figure finite.
MAX_MAGNITUDE = 1e12
# Customers per period of compound demand, at most 1 / this (bounds the memory a draw takes).
MIN_INTERARRIVAL = 0.01


def _finite(name: str, value: float, *, minimum: float = 0.0, strict: bool = False) -> None:
    if not math.isfinite(value) or value < minimum or (strict and value == minimum) or value > MAX_MAGNITUDE:
        bound = "greater than" if strict else "at least"
        raise Invalid(name, f"must be a number {bound} {minimum:g} and at most {MAX_MAGNITUDE:g}")


class DemandSource(Protocol):
    """Demand of each period (units, >= 0) for one replication."""

    def draw(self, rng: np.random.Generator, periods: int) -> FloatArray: ...


@dataclass(frozen=True)
class NormalDemand:
    """Normal demand per period, truncated at zero (a period cannot un-demand)."""

    mean: float
    sd: float

    def __post_init__(self) -> None:
        _finite("demand.mean", self.mean)
        _finite("demand.sd", self.sd)

    def draw(self, rng: np.random.Generator, periods: int) -> FloatArray:
        return np.maximum(rng.normal(self.mean, self.sd, periods), 0.0)


@dataclass(frozen=True)
class PoissonDemand:
    mean: float

    def __post_init__(self) -> None:
        _finite("demand.mean", self.mean)

    def draw(self, rng: np.random.Generator, periods: int) -> FloatArray:
        return rng.poisson(self.mean, periods).astype(np.float64)


@dataclass(frozen=True)
class CompoundDemand:
    """Customers arrive with exponential interarrival times (mean in periods) and each takes a
    discrete size: the demand of Law & Kelton's inventory model, summed per period."""

    interarrival_mean: float
    sizes: tuple[float, ...]
    probabilities: tuple[float, ...]

    def __post_init__(self) -> None:
        _finite("demand.interarrival_mean", self.interarrival_mean, minimum=MIN_INTERARRIVAL)
        if not self.sizes or len(self.sizes) != len(self.probabilities):
            raise Invalid("demand.sizes", "give one probability per size")
        for size in self.sizes:
            _finite("demand.sizes", size)
        if any(not math.isfinite(p) or p < 0 for p in self.probabilities):
            raise Invalid("demand.probabilities", "must be finite and non-negative")
        if abs(math.fsum(self.probabilities) - 1.0) > 1e-6:
            raise Invalid("demand.probabilities", "must add up to 1")

    def draw(self, rng: np.random.Generator, periods: int) -> FloatArray:
        # Poisson arrivals: the count per period is Poisson(1 / mean interarrival).
        counts = rng.poisson(1.0 / self.interarrival_mean, periods)
        sizes = rng.choice(np.asarray(self.sizes, float), size=int(counts.sum()), p=self.probabilities)
        owner = np.repeat(np.arange(periods), counts)
        return np.bincount(owner, weights=sizes, minlength=periods).astype(np.float64)


@dataclass(frozen=True)
class ReplayDemand:
    """A demand history replayed as it happened: every replication sees the same demand."""

    values: tuple[float, ...] = field(repr=False)

    def __post_init__(self) -> None:
        if not self.values:
            raise Invalid("demand.history", "is empty")
        for i, value in enumerate(self.values):
            if not math.isfinite(value) or not 0 <= value <= MAX_MAGNITUDE:
                raise Invalid(f"demand.history.{i}", f"must be a number from 0 to {MAX_MAGNITUDE:g}")

    def draw(self, rng: np.random.Generator, periods: int) -> FloatArray:
        if periods > len(self.values):
            raise Invalid("periods", f"the history has only {len(self.values)} periods")
        return np.asarray(self.values[:periods], dtype=np.float64)


class LeadTime(Protocol):
    """Periods from placing an order to receiving it (real, >= 0), one draw per order."""

    def draw(self, rng: np.random.Generator) -> float: ...


@dataclass(frozen=True)
class FixedLeadTime:
    periods: float

    def __post_init__(self) -> None:
        _finite("lead_time.mean", self.periods)

    def draw(self, rng: np.random.Generator) -> float:
        return self.periods


@dataclass(frozen=True)
class NormalLeadTime:
    """Normal lead time truncated at zero; with a small coefficient of variation (the usual
    case) the truncation never bites."""

    mean: float
    sd: float

    def __post_init__(self) -> None:
        _finite("lead_time.mean", self.mean)
        _finite("lead_time.sd", self.sd)

    def draw(self, rng: np.random.Generator) -> float:
        return max(float(rng.normal(self.mean, self.sd)), 0.0)


@dataclass(frozen=True)
class UniformLeadTime:
    low: float
    high: float

    def __post_init__(self) -> None:
        _finite("lead_time.low", self.low)
        _finite("lead_time.high", self.high, minimum=self.low)

    def draw(self, rng: np.random.Generator) -> float:
        return float(rng.uniform(self.low, self.high))


@dataclass(frozen=True)
class Costs:
    """Ordering (setup per order + per unit), holding per unit per period, shortage per unit
    per period backordered (with lost sales: per unit lost)."""

    setup: float = 0.0
    per_unit: float = 0.0
    holding: float = 0.0
    shortage: float = 0.0

    def __post_init__(self) -> None:
        for name in ("setup", "per_unit", "holding", "shortage"):
            _finite(f"costs.{name}", getattr(self, name))


def demand_from_values(values: Sequence[float]) -> ReplayDemand:
    return ReplayDemand(tuple(float(v) for v in values))
