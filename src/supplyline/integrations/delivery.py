"""How the outbox retries: backoff with full jitter, a circuit breaker per endpoint, dead letters.

Full jitter (a random wait between zero and the exponential bound) spreads the retries of many
deliveries that failed together, so an endpoint that comes back is not met by all of them at
once. The breaker stops trying an endpoint that keeps failing, for a cool-down, then lets one
delivery through as a probe (half-open): its success closes the breaker, its failure opens it
again. Breakers live in the process that delivers: a restart starts them closed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from supplyline.integrations.ssrf import TargetPolicy


class DeliverySettings(Protocol):
    """The settings the policy is made of (``supplyline.settings.Settings`` has them)."""

    webhook_timeout_s: float
    webhook_concurrency: int
    webhook_backoff_base_s: float
    webhook_backoff_cap_s: float
    webhook_max_attempts: int
    webhook_dead_after_hours: float
    webhook_breaker_failures: int
    webhook_breaker_cooldown_s: float
    webhook_allow_private: bool
    webhook_allowed_cidrs: list[str]


@dataclass(frozen=True)
class DeliveryPolicy:
    timeout_s: float = 5.0
    concurrency: int = 8
    backoff_base_s: float = 1.0
    backoff_cap_s: float = 300.0
    max_attempts: int = 12
    dead_after: timedelta = timedelta(hours=24)
    breaker_failures: int = 5
    breaker_cooldown_s: float = 60.0
    targets: TargetPolicy = field(default_factory=TargetPolicy)

    @classmethod
    def of(cls, s: DeliverySettings) -> DeliveryPolicy:
        return cls(
            timeout_s=s.webhook_timeout_s,
            concurrency=s.webhook_concurrency,
            backoff_base_s=s.webhook_backoff_base_s,
            backoff_cap_s=s.webhook_backoff_cap_s,
            max_attempts=s.webhook_max_attempts,
            dead_after=timedelta(hours=s.webhook_dead_after_hours),
            breaker_failures=s.webhook_breaker_failures,
            breaker_cooldown_s=s.webhook_breaker_cooldown_s,
            targets=TargetPolicy.of(s.webhook_allow_private, s.webhook_allowed_cidrs),
        )

    def bound_s(self, attempts: int) -> float:
        """The longest wait after the ``attempts``-th failure (1, 2, ...)."""
        return float(min(self.backoff_cap_s, self.backoff_base_s * 2.0 ** min(max(attempts - 1, 0), 62)))

    def backoff_s(self, attempts: int, rng: random.Random) -> float:
        """Full jitter: uniform between zero and the bound."""
        return rng.uniform(0.0, self.bound_s(attempts))


@dataclass
class _Breaker:
    failures: int = 0
    open_until: datetime | None = None


class Breakers:
    """One circuit breaker per endpoint URL."""

    def __init__(self, failures: int, cooldown_s: float) -> None:
        self.failures = failures
        self.cooldown = timedelta(seconds=cooldown_s)
        self._by_url: dict[str, _Breaker] = {}

    def open_urls(self, now: datetime) -> list[str]:
        """Endpoints not to try now (open, their cool-down running)."""
        return [u for u, b in self._by_url.items() if b.open_until is not None and now < b.open_until]

    def state(self, url: str, now: datetime) -> str:
        b = self._by_url.get(url)
        if b is None or b.open_until is None:
            return "closed"
        return "open" if now < b.open_until else "half-open"

    def succeeded(self, url: str) -> None:
        self._by_url.pop(url, None)

    def failed(self, url: str, now: datetime) -> bool:
        """Count a failure; True when it opens (or, for a probe, re-opens) the breaker."""
        b = self._by_url.setdefault(url, _Breaker())
        b.failures += 1
        if b.failures >= self.failures:
            b.open_until = now + self.cooldown
            return True
        return False
