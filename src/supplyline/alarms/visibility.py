"""Which alarms a narrowed caller reaches: those of reached equipment (an OEM's, a service
provider's) or of reached shipments (a carrier's, a customer's), and at staff's sites."""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, Table

from supplyline.alarms.tables import alarms_alarm, alarms_escalation_policy
from supplyline.kernel.scope import Reach, ReachKind
from supplyline.resources import Visibility, VisibilityRules


def _alarms(
    table: Table, reach: Reach, tenant: uuid.UUID, rules: VisibilityRules
) -> ColumnElement[bool] | None:
    by_asset = table.c.asset_id.in_(rules.in_reach("assets", reach, tenant))
    if reach.kind is ReachKind.SITES:
        return table.c.site_id.in_(reach.site_ids) | by_asset
    return by_asset | table.c.shipment_id.in_(rules.in_reach("shipments", reach, tenant))


def _policies(
    table: Table, reach: Reach, tenant: uuid.UUID, rules: VisibilityRules
) -> ColumnElement[bool] | None:
    return table.c.organization_id == reach.organization_id if reach.kind is ReachKind.ORGANIZATION else None


VISIBILITY = [
    Visibility("alarms", alarms_alarm, _alarms),
    Visibility("escalation-policies", alarms_escalation_policy, _policies),
]
