"""Who may see and set what, on top of the tenant: reach on writes, prices on reads and writes.

Checked by ``ResourceService`` on every record it writes or answers, so that no route can skip
them: a narrowed caller's writes must land inside its reach, and prices, costs and contract
terms need 'commercial:read' to be seen and 'commercial:write' to be set.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.kernel.errors import Forbidden
from supplyline.kernel.scope import Action, Scope
from supplyline.resources.scoping import reach_condition, scoped
from supplyline.resources.spec import ResourceSpec


async def check_reach(
    conn: AsyncConnection, scope: Scope, spec: ResourceSpec, ids: Sequence[uuid.UUID]
) -> None:
    """A narrowed caller may only write what lands inside its reach: a carrier's operator
    cannot create a shipment for another carrier, nor hand one over to it. Checked on the
    rows as written, in the same transaction, so a refusal writes nothing."""
    if reach_condition(spec.table, scope, Action.WRITE) is None:
        return
    t = spec.table
    stmt = scoped(select(t.c.id), t, scope, Action.WRITE).where(t.c.id.in_(list(ids)))
    inside = {r.id for r in await conn.execute(stmt)}
    if len(inside) != len(set(ids)):
        raise Forbidden(f"the {spec.entity} would fall outside what this caller's grants reach")


def shown(scope: Scope, spec: ResourceSpec, rec: dict[str, Any]) -> dict[str, Any]:
    """What the caller may see of a record: prices and terms need 'commercial:read'."""
    return rec if not spec.commercial or scope.can("commercial") else spec.redact(rec)


def check_commercial(scope: Scope, spec: ResourceSpec, values: Sequence[Mapping[str, Any]]) -> None:
    """Setting a price or contract terms needs 'commercial:write'; naming the first one set."""
    if not spec.commercial or scope.can("commercial", Action.WRITE):
        return
    for i, v in enumerate(values):
        for path in sorted(spec.commercial):
            head, _, name = path.partition(".")
            items = v.get(head) if name else None
            if name and isinstance(items, list):
                for j, item in enumerate(items):
                    if isinstance(item, Mapping) and item.get(name) is not None:
                        raise Forbidden(f"{i}.{head}.{j}.{name}: setting prices needs 'commercial:write'")
            elif not name and v.get(path) is not None:
                raise Forbidden(f"{i}.{path}: setting prices or terms needs 'commercial:write'")
