"""The most specific rule of a code applies; a disabled one turns the code off where it applies."""

from __future__ import annotations

import uuid
from typing import Any

from supplyline.rules.scoping import Context, effective

REGION, SITE, OTHER_SITE, TYPE, ASSET, PRODUCT = (uuid.uuid4() for _ in range(6))


def rule(name: str, **scope: Any) -> dict[str, Any]:
    return {"code": "cold-chain-max", "name": name, "enabled": scope.pop("enabled", True), **scope}


RULES = [
    rule("default"),
    rule("regional", region_id=REGION),
    rule("site", site_id=SITE),
    rule("reefers", asset_type_id=TYPE),
    rule("customer sla", product_id=PRODUCT),
    rule("this trailer", asset_id=ASSET),
    {"code": "door-open", "name": "doors", "enabled": True},
]


def winner(ctx: Context) -> str:
    return str(effective(RULES, ctx)["cold-chain-max"]["name"])


def test_the_most_specific_scope_wins() -> None:
    assert winner(Context()) == "default"
    assert winner(Context(region_id=REGION)) == "regional"
    assert winner(Context(region_id=REGION, site_id=SITE)) == "site"
    assert winner(Context(region_id=REGION, site_id=OTHER_SITE)) == "regional"
    assert winner(Context(site_id=SITE, asset_type_id=TYPE)) == "reefers"
    assert (
        winner(Context(site_id=SITE, asset_type_id=TYPE, product_ids=frozenset({PRODUCT}))) == "customer sla"
    )
    full = Context(REGION, SITE, TYPE, ASSET, frozenset({PRODUCT}))
    assert winner(full) == "this trailer"
    assert set(effective(RULES, full)) == {"cold-chain-max", "door-open"}


def test_a_disabled_specific_rule_turns_the_code_off_there_only() -> None:
    rules = [*RULES, rule("site off", site_id=OTHER_SITE, enabled=False)]
    assert "cold-chain-max" not in effective(rules, Context(region_id=REGION, site_id=OTHER_SITE))
    assert effective(rules, Context(region_id=REGION))["cold-chain-max"]["name"] == "regional"
