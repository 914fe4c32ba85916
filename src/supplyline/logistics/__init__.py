"""Logistics: products, lots, orders, shipments and inventory positions."""

from supplyline.logistics.queries import TrackerWindow, shipment_context, shipments_with_lot, tracker_windows
from supplyline.logistics.resources import RESOURCES

__all__ = ["RESOURCES", "TrackerWindow", "shipment_context", "shipments_with_lot", "tracker_windows"]
