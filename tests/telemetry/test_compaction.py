"""Compaction moves readings between tiers without losing or doubling any, even interrupted."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from supplyline.bootstrap import Services
from supplyline.telemetry.storage.compactor import Compactor
from supplyline.telemetry.tables import telemetry_landing
from tests.conftest import TenantCtx
from tests.telemetry.fleet import Device, fleet, now_ms, send


async def test_an_interrupted_compaction_resumes_without_doubling(
    client: httpx.AsyncClient, tenant: TenantCtx, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    w: dict[str, Any] = await fleet(client, tenant)
    gw: Device = w["devices"]["gw"]
    ts = now_ms() - 60_000
    for k in range(3):
        batch = {
            "readings": [
                {"device": f"cr-{i}", "seq": k, "ts": ts + k, "metrics": {"temperature_c": float(k)}}
                for i in range(3)
            ]
        }
        assert (await send(client, gw, batch)).json()["accepted"] == 3

    async def series(code: str) -> list[Any]:
        r = await client.get(
            "/v1/telemetry", params={"device": code, "metric": "temperature_c"}, headers=tenant.headers
        )
        return r.json()["series"][0]["points"]

    before = {code: await series(code) for code in ("cr-0", "cr-1", "cr-2")}
    compactor = Compactor(services.uow, services.engine, slice_devices=1)
    original = Compactor._compact_slice
    calls = 0

    async def crash_after_one(self: Compactor, devices: Any, last_row: int) -> int:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("power cut between slices")
        return await original(self, devices, last_row)

    monkeypatch.setattr(Compactor, "_compact_slice", crash_after_one)
    with pytest.raises(RuntimeError):
        await compactor.run_once()
    # One device is in chunks, the others still only in landing rows: each reading once.
    assert {code: await series(code) for code in before} == before
    monkeypatch.setattr(Compactor, "_compact_slice", original)
    assert await compactor.drain() == 6  # the two devices left; the first is not folded twice
    assert {code: await series(code) for code in before} == before
    async with services.read_engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(telemetry_landing))).scalar() == 0
    latest = (
        await client.get("/v1/telemetry/latest", params={"device": "cr-0"}, headers=tenant.headers)
    ).json()
    assert latest["items"][0]["values"]["temperature_c"]["value"] == 2.0
