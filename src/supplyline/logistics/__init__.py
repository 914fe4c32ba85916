"""Logistics: products, lots, orders, shipments, inventory positions and lot holds."""

from supplyline.logistics.events import (
    EVENT_TYPES,
    LOT_HELD,
    LOT_RELEASED,
    SHIPMENT_CONDITION_BREACHED,
    SHIPMENT_TEMPERATURE_EXCEEDED,
    ShipmentExcursion,
)
from supplyline.logistics.excursions import record_excursion
from supplyline.logistics.exposure import (
    LotIdentity,
    OrderLineOfLot,
    ShipmentOfLot,
    gtin14,
    lot_identities,
    lots_by_gtin_lot,
    order_lines_of_lots,
    shipments_of_lots,
    supplier_batch_lots,
)
from supplyline.logistics.holds import (
    HoldLot,
    hold_lot,
    list_holds,
    lot_details,
    release_hold,
    shipment_numbers,
)
from supplyline.logistics.identities import (
    OrderIdentity,
    ShipmentLine,
    ShipmentRoute,
    order_identities,
    shipment_routes,
)
from supplyline.logistics.lookup import lots_by_gtin, records_by_number
from supplyline.logistics.queries import (
    Carried,
    TrackerWindow,
    carried_by,
    product_names_by_gtin,
    shipment_context,
    shipments_with_lot,
    tracker_windows,
)
from supplyline.logistics.resources import RESOURCES, SHIPMENTS
from supplyline.logistics.supply import (
    OpenSupply,
    StockPosition,
    daily_outbound,
    open_purchase_orders,
    product_unit,
    purchase_lead_times,
    stock_positions,
)
from supplyline.logistics.visibility import VISIBILITY, TripWindow, trip_windows

__all__ = [
    "EVENT_TYPES",
    "LOT_HELD",
    "LOT_RELEASED",
    "RESOURCES",
    "SHIPMENTS",
    "SHIPMENT_CONDITION_BREACHED",
    "SHIPMENT_TEMPERATURE_EXCEEDED",
    "VISIBILITY",
    "Carried",
    "HoldLot",
    "LotIdentity",
    "OpenSupply",
    "OrderIdentity",
    "OrderLineOfLot",
    "ShipmentExcursion",
    "ShipmentLine",
    "ShipmentOfLot",
    "ShipmentRoute",
    "StockPosition",
    "TrackerWindow",
    "TripWindow",
    "carried_by",
    "daily_outbound",
    "gtin14",
    "hold_lot",
    "list_holds",
    "lot_details",
    "lot_identities",
    "lots_by_gtin",
    "lots_by_gtin_lot",
    "open_purchase_orders",
    "order_identities",
    "order_lines_of_lots",
    "product_names_by_gtin",
    "product_unit",
    "purchase_lead_times",
    "record_excursion",
    "records_by_number",
    "release_hold",
    "shipment_context",
    "shipment_numbers",
    "shipment_routes",
    "shipments_of_lots",
    "shipments_with_lot",
    "stock_positions",
    "supplier_batch_lots",
    "tracker_windows",
    "trip_windows",
]
