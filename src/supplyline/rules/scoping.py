"""Which rule applies where: the most specific scope wins, per rule code.

A tenant-wide default, a regional policy and one customer's product SLA can share a code; for a
reading of a tracker on an asset at a site, the asset's rule wins over the product's, the
product's over the asset type's, then the site's, the region's and last the tenant's. The
winner applies even when disabled: disabling a site's rule turns the code off at that site
rather than falling back to the default.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# Most specific first.
LEVELS = ("asset_id", "product_id", "asset_type_id", "site_id", "region_id")


@dataclass(frozen=True)
class Context:
    """Where a reading comes from, as far as rules are concerned."""

    region_id: uuid.UUID | None = None
    site_id: uuid.UUID | None = None
    asset_type_id: uuid.UUID | None = None
    asset_id: uuid.UUID | None = None
    product_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)


def _rank(rule: Mapping[str, Any], ctx: Context) -> int | None:
    """0 for the most specific match, len(LEVELS) for tenant-wide, None if it does not apply."""
    for rank, level in enumerate(LEVELS):
        value = rule.get(level)
        if value is None:
            continue
        value = uuid.UUID(str(value))
        if level == "product_id":
            return rank if value in ctx.product_ids else None
        return rank if getattr(ctx, level) == value else None
    return len(LEVELS)


def effective(rules: Iterable[Mapping[str, Any]], ctx: Context) -> dict[str, Mapping[str, Any]]:
    """code -> the rule that applies in ``ctx`` (enabled ones only; archived rules are not given)."""
    best: dict[str, tuple[int, Mapping[str, Any]]] = {}
    for rule in rules:
        rank = _rank(rule, ctx)
        if rank is None:
            continue
        known = best.get(rule["code"])
        if known is None or rank < known[0]:
            best[rule["code"]] = (rank, rule)
    return {code: rule for code, (_, rule) in best.items() if rule.get("enabled", True)}


class ScopeIndex:
    """``effective`` for many places at once: per code, the rules of each level keyed by what
    they name, so finding the winner costs a few lookups per code instead of a pass over every
    rule; places that share a context (devices on one asset) share the answer."""

    def __init__(self, rules: Sequence[Mapping[str, Any]], codes: list[str]) -> None:
        self.codes = codes
        at = {code: c for c, code in enumerate(codes)}
        self._levels: list[dict[str, dict[uuid.UUID, int]]] = [{lv: {} for lv in LEVELS} for _ in codes]
        self._default: list[int | None] = [None] * len(codes)
        self._enabled = [bool(r.get("enabled", True)) for r in rules]
        for i, rule in enumerate(rules):
            c = at[rule["code"]]
            for level in LEVELS:
                if rule.get(level) is not None:
                    self._levels[c][level][uuid.UUID(str(rule[level]))] = i
                    break
            else:
                self._default[c] = i
        self._memo: dict[Context, list[int]] = {}

    def winners(self, ctx: Context) -> list[int]:
        """Per code, the index of the rule that applies in ``ctx``, or -1 (none, or disabled)."""
        found = self._memo.get(ctx)
        if found is not None:
            return found
        out = []
        for c in range(len(self.codes)):
            levels, winner = self._levels[c], self._default[c]
            for level in LEVELS:
                table = levels[level]
                if not table:
                    continue
                if level == "product_id":
                    hits = [table[p] for p in ctx.product_ids if p in table]
                    hit = min(hits) if hits else None
                else:
                    value = getattr(ctx, level)
                    hit = table.get(value) if value is not None else None
                if hit is not None:
                    winner = hit
                    break
            out.append(winner if winner is not None and self._enabled[winner] else -1)
        self._memo[ctx] = out
        return out
