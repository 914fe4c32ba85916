"""Logistics: products, lots, orders, shipments and inventory positions."""

from supplyline.logistics.resources import RESOURCES

__all__ = ["RESOURCES"]
