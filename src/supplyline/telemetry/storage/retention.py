"""How long telemetry is kept: per tenant and per device profile, as data; and the purge job.

Policies are a resource (``/v1/retention-policies``): one without a device profile is the
tenant's default, one with a profile overrides it for that profile's devices. Without either,
the tenant's governance setting for telemetry applies (``/v1/governance/retention``, kept by
``supplyline.governance``), and without that ``SUPPLYLINE_TELEMETRY_RETENTION_DAYS``. A legal
hold on the tenant's telemetry suspends purging it. Telemetry asks governance through
``RulesSource``, which the composition root wires in (governance sits above telemetry).

Purging drops whole chunks that end before the cutoff and trims the ones that straddle it, one
tenant per transaction, and leaves a ``telemetry.purged`` event and an audit entry per tenant
so that the deletion itself is on the record.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline import audit, registry
from supplyline.kernel.clock import utcnow
from supplyline.kernel.errors import FieldError
from supplyline.kernel.events import NewEvent
from supplyline.kernel.scope import Scope
from supplyline.kernel.uow import UnitOfWork
from supplyline.resources import Ref, ResourceSpec, another_live
from supplyline.telemetry.events import TELEMETRY_PURGED
from supplyline.telemetry.storage.codec import Series, decode_chunk, encode_chunk
from supplyline.telemetry.tables import telemetry_chunk, telemetry_device_state, telemetry_retention


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


@dataclass(frozen=True)
class TenantRules:
    """What a tenant's governance settings say about its telemetry (``supplyline.governance``
    answers): its default retention in place of the platform's, and whether a legal hold
    suspends purging."""

    days: int | None = None
    held: bool = False


# Asked inside the purge's own transaction, so that a hold placed meanwhile is seen.
RulesSource = Callable[[AsyncConnection, uuid.UUID], Awaitable[TenantRules]]


async def tenants_with_telemetry(conn: AsyncConnection) -> list[uuid.UUID]:
    s = telemetry_device_state
    stmt = select(s.c.tenant_id).distinct().order_by(s.c.tenant_id)
    return list((await conn.execute(stmt)).scalars())


async def purge(
    uow: UnitOfWork,
    default_days: int,
    tenant_id: uuid.UUID,
    rules: RulesSource | None = None,
    *,
    now: datetime | None = None,
) -> int:
    """Delete one tenant's readings past their retention, unless a legal hold suspends it;
    returns how many went. A purge that deleted something leaves a ``telemetry.purged`` event
    and an audit entry (``retention.purge`` of ``retention/telemetry``) in its transaction.

    The days: the policy of the device's profile, else the tenant's policy, else the tenant's
    governance setting, else ``default_days`` (SUPPLYLINE_TELEMETRY_RETENTION_DAYS)."""
    conn = uow.conn
    said = await rules(conn, tenant_id) if rules is not None else TenantRules()
    if said.held:
        return 0
    t, d, s = telemetry_retention, registry.device_view(), telemetry_device_state
    policies: dict[uuid.UUID | None, int] = {
        r.device_profile_id: r.days
        for r in await conn.execute(
            select(t.c.device_profile_id, t.c.days).where(
                t.c.tenant_id == tenant_id, t.c.archived_at.is_(None)
            )
        )
    }
    profiles = await conn.execute(
        select(d.c.device_profile_id)
        .join(s, s.c.device_id == d.c.id)
        .where(d.c.tenant_id == tenant_id)
        .distinct()
    )
    now = now or utcnow()
    total, groups = 0, []
    for (profile_id,) in profiles.all():
        days = policies.get(profile_id, policies.get(None, said.days or default_days))
        cutoff = now - timedelta(days=days)
        devices = (
            select(s.c.device_no)
            .join(d, d.c.id == s.c.device_id)
            .where(d.c.tenant_id == tenant_id, d.c.device_profile_id == profile_id)
        )
        count = await _purge_group(conn, devices, int(cutoff.timestamp() * 1000))
        if count:
            total += count
            groups.append(
                {
                    "device_profile_id": str(profile_id),
                    "days": days,
                    "cutoff": cutoff.isoformat(),
                    "deleted": count,
                }
            )
    if total:
        uow.publish(
            NewEvent(
                type=TELEMETRY_PURGED.type,
                tenant_id=tenant_id,
                subject=f"tenants/{tenant_id}/telemetry",
                source="/supplyline/telemetry",
                data={"readings": total, "at": now.isoformat()},
            )
        )
        after = {"data_class": "telemetry", "deleted": total, "profiles": groups}
        audit.record(
            uow, Scope.system(tenant_id, "retention"), "retention.purge", "retention/telemetry", after=after
        )
    return total
