"""Quotas and the token buckets that enforce them; pure Python, no I/O, no clock of its own.

A quota caps a tenant (or one of its API keys) at requests per second, readings per second and
a number of devices. ``None`` is no limit. The buckets live in the memory of one process: each
server process admits up to the limit on its own, so N processes admit up to N times it. A
shared limit would keep the buckets in Redis (one script per check, the same arithmetic as
``Bucket.take``), at the price of a round trip per check.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from supplyline.kernel.errors import FieldError, Invalid

# The range a limit may take. Below MIN_RATE a refusal would ask for a wait of hours (and at the
# float minimum an infinite one); above the maxima a limit no longer limits anything one process
# can serve. The bounds also hold for what is stored: the buckets clamp to them (see Bucket), so a
# row written before these checks, or by hand, cannot make a wait that is not a finite number.
MIN_RATE = 0.001  # a second: one request every 1,000 s
MAX_RATE = 10_000_000.0
MAX_BURST = 10_000_000
MAX_DEVICES = 1_000_000_000
RANGE = f"from {MIN_RATE:g} to {MAX_RATE:,.0f} a second"


@dataclass(frozen=True, slots=True)
class Quota:
    """Limits of a tenant (tenant-wide) or of one API key; ``None`` means no limit."""

    requests_per_s: float | None = None
    requests_burst: int | None = None  # None: one second's worth (at least 1)
    readings_per_s: float | None = None
    devices: int | None = None

    @property
    def request_capacity(self) -> float:
        if self.requests_burst is not None:
            return float(self.requests_burst)
        return max(1.0, self.requests_per_s or 1.0)

    @property
    def reading_capacity(self) -> float:
        # One second's worth; a batch larger than that passes on a full bucket (see Bucket).
        return max(1.0, self.readings_per_s or 1.0)

    def checked(self) -> Quota:
        """This quota, or Invalid naming every bad field (a rate of 0 would never refill)."""
        errors = []
        for name in ("requests_per_s", "readings_per_s"):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and MIN_RATE <= value <= MAX_RATE):
                errors.append(FieldError(name, f"must be a number {RANGE} (null: no limit)"))
        if self.requests_burst is not None:
            if not 1 <= self.requests_burst <= MAX_BURST:
                reason = f"must be from 1 to {MAX_BURST:,} (null: one second's worth)"
                errors.append(FieldError("requests_burst", reason))
            elif self.requests_per_s is None:
                errors.append(FieldError("requests_burst", "needs requests_per_s: a burst of no limit"))
        if self.devices is not None and not 0 <= self.devices <= MAX_DEVICES:
            errors.append(FieldError("devices", f"must be from 0 to {MAX_DEVICES:,} (null: no limit)"))
        if errors:
            raise Invalid.many(errors)
        return self


UNLIMITED = Quota()


class Bucket:
    """A token bucket: ``rate`` tokens a second, holding at most ``capacity``.

    A take larger than the capacity (a 5,000-reading batch against 1,000 readings/s) passes
    when the bucket is full and leaves it in debt, so the long-run rate still holds and the
    batch is never refused forever.

    The rate and capacity are clamped into the checked range whatever the caller gives (a
    stored 0, NaN or 1e-320), so ``take`` never divides by zero and its wait is always finite.
    """

    __slots__ = ("capacity", "rate", "stamp", "tokens")

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        self.rate = _within(rate, MIN_RATE, MAX_RATE)
        self.capacity = _within(capacity, 1.0, float(MAX_BURST))
        self.tokens = self.capacity
        self.stamp = now

    def take(self, n: float, now: float) -> float:
        """0.0 when ``n`` tokens were taken, else the seconds until they could be (none taken)."""
        tokens = self.tokens + (now - self.stamp) * self.rate
        if tokens > self.capacity:
            tokens = self.capacity
        self.stamp = now
        need = n if n < self.capacity else self.capacity
        if tokens >= need:
            self.tokens = tokens - n
            return 0.0
        self.tokens = tokens
        return (need - tokens) / self.rate

    def give_back(self, n: float) -> None:
        """Return tokens taken for work that another limit then refused."""
        self.tokens = min(self.capacity, self.tokens + n)


def _within(value: float, low: float, high: float) -> float:
    """``value`` clamped to [low, high]; NaN is taken as ``low`` (the strictest)."""
    if value >= low:
        return value if value <= high else high
    return low


def rebucket(old: Bucket | None, rate: float | None, capacity: float, now: float) -> Bucket | None:
    """The bucket for a limit that may have changed: the old one while it is the same limit (its
    tokens carry on), a fresh full one for a new limit, None for no limit."""
    if rate is None:
        return None
    fresh = Bucket(rate, capacity, now)
    if old is not None and old.rate == fresh.rate and old.capacity == fresh.capacity:
        return old
    return fresh


def show_rate(value: float) -> str:
    """5.0 -> '5', 0.5 -> '0.5': limits as people wrote them."""
    return f"{value:g}"
