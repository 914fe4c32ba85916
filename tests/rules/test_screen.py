"""The vectorised screen steps exactly the (rule, device) pairs whose state can change: random
batches of many devices, codes and kinds give the same transitions as stepping every device
through its winning rule one by one (the reference), in and out of order."""

from __future__ import annotations

import random
import time
import uuid
from datetime import datetime
from typing import Any

import numpy as np

from supplyline.bootstrap import Services
from supplyline.kernel.scope import Scope
from supplyline.rules.conditions import compile_condition
from supplyline.rules.engine import State
from supplyline.telemetry.metrics import CANONICAL_METRICS
from supplyline.telemetry.storage.codec import Columns
from tests.conftest import TenantCtx
from tests.rules import support

T, H = "temperature_c", "humidity_pct"
DEFAULTS = {
    "t-max": {"kind": "threshold", "metric": T, "op": ">", "value": 8.0},
    "t-min": {"kind": "threshold", "metric": T, "op": "<=", "value": 2.0},
    "t-hyst": {"kind": "threshold", "metric": T, "op": ">", "value": 9.0, "clear_at": 7.0},
    "t-long": {"kind": "duration", "metric": T, "op": ">", "value": 8.0, "for_s": 120},
    "t-budget": {"kind": "cumulative", "metric": T, "op": ">=", "value": 8.0, "budget_s": 300},
    "t-rate": {"kind": "rate_of_change", "metric": T, "max_per_min": 3.0},
    "h-max": {"kind": "threshold", "metric": H, "op": ">", "value": 80.0, "clear_at": 75.0},
}


def shifted(cond: dict[str, Any], by: float) -> dict[str, Any]:
    if "value" not in cond:
        return {**cond, "max_per_min": cond["max_per_min"] + by}
    out = {**cond, "value": cond["value"] + by}
    if "clear_at" in out:
        out["clear_at"] += by
    return out


async def test_the_screen_steps_what_stepping_everything_would_change(
    services: Services, tenant: TenantCtx
) -> None:
    rng = random.Random(5)
    scope = Scope.system(tenant.id, "test")
    res = services.resources
    async with services.uow() as uow:
        sites = await res.create_many(
            uow, scope, "sites", [{"code": f"S{i}", "name": f"S{i}", "kind": "warehouse"} for i in range(2)]
        )
        kind = await res.create(uow, scope, "asset-types", {"code": "K", "name": "K", "kind": "trailer"})
        assets = await res.create_many(
            uow,
            scope,
            "assets",
            [
                {"code": f"A{i}", "name": f"A{i}", "site_id": sites[i % 2]["id"], "asset_type_id": kind["id"]}
                for i in range(4)
            ],
        )
        profile = await res.create(
            uow, scope, "device-profiles", {"code": "P", "name": "P", "device_kind": "sensor"}
        )
        devices = await res.create_many(
            uow,
            scope,
            "devices",
            [
                {
                    "code": f"d{i}",
                    "kind": "sensor",
                    "asset_id": assets[i % 4]["id"],
                    "device_profile_id": profile["id"],
                }
                for i in range(16)
            ],
        )
        rules = []
        for code, cond in DEFAULTS.items():
            rules.append({"code": code, "name": code, "condition": cond})
            rules.append(
                {"code": code, "name": code, "site_id": sites[1]["id"], "condition": shifted(cond, 1)}
            )
            rules.append(
                {"code": code, "name": code, "asset_id": assets[3]["id"], "condition": shifted(cond, -1)}
            )
        rules = await res.create_many(uow, scope, "rules", rules)
        await uow.commit()

    def winner(device: dict[str, Any], code: str) -> dict[str, Any]:
        asset = next(a for a in assets if a["id"] == device["asset_id"])
        mine = [r for r in rules if r["code"] == code]
        for r in mine:
            if r.get("asset_id") == asset["id"]:
                return r
        for r in mine:
            if r.get("site_id") == asset["site_id"]:
                return r
        return next(r for r in mine if not r.get("site_id") and not r.get("asset_id"))

    evaluator = support.evaluator(services)
    compiled = {r["id"]: compile_condition(r["condition"], CANONICAL_METRICS) for r in rules}
    states: dict[tuple[Any, Any], State] = {}
    expected: set[tuple[str, str, str, int, bool]] = set()
    live_after = int(time.time() * 1000) - 600_000
    start = int(time.time() * 1000) - 300_000
    last: dict[int, int] = {}
    for batch in range(12):
        chosen = rng.sample(range(len(devices)), 10)
        idx, ts, temp, hum = [], [], [], []
        for d in chosen:
            for _ in range(rng.randint(1, 4)):
                back = last.get(d) is not None and rng.random() < 0.1
                t = (
                    (last[d] - rng.randint(1, 20) * 1000)
                    if back
                    else start + batch * 20_000 + rng.randint(0, 19_999)
                )
                last[d] = max(last.get(d, t), t)
                idx.append(chosen.index(d))
                ts.append(t)
                temp.append(rng.choice([np.nan, rng.uniform(0, 12)]))
                hum.append(rng.choice([np.nan, np.nan, rng.uniform(60, 95)]))
        ids = [uuid.UUID(str(devices[d]["id"])) for d in chosen]
        cols = Columns(
            ids,
            np.array(idx, np.int32),
            np.array(ts, np.int64),
            np.full(len(ts), -1, np.int64),
            {T: np.array(temp), H: np.array(hum)},
        )
        async with services.uow() as uow:
            await evaluator.evaluate(uow, tenant.id, cols, {i: str(i) for i in ids}, {})
            await uow.commit()
        for j, d in enumerate(chosen):
            rows = np.flatnonzero(cols.device_idx == j)
            for code in DEFAULTS:
                rule = winner(devices[d], code)
                c = compiled[rule["id"]]
                values = {m: v[rows] for m, v in cols.metrics.items()}
                state = states.setdefault((rule["id"], ids[j]), State())
                for tr in c.step(state, cols.ts_ms[rows], values, live_after):
                    expected.add((str(rule["id"]), str(ids[j]), tr.kind, tr.at_ms, tr.late))

    async with services.read_engine.connect() as conn:
        events = await services.events.read(conn, after=0, limit=100_000, tenant_id=tenant.id)
    got = {
        (
            e.data["rule_id"],
            e.data["device_id"],
            e.data["transition"],
            int(datetime.fromisoformat(e.data["at"]).timestamp() * 1000),
            e.data["late"],
        )
        for e in events
        if e.type.startswith("supplyline.rule.condition_")
    }
    assert len(expected) > 50  # the walk crosses limits often, in and out of order
    rule_code = {str(r["id"]): r["code"] for r in rules}
    assert sorted((rule_code[g[0]], *g[1:]) for g in got - expected) == sorted(
        (rule_code[e[0]], *e[1:]) for e in expected - got
    )
