"""Statistics the simulator reports with: a mean with its 95% confidence interval over
replications, and the standard normal loss function that links a reorder point to a fill rate.

Written here (numpy and the standard library only) so that the simulator needs no scipy.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from statistics import NormalDist

_STD = NormalDist()

# Student's t 0.975 quantiles for 1-30 degrees of freedom (the standard table); above 30 the
# Cornish-Fisher expansion in 1/df below agrees with the table to 1e-5.
_T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip


def t975(df: int) -> float:
    """The 0.975 quantile of Student's t with ``df`` degrees of freedom (df >= 1)."""
    if df < 1:
        raise ValueError("df must be at least 1")
    if df <= len(_T975):
        return _T975[df - 1]
    z = _STD.inv_cdf(0.975)
    return (
        z
        + (z**3 + z) / (4 * df)
        + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
        + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * df**3)
    )


@dataclass(frozen=True)
class Estimate:
    """A figure estimated from ``n`` replications: mean ± t·s/sqrt(n) (95%).

    ``mean`` is None when no replication could measure the figure (no replenishment cycle
    closed, say); ``half_width`` is 0 for a single replication's value, which has no spread.
    """

    mean: float | None
    half_width: float
    n: int
    sd: float

    @property
    def low(self) -> float | None:
        return None if self.mean is None else self.mean - self.half_width

    @property
    def high(self) -> float | None:
        return None if self.mean is None else self.mean + self.half_width

    def as_dict(self) -> dict[str, float | int | None]:
        return {"mean": self.mean, "ci95_low": self.low, "ci95_high": self.high, "n": self.n, "sd": self.sd}


def estimate(values: Iterable[float]) -> Estimate:
    """The mean of the finite values with its 95% t interval; NaNs (unmeasured) are left out."""
    finite = [v for v in values if math.isfinite(v)]
    n = len(finite)
    if n == 0:
        return Estimate(None, 0.0, 0, 0.0)
    mean = math.fsum(finite) / n
    if n == 1:
        return Estimate(mean, 0.0, 1, 0.0)
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in finite) / (n - 1))
    return Estimate(mean, t975(n - 1) * sd / math.sqrt(n), n, sd)


def normal_loss(k: float) -> float:
    """G(k) = phi(k) - k(1 - Phi(k)): expected units short per unit of sigma when stock is mu + k*sigma."""
    return _STD.pdf(k) - k * (1.0 - _STD.cdf(k))


def inverse_normal_loss(g: float) -> float:
    """The k with G(k) = g (g > 0). G falls strictly from +∞ to 0, so bisection is safe."""
    if not g > 0:
        raise ValueError("the loss must be positive")
    low, high = -10.0, 10.0
    if g >= normal_loss(low):
        return low
    for _ in range(200):
        mid = (low + high) / 2
        if normal_loss(mid) > g:
            low = mid
        else:
            high = mid
        if high - low < 1e-12:
            break
    return (low + high) / 2


def normal_cdf(x: float) -> float:
    return _STD.cdf(x)


def normal_quantile(p: float) -> float:
    return _STD.inv_cdf(p)
