"""What the rule tests share: an evaluator that reads the rules again every batch, and a clock
a test sets."""

from __future__ import annotations

from datetime import datetime

from supplyline.bootstrap import Services
from supplyline.kernel.clock import Clock, utcnow
from supplyline.rules import RuleEvaluator


def evaluator(services: Services, clock: Clock | None = None) -> RuleEvaluator:
    """Rules read again every batch (in service, within ``ttl`` seconds of a change)."""
    return RuleEvaluator(services.telemetry.directory, clock or services.clock, ttl=0)


class SetClock:
    """The wall clock until ``at`` is set; then ``at``, moved only by the test."""

    def __init__(self, at: datetime | None = None) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at if self.at is not None else utcnow()
