"""Services that run the checkpoint recorder, and helpers that record events and tamper with them.

``services`` overrides the shared fixture, so ``tenant``, ``other_tenant`` and ``client`` here
are built on services whose consumers include the recorder.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import delete, select, update

from supplyline.bootstrap import Services, build_services
from supplyline.eventlog.tables import eventlog_event
from supplyline.kernel.events import NewEvent
from supplyline.rules.events import CONDITION_CLEARED, CONDITION_RAISED
from supplyline.settings import Settings
from supplyline.trace import CONSUMER_NAME, CheckpointRecorder, derive_key
from supplyline.trace.tables import trace_checkpoint
from tests.cli.conftest import data_dir, invoke, migrated  # noqa: F401 - the CLI tests' fixtures
from tests.conftest import Backend, TenantCtx

TYPES = frozenset({CONDITION_RAISED.type, CONDITION_CLEARED.type})
SECRET = Fernet.generate_key().decode()
KEY = derive_key(SECRET.encode())


@pytest.fixture
async def services(backend: Backend, tmp_path: Path) -> AsyncIterator[Services]:
    cfg = Settings(
        database_url=backend.url, data_dir=tmp_path / "data", admin_token="platform-secret", secret_key=SECRET
    )
    engine = backend.engine()
    read_engine = backend.engine(readonly=True) if backend.name == "sqlite" else engine
    svc = build_services(
        cfg, engine=engine, read_engine=read_engine, extra_consumers=[CheckpointRecorder(TYPES, KEY)]
    )
    yield svc
    await svc.close()


def condition(tenant_id: uuid.UUID, i: int, transition: str = "raised") -> NewEvent:
    """A rule's condition raised (or cleared) on a reefer: an exception the ledger records."""
    device_id = uuid.UUID(int=1000 + i)
    data: dict[str, Any] = {
        "rule_id": str(uuid.UUID(int=7)),
        "code": "REEFER-HOT",
        "severity": "critical",
        "device_id": str(device_id),
        "device": f"Kühlzelle-{i} ✓",
        "metric": "temperature_c",
        "value": 8.5 + i / 10,
        "at": f"2026-11-29T10:{i:02d}:00Z",
        "late": False,
        "transition": transition,
    }
    type_ = CONDITION_RAISED.type if transition == "raised" else CONDITION_CLEARED.type
    return NewEvent(type=type_, tenant_id=tenant_id, subject=f"device/{device_id}", data=data)


async def record(svc: Services, tenant: TenantCtx, n: int, start: int = 0) -> None:
    """Publish ``n`` condition events (and one the ledger ignores), then let the recorder run."""
    async with svc.uow() as uow:
        for i in range(start, start + n):
            uow.publish(condition(tenant.id, i, "raised" if i % 2 == 0 else "cleared"))
        await svc.resources.create(uow, tenant.scope, "regions", {"code": f"R{start}", "name": "Region"})
        await uow.commit()
    await svc.consumers.catch_up(CONSUMER_NAME)


async def checkpoints(svc: Services, tenant_id: uuid.UUID) -> list[dict[str, Any]]:
    t = trace_checkpoint
    async with svc.read_engine.connect() as conn:
        rows = await conn.execute(select(t).where(t.c.tenant_id == tenant_id).order_by(t.c.seq))
        return [dict(r) for r in rows.mappings()]


async def set_checkpoint(svc: Services, tenant_id: uuid.UUID, at: int, **values: Any) -> None:
    """Overwrite columns of the checkpoint at seq ``at`` (``seq=`` among them moves it)."""
    t = trace_checkpoint
    async with svc.engine.begin() as conn:
        await conn.execute(update(t).where(t.c.tenant_id == tenant_id, t.c.seq == at).values(**values))


async def delete_checkpoint(svc: Services, tenant_id: uuid.UUID, seq: int) -> None:
    t = trace_checkpoint
    async with svc.engine.begin() as conn:
        await conn.execute(delete(t).where(t.c.tenant_id == tenant_id, t.c.seq == seq))


async def set_event(svc: Services, event_id: uuid.UUID, **values: Any) -> None:
    async with svc.engine.begin() as conn:
        await conn.execute(update(eventlog_event).where(eventlog_event.c.id == event_id).values(**values))


async def delete_event(svc: Services, event_id: uuid.UUID) -> None:
    async with svc.engine.begin() as conn:
        await conn.execute(delete(eventlog_event).where(eventlog_event.c.id == event_id))
