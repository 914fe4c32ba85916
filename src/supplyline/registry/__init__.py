"""Registry: organisations, the site hierarchy, asset types and assets, device profiles and devices."""

from supplyline.registry.resources import RESOURCES

__all__ = ["RESOURCES"]
