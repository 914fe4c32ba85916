"""Rules: conditions over telemetry as versioned data, scoped tenant > region > site > asset
type > asset or product; evaluation, alarms and actions build on them."""

from supplyline.rules.evaluator import RuleEvaluator
from supplyline.rules.events import EVENT_TYPES
from supplyline.rules.resources import RESOURCES

__all__ = ["EVENT_TYPES", "RESOURCES", "RuleEvaluator"]
