"""Dry-run a rule against stored history: what it would have raised and cleared, where.

The rule is checked as a save would check it, then evaluated on a fresh state over each device
it would apply to (its scope, as the evaluator matches scopes), reading the devices' stored
readings in the window. Nothing is written and no event is published. The rule is judged on
its own: other rules of its code that would win at some places are not consulted, so an
operator sees what this definition does before deciding where it should apply.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline import logistics, registry
from supplyline.kernel.errors import FieldError, Invalid
from supplyline.kernel.scope import Scope
from supplyline.rules.checks import condition_errors, known_metrics
from supplyline.rules.conditions import Area, compile_condition
from supplyline.rules.engine import State
from supplyline.rules.model import RuleIn
from supplyline.rules.scoping import Context, effective
from supplyline.telemetry import SeriesRequest, read_series

MAX_DEVICES = 1000
MAX_TRANSITIONS = 1000


class DryRunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rule: RuleIn
    start: datetime = Field(alias="from", description="Start of the history window (ISO 8601).")
    end: datetime | None = Field(default=None, alias="to", description="End of the window; default now.")
    devices: list[str] | None = Field(
        default=None, max_length=MAX_DEVICES, description="Only these devices (ids or codes)."
    )


async def dry_run(conn: AsyncConnection, scope: Scope, body: DryRunIn, now: datetime) -> dict[str, Any]:
    """``now``: the end of a window that names none (the caller's clock)."""
    scope.require("rules")
    tenant_id = scope.require_tenant()
    rule = body.rule.model_dump(mode="json")
    metrics = await known_metrics(conn, scope)
    errors = [FieldError(f"rule.{e.field}", e.reason) for e in condition_errors(rule["condition"], metrics)]
    if errors:
        raise Invalid.many(errors)
    end = body.end or now
    if end <= body.start:
        raise Invalid("to", "is not after from")
    sites = _sites(rule["condition"])
    circles = await registry.site_circles(conn, scope, [uuid.UUID(s) for s in sites]) if sites else {}
    areas = {str(k): Area(circle=v, polygon=None) for k, v in circles.items()}
    try:
        compiled = compile_condition(rule["condition"], metrics, areas)
    except ValueError as exc:
        raise Invalid("rule.condition", str(exc)) from None
    devices = await registry.device_assets(conn, scope, MAX_DEVICES)
    if body.devices is not None:
        wanted = set(body.devices)
        devices = [d for d in devices if str(d[0]) in wanted or d[1] in wanted]
    places = await registry.places_of_assets(conn, scope, [a for _, _, a in devices if a is not None])
    carried = await logistics.carried_by(conn, scope, [d for d, _, _ in devices], end)
    rule_key = {**rule, "id": "dry-run"}
    applies = []
    for device, code, asset in devices:
        site, region, asset_type = places.get(asset, (None, None, None)) if asset else (None, None, None)
        products = carried.get(device, logistics.Carried()).product_ids
        if effective([rule_key], Context(region, site, asset_type, asset, products)):
            applies.append((device, code))
    lo, hi = int(body.start.timestamp() * 1000), int(end.timestamp() * 1000)
    series = await read_series(conn, SeriesRequest(tenant_id, {d: [(lo, hi)] for d, _ in applies}))
    found: list[dict[str, Any]] = []
    readings = 0
    for device, code in applies:
        s = series.get(device)
        if s is None or not len(s.ts_ms):
            continue
        readings += len(s.ts_ms)
        for t in compiled.step(State(), s.ts_ms, s.metrics, live_after_ms=0):
            found.append(
                {
                    "device_id": str(device),
                    "device": code,
                    "transition": t.kind,
                    "at": datetime.fromtimestamp(t.at_ms / 1000, tz=UTC).isoformat(),
                    "metric": t.metric,
                    "value": t.value if t.value == t.value else None,
                }
            )
    found.sort(key=lambda f: (f["at"], f["device"]))
    return {
        "devices_evaluated": len(applies),
        "readings": readings,
        "raised": sum(1 for f in found if f["transition"] == "raised"),
        "cleared": sum(1 for f in found if f["transition"] == "cleared"),
        "transitions": found[:MAX_TRANSITIONS],
        "truncated": len(found) > MAX_TRANSITIONS,
    }


def _sites(node: dict[str, Any]) -> set[str]:
    out = {str(node["site_id"])} if node.get("kind") == "geofence" and node.get("site_id") else set()
    for child in node.get("conditions") or ():
        out |= _sites(child)
    return out
