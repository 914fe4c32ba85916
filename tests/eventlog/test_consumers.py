"""Named consumers: durable positions, replay that rebuilds a projection, no skipping on failure."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.bootstrap import Services
from supplyline.eventlog import ConsumerFailed, ConsumerRunner
from supplyline.eventlog.projections import EntityIndexProjection, entity_counts, eventlog_entity_index
from supplyline.kernel.events import StoredEvent
from tests.conftest import TenantCtx


async def seed(svc: Services, tenant: TenantCtx) -> None:
    async with svc.uow() as uow:
        regions = await svc.resources.create_many(
            uow, tenant.scope, "regions", [{"code": f"R{i}", "name": f"Region {i}"} for i in range(5)]
        )
        await svc.resources.update(uow, tenant.scope, "regions", regions[0]["id"], {"name": "Renamed"})
        await svc.resources.archive(uow, tenant.scope, "regions", regions[1]["id"])
        await svc.resources.create(uow, tenant.scope, "sites", {"code": "S1", "name": "S", "kind": "depot"})
        await uow.commit()


async def snapshot(svc: Services) -> list[dict[str, Any]]:
    t = eventlog_entity_index
    async with svc.read_engine.connect() as conn:
        rows = await conn.execute(select(t).order_by(t.c.tenant_id, t.c.subject))
        return [dict(r) for r in rows.mappings().all()]


async def test_replay_rebuilds_the_same_projection(services: Services, tenant: TenantCtx) -> None:
    await seed(services, tenant)
    runner = services.consumers
    assert await runner.catch_up("entity-index") > 0
    built = await snapshot(services)
    async with services.read_engine.connect() as conn:
        counts = await entity_counts(conn, tenant.id)
    assert counts["region"] == {"active": 4, "archived": 1}
    assert counts["site"] == {"active": 1, "archived": 0}

    # From the start: the projection is reset and rebuilt.
    assert await runner.replay("entity-index", 1) > 0
    assert await snapshot(services) == built
    # From the middle: handling is idempotent, so nothing moves.
    await runner.replay("entity-index", 4)
    assert await snapshot(services) == built
    status = {s.name: s for s in await runner.status()}["entity-index"]
    assert status.lag == 0 and status.attempts == 0


class Flaky:
    """Projects like the entity index, but fails on sites until told to stop failing."""

    name = "flaky"

    def __init__(self) -> None:
        self.inner = EntityIndexProjection()
        self.broken = True

    def accepts(self, event_type: str) -> bool:
        return self.inner.accepts(event_type)

    async def handle(self, conn: AsyncConnection, event: StoredEvent) -> None:
        await self.inner.handle(conn, event)
        if self.broken and event.type.startswith("supplyline.site."):
            raise RuntimeError("downstream unavailable")

    async def reset(self, conn: AsyncConnection) -> None:
        await self.inner.reset(conn)


async def test_a_failing_consumer_retries_and_does_not_advance(services: Services, tenant: TenantCtx) -> None:
    await seed(services, tenant)
    flaky = Flaky()
    runner = ConsumerRunner(services.engine, services.events, [flaky])
    for _ in range(2):
        with pytest.raises(ConsumerFailed) as exc:
            await runner.run_once("flaky")
    status = (await runner.status())[0]
    assert status.position == 0
    assert status.attempts == 2
    assert status.failing_position == exc.value.position
    assert "downstream unavailable" in (status.last_error or "")
    # The work done before the failure in that batch was rolled back with it.
    assert await snapshot(services) == []

    flaky.broken = False
    await runner.catch_up("flaky")
    status = (await runner.status())[0]
    assert status.lag == 0 and status.attempts == 0 and status.last_error is None
    entities = sorted(r["entity"] for r in await snapshot(services))
    assert entities == ["api_key", "region", "region", "region", "region", "region", "site", "tenant"]


async def test_unknown_consumer_is_named(services: Services) -> None:
    from supplyline.kernel.errors import NotFound

    with pytest.raises(NotFound, match="entity-index"):
        await services.consumers.replay("nope", 1)


class Choosy(Flaky):
    """Projects like the entity index, but only when ``wants`` says its events need it."""

    name = "choosy"

    def __init__(self) -> None:
        super().__init__()
        self.broken = False
        self.wanted = False
        self.asked: list[int] = []

    async def wants(self, conn: AsyncConnection, events: list[StoredEvent]) -> bool:
        self.asked.append(len(events))
        return self.wanted


async def test_a_consumer_that_wants_none_of_a_batch_moves_past_it_without_handling_it(
    services: Services, tenant: TenantCtx
) -> None:
    await seed(services, tenant)
    choosy = Choosy()
    runner = ConsumerRunner(services.engine, services.events, [choosy], read_engine=services.read_engine)
    await runner.catch_up("choosy")
    assert choosy.asked and await snapshot(services) == []
    assert (await runner.status())[0].lag == 0  # moved past, position written once caught up

    # A later batch that it wants is handled as usual.
    async with services.uow() as uow:
        await services.resources.create(uow, tenant.scope, "regions", {"code": "R9", "name": "Nine"})
        await uow.commit()
    choosy.wanted = True
    await runner.catch_up("choosy")
    assert [r["subject"].split("/")[0] for r in await snapshot(services)] == ["regions"]
