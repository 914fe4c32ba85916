"""Registry: organisations, the site hierarchy, asset types and assets, device profiles and devices."""

from supplyline.registry.queries import (
    assets_at_site,
    device_ids,
    devices_of_assets,
    live_site_ids,
    places_of_assets,
    profile_metric_specs,
)
from supplyline.registry.resources import RESOURCES

__all__ = [
    "RESOURCES",
    "assets_at_site",
    "device_ids",
    "devices_of_assets",
    "live_site_ids",
    "places_of_assets",
    "profile_metric_specs",
]
