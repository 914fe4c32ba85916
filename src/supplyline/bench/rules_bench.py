"""``supplyline bench rules``: what 1,000 active rules across 10,000 devices cost ingestion.

One fleet, one run, two phases through the real server on SQLite, each on its own copy of the
same database and with the same signed gateway batches: the 1,000 rules archived
(``readings_per_s_no_rules``), then live (``readings_per_s_rules``); ``ratio`` is rules over no
rules (target: at least 0.7).

The rules are what a tenant of that size has: 10 codes (temperature high and low, with and
without hysteresis, a 10-minute duration, a 60-minute cold-chain budget, humidity, battery, a
door held open), each with a tenant default and overrides for 10 sites, 20 asset types and 69
individual assets; every device sits on one of 1,000 assets, so each reading meets the 10
rules that win for its place. A few asset overrides sit close to the readings and fire, so
the run includes conditions raised and cleared (and their events), not only quiet comparisons.
Both phases get the same untimed warm-up round.
"""

from __future__ import annotations

import dataclasses
import random
import sqlite3
import sys
import uuid
from pathlib import Path
from typing import Any

from supplyline.bench.fleet import Fleet, prepare_fleet
from supplyline.bench.ingest_bench import (
    _batches,
    _free_port,
    _wait_compacted,
    _wait_consumers,
    _wait_ready,
    server_process,
)
from supplyline.bench.loadgen import drive
from supplyline.bootstrap import build_services
from supplyline.kernel.scope import Scope

SITES, ASSET_TYPES, ASSETS = 10, 20, 1000


def _conditions() -> list[tuple[str, dict[str, Any]]]:
    """(code, condition) of the tenant defaults; overrides shift the limits."""
    t = "temperature_c"
    return [
        ("temp-max", {"kind": "threshold", "metric": t, "op": ">", "value": 8.0}),
        ("temp-min", {"kind": "threshold", "metric": t, "op": "<", "value": 2.0}),
        ("temp-hyst", {"kind": "threshold", "metric": t, "op": ">", "value": 9.0, "clear_at": 8.0}),
        ("temp-long", {"kind": "duration", "metric": t, "op": ">", "value": 8.0, "for_s": 600}),
        ("temp-budget", {"kind": "cumulative", "metric": t, "op": ">", "value": 8.0, "budget_s": 3600}),
        ("humid-max", {"kind": "threshold", "metric": "humidity_pct", "op": ">", "value": 90.0}),
        ("humid-min", {"kind": "threshold", "metric": "humidity_pct", "op": "<", "value": 20.0}),
        ("battery-low", {"kind": "threshold", "metric": "battery_v", "op": "<", "value": 3.3}),
        ("battery-crit", {"kind": "duration", "metric": "battery_v", "op": "<", "value": 3.0, "for_s": 300}),
        ("door-open", {"kind": "duration", "metric": "door_open", "op": ">", "value": 0, "for_s": 300}),
    ]


def _shifted(cond: dict[str, Any], by: float) -> dict[str, Any]:
    """The condition relaxed by ``by`` (tightened when negative): a higher upper limit, a
    lower lower limit; a door (a boolean) may stay open longer instead."""
    if cond["metric"] == "door_open":
        return {**cond, "for_s": round(cond["for_s"] * (1 + by))}
    step = by if cond["op"] in (">", ">=") else -by
    out = {**cond, "value": cond["value"] + step}
    if "clear_at" in out:
        out["clear_at"] = out["clear_at"] + step
    return out


async def _add_places_and_rules(fleet: Fleet, devices: int) -> int:
    """Sites, asset types and assets; every device onto an asset; then the 1,000 rules."""
    rng = random.Random(11)  # noqa: S311 - a repeatable layout, not a secret
    svc = build_services(fleet.settings())
    try:
        tenant_id = await _tenant_id(fleet)
        scope = Scope.system(tenant_id, "bench")
        res = svc.resources
        async with svc.uow() as uow:
            region = await res.create(uow, scope, "regions", {"code": "R1", "name": "Region 1"})
            sites = await res.create_many(
                uow,
                scope,
                "sites",
                [
                    {"code": f"S{i}", "name": f"Site {i}", "kind": "warehouse", "region_id": region["id"]}
                    for i in range(SITES)
                ],
            )
            types = await res.create_many(
                uow,
                scope,
                "asset-types",
                [{"code": f"T{i}", "name": f"Type {i}", "kind": "trailer"} for i in range(ASSET_TYPES)],
            )
            assets = await res.create_many(
                uow,
                scope,
                "assets",
                [
                    {
                        "code": f"A{i}",
                        "name": f"Asset {i}",
                        "asset_type_id": types[i % ASSET_TYPES]["id"],
                        "site_id": sites[i % SITES]["id"],
                    }
                    for i in range(ASSETS)
                ],
            )
            rules: list[dict[str, Any]] = []
            for code, cond in _conditions():
                rules.append({"code": code, "name": code, "condition": cond})
                for s in sites:
                    rules.append(
                        {"code": code, "name": code, "site_id": s["id"], "condition": _shifted(cond, 0.5)}
                    )
                for t in types:
                    rules.append(
                        {"code": code, "name": code, "asset_type_id": t["id"], "condition": _shifted(cond, 1)}
                    )
                for n, a in enumerate(rng.sample(assets, 69)):
                    # Three asset overrides sit inside the readings' range (4.0-4.6 C): their
                    # 30 devices raise and clear as the bench's readings cycle, with the events
                    # and the actions that follow (alarms), as a few excursions would.
                    near = code == "temp-max" and n < 3
                    cond_a = {**cond, "value": 4.45} if near else _shifted(cond, -0.2)
                    rules.append({"code": code, "name": code, "asset_id": a["id"], "condition": cond_a})
            for start in range(0, len(rules), 200):
                await res.create_many(uow, scope, "rules", rules[start : start + 200])
            await uow.commit()
    finally:
        await svc.close()
    db = sqlite3.connect(fleet.db_path)
    try:
        ids = [
            row[0] for row in db.execute("SELECT id FROM registry_device WHERE kind = 'sensor' ORDER BY code")
        ]
        asset_ids = [a["id"] for a in assets]
        db.executemany(
            "UPDATE registry_device SET asset_id = ? WHERE id = ?",
            [(uuid_hex(asset_ids[i % ASSETS]), dev) for i, dev in enumerate(ids)],
        )
        db.commit()
    finally:
        db.close()
    return len(rules)


def uuid_hex(value: Any) -> str:
    """How the Uuid type stores a UUID in SQLite: 32 hex digits."""
    return str(value).replace("-", "")


async def _tenant_id(fleet: Fleet) -> uuid.UUID:
    db = sqlite3.connect(fleet.db_path)
    try:
        (raw,) = db.execute("SELECT id FROM access_tenant WHERE slug = 'bench'").fetchone()
    finally:
        db.close()
    return uuid.UUID(raw)


async def _phase(fleet: Fleet, requests: list[bytes], gateways: int, connections: int, port: int) -> float:
    """Start a server, warm it with one round, time the rest; readings per second."""
    env = fleet.env(
        SUPPLYLINE_PORT=str(port), SUPPLYLINE_ACCESS_LOG="false", SUPPLYLINE_TELEMETRY_MAX_BATCH="5000"
    )
    serve = [sys.executable, "-m", "supplyline", "serve"]
    with server_process(serve, env, fleet.work_dir / f"server-{port}.log") as server:
        await _wait_ready("127.0.0.1", port, server)
        _, _, status = await drive("127.0.0.1", port, requests[:gateways], connections)
        await _wait_consumers(fleet.db_path)
        # The previous phase's readings are compacted before timing: otherwise the second
        # phase would share the machine with the first one's compaction.
        await _wait_compacted(fleet.db_path)
        wall, _, more = await drive("127.0.0.1", port, requests[gateways:], connections)
        bad = [s for s in [*status, *more] if s != 200]
    if bad:
        raise RuntimeError(f"{len(bad)} requests failed, e.g. HTTP {bad[0]}")
    per: int = fleet.setup["per"]
    return (len(requests) - gateways) * per / float(wall)


async def run_rules_bench(
    work_dir: Path,
    *,
    devices: int = 10_000,
    gateways: int = 10,
    rounds: int = 60,
    connections: int = 4,
    repeats: int = 5,
) -> dict[str, Any]:
    fleet = await prepare_fleet(work_dir, gateways, devices, 1)
    n_rules = await _add_places_and_rules(fleet, devices)
    # Every phase starts from a copy of the same database and sends the same batches: the only
    # difference is whether the 1,000 rules are live (archived ones are not evaluated). Phases
    # alternate (without, with, without, with...) and each pair gives a ratio; the median pair
    # is reported, so that a burst of noise on a shared machine does not decide the figure.
    port = _free_port()
    requests, _ = _batches(fleet.setup, gateways, rounds + 1, f"127.0.0.1:{port}")
    pairs: list[tuple[float, float]] = []
    last = fleet
    for n in range(repeats):
        without = await _phase(
            _copy(fleet, f"no-rules-{n}", live=False), requests, gateways, connections, port
        )
        last = _copy(fleet, f"rules-{n}")
        with_rules = await _phase(last, requests, gateways, connections, port)
        pairs.append((with_rules, without))
    with_rules, without = sorted(pairs, key=lambda p: p[0] / p[1])[len(pairs) // 2]
    fleet = last
    db = sqlite3.connect(fleet.db_path)
    try:
        raised = db.execute(
            "SELECT count(*) FROM eventlog_event WHERE type = 'supplyline.rule.condition_raised.v1'"
        ).fetchone()[0]
    finally:
        db.close()
    return {
        "readings_per_s_rules": round(with_rules),
        "readings_per_s_no_rules": round(without),
        "ratio": round(with_rules / without, 3),
        "rules": n_rules,
        "devices": devices,
        "readings_per_phase": rounds * devices,
        "conditions_raised": raised,
        "pair_ratios": [round(w / o, 3) for w, o in pairs],
        "backend": "sqlite",
    }


def _copy(fleet: Fleet, name: str, *, live: bool = True) -> Fleet:
    """The fleet's database copied into a directory of its own (same secret key)."""
    where = fleet.work_dir / name
    where.mkdir()
    src = sqlite3.connect(fleet.db_path)
    dst = sqlite3.connect(where / fleet.db_path.name)
    try:
        src.backup(dst)
        if not live:
            dst.execute("UPDATE rules_rule SET archived_at = '2000-01-01 00:00:00'")
            dst.commit()
    finally:
        src.close()
        dst.close()
    path = where / fleet.db_path.name
    return dataclasses.replace(fleet, work_dir=where, db_path=path, url=f"sqlite:///{path}")
