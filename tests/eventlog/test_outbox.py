"""The transactional outbox: a change and its event commit together, in commit order."""

from __future__ import annotations

import asyncio
import os
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import func, select

from supplyline.bootstrap import Services
from supplyline.eventlog.tables import eventlog_event
from supplyline.kernel.errors import Invalid
from supplyline.kernel.events import NewEvent
from supplyline.registry.tables import registry_region
from tests.conftest import Backend, TenantCtx

CRASHING_WRITER = textwrap.dedent(
    """
    import asyncio, os, signal, sys, uuid
    from pathlib import Path
    from supplyline.db.uow import SqlUnitOfWork
    from supplyline.kernel.scope import Scope
    from tests.conftest import Backend, make_services

    url, schema, tenant_id, tmp = sys.argv[1], sys.argv[2] or None, sys.argv[3], sys.argv[4]
    original = SqlUnitOfWork.flush_events

    async def flush_then_die(self):
        # The change and its event are written inside the transaction; COMMIT never comes.
        await original(self)
        print("written, dying before commit", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)

    SqlUnitOfWork.flush_events = flush_then_die

    async def main():
        be = Backend("sqlite" if url.startswith("sqlite") else "postgresql", url, schema)
        svc = make_services(be, Path(tmp))
        async with svc.uow() as uow:
            await svc.resources.create(uow, Scope.system(uuid.UUID(tenant_id)), "regions",
                                       {"code": "CRASH", "name": "Never committed"})
            await uow.commit()

    asyncio.run(main())
    """
)


async def count(svc: Services, table: object) -> int:
    async with svc.read_engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())  # type: ignore[arg-type]


async def test_a_writer_killed_before_commit_leaves_neither_change_nor_event(
    services: Services, tenant: TenantCtx, backend: Backend, tmp_path: Path
) -> None:
    events_before = await count(services, eventlog_event)
    script = tmp_path / "crash.py"
    script.write_text(CRASHING_WRITER)
    root = Path(__file__).parents[2]
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(script),
        backend.url,
        backend.schema or "",
        str(tenant.id),
        str(tmp_path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert b"dying before commit" in out, err.decode()
    assert proc.returncode == -9
    assert await count(services, registry_region) == 0
    assert await count(services, eventlog_event) == events_before
    # The database is not left locked: the next writer goes through.
    async with services.uow() as uow:
        await services.resources.create(uow, tenant.scope, "regions", {"code": "AFTER", "name": "After"})
        await uow.commit()
    assert await count(services, registry_region) == 1
    assert await count(services, eventlog_event) == events_before + 1


async def test_an_exception_before_commit_rolls_back_change_and_event(
    services: Services, tenant: TenantCtx
) -> None:
    events_before = await count(services, eventlog_event)
    with pytest.raises(RuntimeError):
        async with services.uow() as uow:
            await services.resources.create(uow, tenant.scope, "regions", {"code": "R1", "name": "R"})
            await uow.flush_events()
            raise RuntimeError("interrupted")
    assert await count(services, registry_region) == 0
    assert await count(services, eventlog_event) == events_before


async def test_positions_follow_commit_order(services: Services, tenant: TenantCtx) -> None:
    """A later-starting transaction cannot publish past one still open: no reader skips a gap."""

    def event(n: int) -> NewEvent:
        return NewEvent(
            type="supplyline.region.archived.v1",
            tenant_id=tenant.id,
            subject=f"regions/{n}",
            data=_region(tenant, n),
        )

    head = 0
    async with services.read_engine.connect() as conn:
        head = len(await services.events.read(conn, limit=10_000, tenant_id=None))

    async def second_writer() -> None:
        async with services.uow() as uow:
            uow.publish(event(2))
            await uow.commit()

    async with services.uow() as first:
        first.publish(event(1))
        await first.flush_events()  # holds the append lock until commit
        task = asyncio.create_task(second_writer())
        await asyncio.sleep(0.3)
        async with services.read_engine.connect() as conn:
            seen = await services.events.read(conn, after=0, limit=10_000, tenant_id=None)
        assert len(seen) == head, "an event became visible while an earlier one was uncommitted"
        await first.commit()
    await task
    async with services.read_engine.connect() as conn:
        seen = await services.events.read(conn, after=0, limit=10_000, tenant_id=None)
    subjects = [e.subject for e in seen[head:]]
    assert subjects == ["regions/1", "regions/2"]
    assert seen[-1].position > seen[-2].position


def _region(tenant: TenantCtx, n: int) -> dict[str, object]:
    now = "2026-11-22T10:00:00Z"
    return {
        "id": f"00000000-0000-7000-8000-{n:012d}",
        "tenant_id": str(tenant.id),
        "created_at": now,
        "updated_at": now,
        "archived_at": now,
        "version": 2,
        "code": f"R{n}",
        "name": "R",
        "description": None,
    }


async def test_appends_are_checked_against_the_schema_registry(services: Services, tenant: TenantCtx) -> None:
    bad = NewEvent(
        type="supplyline.region.archived.v1", tenant_id=tenant.id, subject="regions/x", data={"code": 12}
    )
    with pytest.raises(Invalid) as exc:
        async with services.uow() as uow:
            uow.publish(bad)
            await uow.commit()
    assert exc.value.errors[0].field.startswith("data.")
    unknown = NewEvent(type="supplyline.nothing.happened.v1", tenant_id=tenant.id, subject="x", data={})
    with pytest.raises(Invalid, match="not registered"):
        async with services.uow() as uow:
            uow.publish(unknown)
            await uow.commit()
