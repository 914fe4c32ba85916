"""Registry: organisations, the site hierarchy, asset types and assets, device profiles and devices."""

from supplyline.registry.device_queries import (
    device_by_code,
    device_rows,
    device_view,
    devices_changed_since,
    devices_version,
    get_device,
    tenant_devices,
    tenant_profiles,
)

# Shapes the logistics model shares (free JSON, names, strict models, date order).
from supplyline.registry.model import Name, Strict, not_before
from supplyline.registry.queries import (
    DevicePlace,
    SiteLabel,
    assets_at_site,
    device_assets,
    device_ids,
    device_place,
    devices_of_assets,
    existing,
    live_site_ids,
    organization_kind_of,
    organization_kinds,
    places_of_assets,
    profile_metric_specs,
    region_site_ids,
    site_circles,
    sites_by_gln,
)
from supplyline.registry.resources import RESOURCES
from supplyline.registry.visibility import VISIBILITY, device_ids_reached

__all__ = [
    "RESOURCES",
    "VISIBILITY",
    "DevicePlace",
    "Name",
    "SiteLabel",
    "Strict",
    "assets_at_site",
    "device_assets",
    "device_by_code",
    "device_ids",
    "device_ids_reached",
    "device_place",
    "device_rows",
    "device_view",
    "devices_changed_since",
    "devices_of_assets",
    "devices_version",
    "existing",
    "get_device",
    "live_site_ids",
    "not_before",
    "organization_kind_of",
    "organization_kinds",
    "places_of_assets",
    "profile_metric_specs",
    "region_site_ids",
    "site_circles",
    "sites_by_gln",
    "tenant_devices",
    "tenant_profiles",
]
