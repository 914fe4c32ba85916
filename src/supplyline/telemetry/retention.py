"""How long telemetry is kept: per tenant and per device profile, as data; and the purge job.

Policies are a resource (``/v1/retention-policies``): one without a device profile is the
tenant's default, one with a profile overrides it for that profile's devices; without either,
``SUPPLYLINE_TELEMETRY_RETENTION_DAYS`` applies. Purging drops whole chunks that end before the
cutoff and trims the ones that straddle it, and leaves a ``telemetry.purged`` event per tenant
so that the deletion itself is on the record.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Column, Integer, Uuid, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.kernel.clock import utcnow
from supplyline.kernel.errors import FieldError
from supplyline.kernel.events import NewEvent
from supplyline.kernel.schema import entity_table, tenant_fk
from supplyline.kernel.scope import Scope
from supplyline.kernel.uow import UnitOfWork
from supplyline.registry.tables import registry_device
from supplyline.resources import Ref, ResourceSpec, another_live
from supplyline.telemetry.codec import Series, decode_chunk, encode_chunk
from supplyline.telemetry.events import TELEMETRY_PURGED
from supplyline.telemetry.tables import telemetry_chunk, telemetry_device_state

telemetry_retention = entity_table(
    "telemetry_retention",
    Column("device_profile_id", Uuid, nullable=True),
    Column("days", Integer, nullable=False),
    tenant_fk("device_profile_id", "registry_device_profile"),
    natural_keys=(("device_profile_id",),),
)


class RetentionPolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    device_profile_id: uuid.UUID | None = Field(
        default=None, description="The profile this policy is for; none: the tenant's default."
    )
    days: int = Field(ge=1, le=36_500, description="Readings older than this are purged.")


async def _one_default(
    conn: AsyncConnection,
    scope: Scope,
    values: Sequence[dict[str, Any]],
    rows: Sequence[dict[str, Any] | None],
) -> list[tuple[int, FieldError]]:
    """At most one tenant default (NULL profile), which a unique constraint cannot enforce."""
    t = telemetry_retention
    errors: list[tuple[int, FieldError]] = []
    for i, (v, row) in enumerate(zip(values, rows, strict=True)):
        if v["device_profile_id"] is not None:
            continue
        other = await another_live(conn, scope, t, [t.c.device_profile_id.is_(None)], row)
        if other is not None:
            errors.append(
                (i, FieldError("device_profile_id", f"the tenant default is policy {other}; change it"))
            )
    return errors


RETENTION_POLICIES = ResourceSpec(
    name="retention-policies",
    entity="retention_policy",
    title="RetentionPolicy",
    capability="telemetry",
    table=telemetry_retention,
    fields=RetentionPolicyIn,
    refs=(Ref("device_profile_id", "device-profiles"),),
    natural_keys=(("device_profile_id",),),
    immutable=frozenset({"device_profile_id"}),
    filters=("device_profile_id",),
    validate=_one_default,
    description="How long telemetry is kept, for the tenant or for one device profile.",
)


async def _purge_group(conn: AsyncConnection, devices: Any, cutoff_ms: int) -> int:
    """Readings before ``cutoff_ms`` of these devices: whole chunks deleted, straddling ones trimmed."""
    c = telemetry_chunk
    gone = 0
    old = c.c.device_no.in_(devices) & (c.c.end_ms < cutoff_ms)
    gone += int((await conn.execute(select(func.coalesce(func.sum(c.c.count), 0)).where(old))).scalar_one())
    await conn.execute(delete(c).where(old))
    straddling = select(c.c.id, c.c.blob).where(c.c.device_no.in_(devices), c.c.start_ms < cutoff_ms)
    for row in (await conn.execute(straddling)).all():
        series = decode_chunk(row.blob)
        keep = series.ts_ms >= cutoff_ms
        kept = Series(series.ts_ms[keep], {m: v[keep] for m, v in series.metrics.items()})
        gone += len(series) - len(kept)
        await conn.execute(
            update(c)
            .where(c.c.id == row.id)
            .values(
                start_ms=int(kept.ts_ms[0]),
                end_ms=int(kept.ts_ms[-1]),
                count=len(kept),
                blob=encode_chunk(kept),
            )
        )
    return gone


async def purge(uow: UnitOfWork, default_days: int) -> int:
    """Delete readings past their retention; returns how many went."""
    conn = uow.conn
    t, d, s = telemetry_retention, registry_device, telemetry_device_state
    policies: dict[tuple[uuid.UUID, uuid.UUID | None], int] = {
        (r.tenant_id, r.device_profile_id): r.days
        for r in await conn.execute(
            select(t.c.tenant_id, t.c.device_profile_id, t.c.days).where(t.c.archived_at.is_(None))
        )
    }
    groups = await conn.execute(
        select(d.c.tenant_id, d.c.device_profile_id).join(s, s.c.device_id == d.c.id).distinct()
    )
    now, total = utcnow(), 0
    per_tenant: dict[uuid.UUID, int] = {}
    for tenant_id, profile_id in groups.all():
        days = policies.get((tenant_id, profile_id), policies.get((tenant_id, None), default_days))
        cutoff_ms = int((now - timedelta(days=days)).timestamp() * 1000)
        devices = (
            select(s.c.device_no)
            .join(d, d.c.id == s.c.device_id)
            .where(d.c.tenant_id == tenant_id, d.c.device_profile_id == profile_id)
        )
        count = await _purge_group(conn, devices, cutoff_ms)
        if count:
            total += count
            per_tenant[tenant_id] = per_tenant.get(tenant_id, 0) + count
    for tenant_id, count in per_tenant.items():
        uow.publish(
            NewEvent(
                type=TELEMETRY_PURGED.type,
                tenant_id=tenant_id,
                subject=f"tenants/{tenant_id}/telemetry",
                source="/supplyline/telemetry",
                data={"readings": count, "at": now.isoformat()},
            )
        )
    return total
