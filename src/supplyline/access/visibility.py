"""The visibility rules of every capability, gathered; the event log's rule; telemetry windows.

Events are reached through their subject (``shipments/<id>``, ``alarms/<id>``...): a narrowed
caller reads the events of the things it reaches and nothing else (audit entries, tenant-wide
configuration changes, other partners' records). Telemetry is reached per device and per time:
an OEM's or service provider's equipment all the time, a carrier's (or customer's) trackers only
while they travel with its shipment, between pickup and delivery.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, Table, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline import logistics, registry
from supplyline.db.dialect import subject_key, uuid_key
from supplyline.eventlog import eventlog_event
from supplyline.kernel.scope import Action, Reach, ReachKind, Scope
from supplyline.resources import Visibility, VisibilityRules, reach_condition, rules_of

# Subjects a narrowed caller may follow into the log, by the resource that names them.
EVENT_SUBJECTS = (
    "shipments",
    "orders",
    "lots",
    "products",
    "sites",
    "assets",
    "devices",
    "alarms",
    "work-orders",
)
Window = tuple[int, int]


def _events(
    table: Table, reach: Reach, tenant: uuid.UUID, rules: VisibilityRules
) -> ColumnElement[bool] | None:
    """``<resource>/<id>`` subjects whose id is in reach. The id is taken out of the subject and
    compared with the ids as stored, rather than each reached id being formatted into a subject:
    and since the prefix is tested first, a resource's ids are only gathered once an event about
    that resource is met (SQLite builds an IN list when it is first evaluated)."""
    subject = table.c.subject
    parts = []
    for resource in EVENT_SUBJECTS:
        prefix = f"{resource}/"
        ids = rules.in_reach(resource, reach, tenant).subquery()
        parts.append(
            and_(
                func.substr(subject, 1, len(prefix)) == prefix,
                subject_key(subject, len(prefix)).in_(select(uuid_key(ids.c.id))),
            )
        )
    return or_(*parts)


# The event log's rule: it follows the subjects of the other capabilities' resources by name.
VISIBILITY = [Visibility("events", eventlog_event, _events)]


def events_condition(scope: Scope) -> ColumnElement[bool] | None:
    return reach_condition(eventlog_event, scope, Action.READ, "events")


async def telemetry_windows(
    conn: AsyncConnection, scope: Scope, device_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Window]] | None:
    """When the caller may read each device (epoch ms, inclusive); None: every device, always.
    A device missing from the answer may not be read at all."""
    reaches = scope.reaches("telemetry")
    if reaches is None:
        return None
    out: dict[uuid.UUID, list[Window]] = {}
    found = rules_of(scope)
    for reach in reaches:
        always = await registry.device_ids_reached(conn, scope.require_tenant(), reach, device_ids, found)
        for d in always:
            out[d] = [(0, 2**62)]
        if reach.kind is ReachKind.ORGANIZATION:
            for w in await logistics.trip_windows(conn, scope.require_tenant(), reach, device_ids, found):
                if w.device_id in always or w.start is None:
                    continue  # not picked up yet: nothing to read
                out.setdefault(w.device_id, []).append((_ms(w.start), _ms(w.end) if w.end else 2**62))
    return out


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)
