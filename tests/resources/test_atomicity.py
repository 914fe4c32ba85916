"""Nothing half-written: a refused or failed write leaves no row, no child row and no event."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import httpx
import pytest
from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.bootstrap import Services
from supplyline.db.uow import SqlUnitOfWork
from supplyline.kernel.errors import Invalid
from supplyline.kernel.events import NewEvent
from tests.api.samples import assert_problem, events_of
from tests.conftest import TenantCtx
from tests.factories import world

SITE = {"code": "S1", "name": "Site 1", "kind": "store"}


async def _rows(services: Services, table: Table) -> int:
    async with services.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def test_refused_creates_leave_nothing(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    w = await world(client, tenant.headers)
    orders, lines = services.catalog["orders"].table, services.catalog["orders"].children[0].table
    events = len(await events_of(client, tenant.headers))
    sites = await _rows(services, services.catalog["sites"].table)

    r = await client.post("/v1/sites", json={**SITE, "region_id": str(uuid.uuid4())}, headers=tenant.headers)
    assert_problem(r, 422, "region_id")
    line = {"product_id": w["product"]["id"], "lot_id": w["lot"]["id"], "quantity": 1, "unit": "each"}
    order = {
        "number": "SO-9",
        "kind": "sales",
        "lines": [line, {**line, "quantity": 2}, {**line, "lot_id": str(uuid.uuid4())}],
    }
    r = await client.post("/v1/orders", json=order, headers=tenant.headers)
    body = assert_problem(r, 422, "lines.2.lot_id", "no lot")
    assert [e["field"] for e in body["errors"]] == ["lines.2.lot_id"]

    assert await _rows(services, services.catalog["sites"].table) == sites
    assert await _rows(services, orders) == 0 and await _rows(services, lines) == 0
    assert len(await events_of(client, tenant.headers)) == events
    r = await client.get("/v1/orders", params={"number": "SO-9"}, headers=tenant.headers)
    assert r.json()["items"] == []


async def test_refused_patches_leave_the_record_as_it_was(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    w = await world(client, tenant.headers)
    line = {"product_id": w["product"]["id"], "lot_id": w["lot"]["id"], "quantity": 1, "unit": "each"}
    r = await client.post(
        "/v1/orders", json={"number": "SO-1", "kind": "sales", "lines": [line, line]}, headers=tenant.headers
    )
    order = r.json()
    events = len(await events_of(client, tenant.headers))
    bad_lines = [line, {**line, "product_id": str(uuid.uuid4())}, {**line, "quantity": 0}]
    r = await client.patch(
        f"/v1/orders/{order['id']}", json={"status": "closed", "lines": bad_lines}, headers=tenant.headers
    )
    assert_problem(r, 422, "lines.2.quantity")
    r = await client.patch(
        f"/v1/orders/{order['id']}", json={"status": "closed", "lines": bad_lines[:2]}, headers=tenant.headers
    )
    assert_problem(r, 422, "lines.1.product_id", "no product")
    assert (await client.get(f"/v1/orders/{order['id']}", headers=tenant.headers)).json() == order
    assert await _rows(services, services.catalog["orders"].children[0].table) == 2
    assert len(await events_of(client, tenant.headers)) == events


async def test_a_batch_is_all_or_nothing(services: Services, tenant: TenantCtx) -> None:
    batch: list[dict[str, Any]] = [{**SITE, "code": f"S{i}"} for i in range(3)]
    batch[2]["region_id"] = uuid.uuid4()
    async with services.uow() as uow:
        with pytest.raises(Invalid) as refused:
            await services.resources.create_many(uow, tenant.scope, "sites", batch)
    assert [e.field for e in refused.value.errors] == ["2.region_id"]
    assert await _rows(services, services.catalog["sites"].table) == 0


async def test_a_failure_after_the_rows_rolls_them_back(services: Services, tenant: TenantCtx) -> None:
    """The event log refuses the append: the rows written before it must not survive."""

    async def broken_log(conn: AsyncConnection, events: Sequence[NewEvent], correlation_id: str) -> None:
        raise RuntimeError("event log unavailable")

    async with SqlUnitOfWork(services.engine, broken_log) as uow:
        await services.resources.create(uow, tenant.scope, "sites", SITE)
        with pytest.raises(RuntimeError):
            await uow.commit()
    assert await _rows(services, services.catalog["sites"].table) == 0
    async with services.engine.connect() as conn:
        logged = await services.events.read(conn, tenant_id=tenant.id)
    assert [e.type for e in logged if e.subject.startswith("sites/")] == []
