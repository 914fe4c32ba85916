"""The most specific rule of a code applies; a disabled one turns the code off where it applies."""

from __future__ import annotations

import random
import uuid
from typing import Any

from supplyline.rules.scoping import LEVELS, Context, ScopeIndex, effective

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


def test_the_scope_index_agrees_with_effective_everywhere() -> None:
    """ScopeIndex (the evaluator's) and effective (the reference) pick the same rules."""
    rng = random.Random(3)
    ids = {level: [uuid.uuid4() for _ in range(3)] for level in LEVELS}
    rules: list[dict[str, Any]] = []
    for n in range(60):
        code = f"c{n % 4}"
        rule: dict[str, Any] = {"id": n, "code": code, "enabled": rng.random() > 0.2}
        level = rng.choice([*LEVELS, None])
        if level is not None:
            rule[level] = ids[level][rng.randrange(3)]
        rules.append(rule)
    # One rule per code and scope, as the resource enforces: the last one written stays.
    unique = {(r["code"], *(r.get(lv) for lv in LEVELS)): r for r in rules}
    kept = list(unique.values())
    codes = sorted({r["code"] for r in kept})
    index = ScopeIndex(kept, codes)
    for _ in range(300):
        pick = {lv: rng.choice([*ids[lv], None]) for lv in LEVELS}
        products = frozenset(p for p in ids["product_id"] if rng.random() < 0.4)
        ctx = Context(pick["region_id"], pick["site_id"], pick["asset_type_id"], pick["asset_id"], products)
        want = {code: rule["id"] for code, rule in effective(kept, ctx).items()}
        got = {codes[c]: kept[i]["id"] for c, i in enumerate(index.winners(ctx)) if i >= 0}
        assert got == want, ctx
