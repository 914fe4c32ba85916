"""Maintenance: work orders for the service provider who maintains an asset."""

from supplyline.maintenance.service import (
    EVENT_TYPES,
    OpenWorkOrder,
    asset_failures,
    list_work_orders,
    open_work_order,
)
from supplyline.maintenance.visibility import VISIBILITY

__all__ = [
    "EVENT_TYPES",
    "VISIBILITY",
    "OpenWorkOrder",
    "asset_failures",
    "list_work_orders",
    "open_work_order",
]
