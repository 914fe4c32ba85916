"""Which work orders a narrowed caller reaches: those given to its organisation, those on the
equipment a service provider maintains, and those on equipment at staff's sites."""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, Table

from supplyline.kernel.scope import Reach, ReachKind
from supplyline.maintenance.tables import maintenance_work_order
from supplyline.resources import Visibility, VisibilityRules


def _work_orders(
    table: Table, reach: Reach, tenant: uuid.UUID, rules: VisibilityRules
) -> ColumnElement[bool] | None:
    on_assets = table.c.asset_id.in_(rules.in_reach("assets", reach, tenant))
    if reach.kind is ReachKind.SITES:
        return on_assets
    given = table.c.organization_id == reach.organization_id
    return given | on_assets if reach.organization_kind == "service_provider" else given


VISIBILITY = [Visibility("work-orders", maintenance_work_order, _work_orders)]
