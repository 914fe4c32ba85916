"""Safety stock and reorder points, for normal and for intermittent lead-time demand (pure).

Lead-time demand (LTD) with a normal daily demand (mean d, sd sd_d) and a normal lead time (mean
L, sd sd_L) has mean d·L and sd sqrt(L·sd_d² + d²·sd_L²) (Silver, Pyke & Thomas, *Inventory and
Production Management in Supply Chains*, 4th ed., ch. 6; Chopra & Meindl, *Supply Chain
Management*, ch. 12). A cycle service level (CSL) is a quantile of that LTD; a fill rate
(fraction of demand served from stock) follows from the standard normal loss function G(k).
Intermittent demand (many zero days) makes the normal approximation poor, so its LTD is
bootstrapped from the observed days instead and the quantile read from the samples.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from supplyline.kernel.errors import Invalid

STANDARD = NormalDist()
# Syntetos & Boylan's cut-off: an average demand interval above 1.32 periods is intermittent.
ADI_CUTOFF = 1.32
CV2_CUTOFF = 0.49
MIN_CSL, MAX_CSL = 0.5, 0.9999
BOOTSTRAP_SAMPLES = 2000


@dataclass(frozen=True)
class LeadTimeDemand:
    """Lead-time demand as the policy sees it; ``samples`` set when it is empirical."""

    mean: float
    sd: float
    samples: tuple[float, ...] = ()

    @property
    def empirical(self) -> bool:
        return bool(self.samples)


def check_target(field: str, value: float) -> None:
    """A service target is a probability in (0.5, 0.9999]: below one half 'safety' stock is
    negative, and 1 needs infinite stock under the normal model."""
    if not (MIN_CSL < value <= MAX_CSL) or math.isnan(value):
        raise Invalid(field, f"is a fraction in ({MIN_CSL}, {MAX_CSL}]")


def z_for(csl: float) -> float:
    """The safety factor of a cycle service level: Φ⁻¹(CSL)."""
    check_target("cycle_service_level", csl)
    return STANDARD.inv_cdf(csl)


def normal_ltd(d: float, sd_d: float, lead: float, sd_lead: float) -> LeadTimeDemand:
    """Mean and sd of lead-time demand when daily demand and the lead time are independent."""
    if lead < 0 or sd_lead < 0:
        raise Invalid("lead_time_days" if lead < 0 else "lead_time_sd_days", "may not be negative")
    if d < 0 or sd_d < 0:
        raise Invalid("demand_mean_per_day" if d < 0 else "demand_sd_per_day", "may not be negative")
    return LeadTimeDemand(d * lead, math.sqrt(lead * sd_d**2 + d**2 * sd_lead**2))


def safety_stock(d: float, sd_d: float, lead: float, sd_lead: float, csl: float) -> float:
    """SS = z·sqrt(L·sd_d² + d²·sd_L²) for a cycle service level."""
    return z_for(csl) * normal_ltd(d, sd_d, lead, sd_lead).sd


def reorder_point(d: float, sd_d: float, lead: float, sd_lead: float, csl: float) -> float:
    """ROP = d·L + SS."""
    return d * lead + safety_stock(d, sd_d, lead, sd_lead, csl)


def loss(k: float) -> float:
    """Standard normal loss G(k) = φ(k) - k(1 - Φ(k)): expected shortage per unit sd."""
    return STANDARD.pdf(k) - k * (1.0 - STANDARD.cdf(k))


def k_for_fill_rate(fill_rate: float, q: float, sigma: float) -> float:
    """The k that solves sd·G(k) = (1 - FR)·Q, by bisection (G falls strictly in k)."""
    check_target("fill_rate", fill_rate)
    if q <= 0:
        raise Invalid("order_quantity", "must be positive for a fill-rate target")
    if sigma <= 0:
        return 0.0
    wanted = (1.0 - fill_rate) * q / sigma
    low, high = -6.0, 8.0
    if loss(low) <= wanted:
        return low
    for _ in range(100):
        mid = (low + high) / 2
        if loss(mid) > wanted:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def expected_csl(rop: float, ltd: LeadTimeDemand) -> float:
    """Probability that a cycle ends without a stockout: P(LTD ≤ ROP)."""
    if ltd.empirical:
        return sum(1 for x in ltd.samples if x <= rop) / len(ltd.samples)
    if ltd.sd == 0:
        return 1.0 if rop >= ltd.mean else 0.0
    return STANDARD.cdf((rop - ltd.mean) / ltd.sd)


def expected_fill_rate(rop: float, q: float, ltd: LeadTimeDemand) -> float:
    """1 - E[shortage per cycle] / Q: the share of demand served from stock."""
    if q <= 0:
        return 0.0
    if ltd.empirical:
        short = sum(max(0.0, x - rop) for x in ltd.samples) / len(ltd.samples)
    elif ltd.sd == 0:
        short = max(0.0, ltd.mean - rop)
    else:
        short = ltd.sd * loss((rop - ltd.mean) / ltd.sd)
    return max(0.0, 1.0 - short / q)


def adi(series: Sequence[float]) -> float:
    """Average demand interval: periods per period with demand (inf when none had any)."""
    nonzero = sum(1 for y in series if y > 0)
    return math.inf if nonzero == 0 else len(series) / nonzero


def cv2(series: Sequence[float]) -> float:
    """Squared coefficient of variation of the non-zero demand sizes."""
    sizes = [y for y in series if y > 0]
    if len(sizes) < 2:
        return 0.0
    mean = sum(sizes) / len(sizes)
    var = sum((y - mean) ** 2 for y in sizes) / (len(sizes) - 1)
    return var / mean**2


def intermittent(series: Sequence[float]) -> bool:
    """Demand with ADI above 1.32 (Syntetos-Boylan): the normal LTD misplaces its quantiles."""
    return len(series) > 0 and adi(series) > ADI_CUTOFF


def bootstrap_ltd(
    series: Sequence[float], lead: float, sd_lead: float, *, samples: int = BOOTSTRAP_SAMPLES, seed: int = 0
) -> LeadTimeDemand:
    """Lead-time demand sampled from the observed days: a lead time drawn from N(L, sd_L)
    (rounded, at least 0), then that many days drawn with replacement. Seeded, so the same
    history gives the same recommendation."""
    if not series:
        raise Invalid("demand_history", "is empty: an empirical lead-time demand needs observed days")
    rng = np.random.default_rng(seed)
    days = np.asarray(series, dtype=float)
    if sd_lead > 0:
        counts = np.maximum(0, np.rint(rng.normal(lead, sd_lead, samples))).astype(np.int64)
    else:
        counts = np.full(samples, max(0, round(lead)), dtype=np.int64)
    # All the days drawn at once, then summed per sample (a sample of no day sums to 0).
    drawn = days[rng.integers(0, days.size, size=int(counts.sum()))]
    ends = np.cumsum(counts)
    running = np.concatenate(([0.0], np.cumsum(drawn)))
    totals = running[ends] - running[ends - counts]
    out = np.sort(totals)
    mean = float(out.mean())
    sd = float(out.std(ddof=1)) if out.size > 1 else 0.0
    return LeadTimeDemand(mean, sd, tuple(out.tolist()))


def quantile(sorted_samples: Sequence[float], p: float) -> float:
    """The p-quantile of sorted samples (the smallest value with at least p of them at or below)."""
    index = min(len(sorted_samples) - 1, max(0, math.ceil(p * len(sorted_samples)) - 1))
    return sorted_samples[index]


@dataclass(frozen=True)
class Policy:
    """Safety stock and reorder point for one target; ``method`` says how they were found."""

    safety_stock: float
    reorder_point: float
    method: str  # normal | empirical


def policy(ltd: LeadTimeDemand, target: str, value: float, q: float) -> Policy:
    """The reorder point that meets a ``cycle_service_level`` or a ``fill_rate`` over ``ltd``.

    Safety stock is never below zero: a low fill-rate target with a large Q would otherwise
    plan to run out on purpose, which no planner asks for."""
    check_target(target, value)
    if ltd.empirical:
        if target == "cycle_service_level":
            rop = quantile(ltd.samples, value)
        else:
            rop = _empirical_fill_rop(ltd, value, q)
        ss = max(0.0, rop - ltd.mean)
        return Policy(ss, ltd.mean + ss, "empirical")
    k = z_for(value) if target == "cycle_service_level" else k_for_fill_rate(value, q, ltd.sd)
    ss = max(0.0, k * ltd.sd)
    return Policy(ss, ltd.mean + ss, "normal")


def _empirical_fill_rop(ltd: LeadTimeDemand, fill_rate: float, q: float) -> float:
    """The least reorder point whose expected fill rate over the samples reaches the target."""
    if q <= 0:
        raise Invalid("order_quantity", "must be positive for a fill-rate target")
    low, high = 0.0, max(ltd.samples[-1], 0.0)
    if expected_fill_rate(low, q, ltd) >= fill_rate:
        return low
    for _ in range(60):
        mid = (low + high) / 2
        if expected_fill_rate(mid, q, ltd) >= fill_rate:
            high = mid
        else:
            low = mid
    return high
