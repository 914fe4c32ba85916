"""Registry: organisations, the site hierarchy, asset types and assets, device profiles and devices."""

from supplyline.registry.queries import (
    DevicePlace,
    assets_at_site,
    device_assets,
    device_ids,
    device_place,
    devices_of_assets,
    live_site_ids,
    places_of_assets,
    profile_metric_specs,
    site_circles,
)
from supplyline.registry.resources import RESOURCES

__all__ = [
    "RESOURCES",
    "DevicePlace",
    "assets_at_site",
    "device_assets",
    "device_ids",
    "device_place",
    "devices_of_assets",
    "live_site_ids",
    "places_of_assets",
    "profile_metric_specs",
    "site_circles",
]
