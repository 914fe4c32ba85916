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
from supplyline.logistics.holds import (
    HoldLot,
    hold_lot,
    list_holds,
    lot_details,
    release_hold,
    shipment_numbers,
)
from supplyline.logistics.queries import (
    Carried,
    TrackerWindow,
    carried_by,
    product_names_by_gtin,
    shipment_context,
    shipments_with_lot,
    tracker_windows,
)
from supplyline.logistics.resources import RESOURCES
from supplyline.logistics.visibility import VISIBILITY, TripWindow, trip_windows

__all__ = [
    "EVENT_TYPES",
    "LOT_HELD",
    "LOT_RELEASED",
    "RESOURCES",
    "SHIPMENT_CONDITION_BREACHED",
    "SHIPMENT_TEMPERATURE_EXCEEDED",
    "VISIBILITY",
    "Carried",
    "HoldLot",
    "ShipmentExcursion",
    "TrackerWindow",
    "TripWindow",
    "carried_by",
    "hold_lot",
    "list_holds",
    "lot_details",
    "product_names_by_gtin",
    "record_excursion",
    "release_hold",
    "shipment_context",
    "shipment_numbers",
    "shipments_with_lot",
    "tracker_windows",
    "trip_windows",
]
