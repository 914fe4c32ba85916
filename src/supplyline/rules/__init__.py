"""Rules: conditions over telemetry as versioned data, scoped tenant > region > site > asset
type > asset or product; evaluation, alarms and actions build on them."""

from supplyline.rules.actions import RuleActions
from supplyline.rules.dryrun import DryRunIn, dry_run
from supplyline.rules.evaluator import RuleEvaluator
from supplyline.rules.events import CONDITION_CLEARED, CONDITION_RAISED, EVENT_TYPES, EXCURSION_RECORDED
from supplyline.rules.resources import RESOURCES
from supplyline.rules.visibility import VISIBILITY

__all__ = [
    "CONDITION_CLEARED",
    "CONDITION_RAISED",
    "EVENT_TYPES",
    "EXCURSION_RECORDED",
    "RESOURCES",
    "VISIBILITY",
    "DryRunIn",
    "RuleActions",
    "RuleEvaluator",
    "dry_run",
]
