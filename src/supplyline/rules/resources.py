"""Rules declared as a resource: CRUD, filters, events and history follow from the spec."""

from __future__ import annotations

from supplyline.resources import Ref, ResourceSpec
from supplyline.rules.checks import check_rules
from supplyline.rules.model import SCOPE_FIELDS, RuleIn
from supplyline.rules.tables import rules_rule

RULES = ResourceSpec(
    name="rules",
    entity="rule",
    title="Rule",
    capability="rules",
    table=rules_rule,
    fields=RuleIn,
    refs=(
        Ref("region_id", "regions"),
        Ref("site_id", "sites"),
        Ref("asset_type_id", "asset-types"),
        Ref("asset_id", "assets"),
        Ref("product_id", "products"),
    ),
    filters=("code", "enabled", "severity", *SCOPE_FIELDS),
    validate=check_rules,
    description="A condition over telemetry, where it applies and what it does when it holds.",
)

RESOURCES = [RULES]
