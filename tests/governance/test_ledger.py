"""After retention purged the start of a chain, the ledger still verifies from its signed
anchor, and tampering above the anchor (or with the anchor) is still reported."""

from __future__ import annotations

import asyncio
import hmac
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import delete, select, update

from supplyline.bootstrap import Services
from supplyline.kernel.clock import utcnow
from supplyline.trace import CONSUMER_NAME, anchors, recorder_coverage, verify
from supplyline.trace.tables import trace_anchor
from tests.conftest import TenantCtx
from tests.governance.conftest import catch_up, count, make_history, set_retention
from tests.trace.conftest import KEY, checkpoints, delete_checkpoint, set_event

YEAR = timedelta(days=365)


async def problems(svc: Services, tenant_id: uuid.UUID | None = None) -> list[tuple[int | None, str]]:
    coverage = await recorder_coverage(svc.consumers)
    async with svc.read_engine.connect() as conn:
        report = await verify(conn, KEY, tenant_id, coverage=coverage)
    return [(p.seq, p.kind) for p in report.problems]


async def set_anchor(svc: Services, tenant_id: uuid.UUID, **values: Any) -> None:
    async with svc.engine.begin() as conn:
        await conn.execute(update(trace_anchor).where(trace_anchor.c.tenant_id == tenant_id).values(**values))


async def purged_history(client: httpx.AsyncClient, svc: Services, tenant: TenantCtx) -> int:
    """Old and new history; traceability, audit and events purged up to between them. Returns
    the anchor's seq."""
    await make_history(svc, tenant, "old")
    await make_history(svc, tenant, "older")
    await catch_up(svc)
    cutoff = utcnow()
    await asyncio.sleep(0.01)
    await make_history(svc, tenant, "new")
    await set_retention(client, tenant, events=365, audit=365, traceability=365)
    await catch_up(svc)
    done = await svc.purger.run(now=cutoff + YEAR)
    assert [p.deleted > 0 for p in done] == [True, True, True]
    await catch_up(svc)  # the purges' own entries are chained after the anchor
    (anchor,) = await _anchors(svc, tenant.id)
    return anchor


async def _anchors(svc: Services, tenant_id: uuid.UUID) -> list[int]:
    async with svc.read_engine.connect() as conn:
        return [a.seq for a in await anchors(conn, tenant_id)]


async def test_the_ledger_verifies_after_a_purge_of_all_three_classes(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx, other_tenant: TenantCtx
) -> None:
    await make_history(services, other_tenant, "theirs")
    anchor = await purged_history(client, services, tenant)
    cps = await checkpoints(services, tenant.id)
    assert anchor == 6 and cps[0]["seq"] == 7 and cps[0]["prev_hash"] != "0" * 64
    assert await problems(services) == []
    r = await client.get("/v1/ledger/verify", headers=tenant.headers)
    assert r.json() == {"ok": True, "checked": len(cps), "tenants": 1, "problems": []}

    # A replay of the recorder from the start records nothing again below the anchor.
    await services.consumers.replay(CONSUMER_NAME, 1)
    assert await checkpoints(services, tenant.id) == cps
    assert await problems(services) == []


async def test_tampering_above_the_anchor_is_still_reported(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    anchor = await purged_history(client, services, tenant)
    cps = await checkpoints(services, tenant.id)
    await set_event(services, cps[1]["event_id"], actor="someone else")
    assert await problems(services, tenant.id) == [(anchor + 2, "changed")]
    await delete_checkpoint(services, tenant.id, anchor + 1)
    # The gap in the chain, and its event, which the recorder has read past, without a checkpoint.
    assert await problems(services, tenant.id) == [
        (anchor + 1, "removed"),
        (anchor + 2, "changed"),
        (None, "removed"),
    ]


async def test_a_forged_or_deleted_anchor_is_not_accepted(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    anchor = await purged_history(client, services, tenant)
    # Moved up to hide the next checkpoint: the signature no longer verifies.
    await delete_checkpoint(services, tenant.id, anchor + 1)
    first = (await checkpoints(services, tenant.id))[0]
    await set_anchor(services, tenant.id, seq=anchor + 1, hash=first["prev_hash"])
    found = await problems(services, tenant.id)
    assert (anchor + 1, "bad_signature") in found and (1, "removed") in found

    # Gone altogether: the purged start of the chain reads as removed.
    async with services.engine.begin() as conn:
        await conn.execute(delete(trace_anchor).where(trace_anchor.c.tenant_id == tenant.id))
    assert (1, "removed") in await problems(services, tenant.id)


async def test_a_chain_purged_whole_goes_on_from_its_anchor(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    await make_history(services, tenant, "old")
    await set_retention(client, tenant, traceability=365)
    await catch_up(services)
    done = await services.purger.run(now=utcnow() + 2 * YEAR)
    assert done[0].deleted == 2 + 1 + 1  # the conditions, the history's entry, the PUT's
    assert await count(services, tenant.id, checkpoints=True) == 0
    # The events stay (no events or audit retention), no longer covered: purged, not uncovered.
    assert await problems(services) == []

    await make_history(services, tenant, "later")
    await catch_up(services)
    cps = await checkpoints(services, tenant.id)
    assert cps[0]["seq"] == 5
    async with services.read_engine.connect() as conn:
        (kept,) = await anchors(conn, tenant.id)
        stmt = select(trace_anchor.c.hash).where(trace_anchor.c.tenant_id == tenant.id)
        assert (await conn.execute(stmt)).scalar_one() == kept.hash == cps[0]["prev_hash"]
    assert await problems(services) == []


async def test_the_anchor_is_signed_as_documented(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    await purged_history(client, services, tenant)
    async with services.read_engine.connect() as conn:
        (a,) = await anchors(conn, tenant.id)
    micros = (a.cutoff - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    body = (
        b"supplyline.trace.anchor.v1"
        + a.tenant_id.bytes
        + a.seq.to_bytes(8, "big")
        + bytes.fromhex(a.hash)
        + a.event_position.to_bytes(8, "big")
        + micros.to_bytes(8, "big", signed=True)
    )
    assert len(body) == 98
    assert a.signature == hmac.new(KEY, body, "sha256").hexdigest()
