"""Services whose ledger records audit entries (as the platform's does) and rule conditions too,
so that a tenant's history has checkpointed events of both kinds; and helpers to make one."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from supplyline import audit
from supplyline.bootstrap import CHECKPOINTED, Services, build_services
from supplyline.eventlog.tables import eventlog_event
from supplyline.settings import Settings
from supplyline.trace import CheckpointRecorder
from supplyline.trace.tables import trace_checkpoint
from tests.cli.conftest import data_dir, invoke, migrated  # noqa: F401 - the CLI tests' fixtures
from tests.conftest import Backend, TenantCtx
from tests.trace.conftest import KEY, SECRET, TYPES, condition

RECORDED = [*CHECKPOINTED, *sorted(TYPES)]
AUDIT = audit.AUDIT_RECORDED.type
REGION_CREATED = "supplyline.region.created.v1"


@pytest.fixture
async def services(backend: Backend, tmp_path: Path) -> AsyncIterator[Services]:
    cfg = Settings(
        database_url=backend.url, data_dir=tmp_path / "data", admin_token="platform-secret", secret_key=SECRET
    )
    engine = backend.engine()
    read_engine = backend.engine(readonly=True) if backend.name == "sqlite" else engine
    # Same name as the platform's recorder, so it takes its place: audit entries and conditions.
    recorder = CheckpointRecorder(RECORDED, KEY)
    svc = build_services(cfg, engine=engine, read_engine=read_engine, extra_consumers=[recorder])
    yield svc
    await svc.close()


async def make_history(svc: Services, tenant: TenantCtx, tag: str) -> None:
    """Two rule conditions (checkpointed), a region (not) and an audit entry (checkpointed)."""
    async with svc.uow() as uow:
        for i in range(2):
            uow.publish(condition(tenant.id, i))
        await svc.resources.create(uow, tenant.scope, "regions", {"code": f"R-{tag}", "name": tag})
        audit.record(uow, tenant.scope, "things.update", f"things/{tag}")
        await uow.commit()


async def catch_up(svc: Services, *, but: str | None = None) -> None:
    """Every consumer handles everything in the log (``but`` this one)."""
    for name in svc.consumers.consumers:
        if name != but:
            await svc.consumers.catch_up(name)


async def count(svc: Services, tenant_id: uuid.UUID, **where: Any) -> int:
    """The tenant's events (``type=``, ``not_type=``, ``subject=``), or ``checkpoints=True``."""
    if where.pop("checkpoints", False):
        c = trace_checkpoint
        stmt = select(func.count()).select_from(c).where(c.c.tenant_id == tenant_id)
    else:
        e = eventlog_event
        stmt = select(func.count()).select_from(e).where(e.c.tenant_id == tenant_id)
        if "type" in where:
            stmt = stmt.where(e.c.type == where["type"])
        if "not_type" in where:
            stmt = stmt.where(e.c.type != where["not_type"])
        if "subject" in where:
            stmt = stmt.where(e.c.subject == where["subject"])
    async with svc.read_engine.connect() as conn:
        return int((await conn.execute(stmt)).scalar_one())


async def set_retention(client: httpx.AsyncClient, tenant: TenantCtx, **days: int | None) -> dict[str, Any]:
    body = {cls: days.get(cls) for cls in ("telemetry", "events", "audit", "traceability")}
    r = await client.put("/v1/governance/retention", json=body, headers=tenant.headers)
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


async def place_hold(client: httpx.AsyncClient, tenant: TenantCtx, data_class: str | None) -> dict[str, Any]:
    body = {"data_class": data_class, "reason": "Litigation: Acme v. Reefer Co."}
    r = await client.post("/v1/governance/legal-holds", json=body, headers=tenant.headers)
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


async def release(client: httpx.AsyncClient, tenant: TenantCtx, hold: dict[str, Any]) -> None:
    url = f"/v1/governance/legal-holds/{hold['id']}/release"
    r = await client.post(url, json={"reason": "settled"}, headers=tenant.headers)
    assert r.status_code == 200, r.text
