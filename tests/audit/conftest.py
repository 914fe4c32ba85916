"""Helpers of the audit tests: read entries straight from the log, issue keys of a role.

The shared ``services`` fixture runs the platform's own checkpoint recorder, whose types
include audit entries: these tests see the ledger as production does.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import select

from supplyline import audit
from supplyline.bootstrap import Services
from supplyline.eventlog.tables import eventlog_event
from tests.conftest import TenantCtx


async def entries(svc: Services, tenant_id: uuid.UUID | None = None, **where: Any) -> list[dict[str, Any]]:
    """Audit entries in log order (all tenants' when ``tenant_id`` is None), as the API shows them."""
    e = eventlog_event
    stmt = select(e).where(e.c.type == audit.AUDIT_RECORDED.type).order_by(e.c.position)
    if tenant_id is not None:
        stmt = stmt.where(e.c.tenant_id == tenant_id)
    async with svc.read_engine.connect() as conn:
        rows = (await conn.execute(stmt)).mappings().all()
    out = []
    for r in rows:
        view = {
            **{k: r[k] for k in ("id", "tenant_id", "actor", "subject", "correlation_id")},
            **r["data"],
            "raw": str(r["data"]),
        }
        if all(view.get(k) == v for k, v in where.items()):
            out.append(view)
    return out


async def issue(client: httpx.AsyncClient, admin: TenantCtx, role: str, name: str = "") -> dict[str, Any]:
    body = {"name": name or f"{role} key", "role": role}
    r = await client.post("/v1/api-keys", json=body, headers=admin.headers)
    assert r.status_code == 201, r.text
    key: dict[str, Any] = r.json()
    return key


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
