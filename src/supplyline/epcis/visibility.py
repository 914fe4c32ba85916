"""Which stored EPCIS events a narrowed caller reaches (see ``supplyline.resources.scoping``).

An event is a partner's when its organisation captured it, and anyone's who reaches a record
it is about: the lots, shipments, orders and sites its refs name (``epcis_event_ref``), as
each owning capability decides who reaches those. So a carrier sees the custody events of the
shipments it carries, a supplier those of its lots, site staff those of their sites.
"""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, Table, and_, or_, select

from supplyline.epcis.tables import epcis_event, epcis_event_ref
from supplyline.kernel.scope import Reach, ReachKind
from supplyline.resources import Visibility, VisibilityRules

# epcis_event_ref.kind -> the resource whose rows it names.
REF_RESOURCES = {"lot": "lots", "shipment": "shipments", "order": "orders", "site": "sites"}


def _events(table: Table, reach: Reach, tenant: uuid.UUID, rules: VisibilityRules) -> ColumnElement[bool]:
    ref = epcis_event_ref
    about = [
        and_(ref.c.kind == kind, ref.c.ref_id.in_(rules.in_reach(resource, reach, tenant)))
        for kind, resource in REF_RESOURCES.items()
    ]
    reached = table.c.seq.in_(select(ref.c.seq).where(ref.c.tenant_id == tenant, or_(*about)))
    if reach.kind is ReachKind.ORGANIZATION and reach.organization_id is not None:
        return or_(table.c.organization_id == reach.organization_id, reached)
    return reached


VISIBILITY = [Visibility("epcis", epcis_event, _events)]
