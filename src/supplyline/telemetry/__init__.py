"""Telemetry: device credentials, signed ingestion, normalisation, storage and queries."""

from supplyline.telemetry.events import EVENT_TYPES
from supplyline.telemetry.resources import RESOURCES
from supplyline.telemetry.retention import RulesSource, TenantRules
from supplyline.telemetry.service import TelemetryServices, build_telemetry

__all__ = ["EVENT_TYPES", "RESOURCES", "RulesSource", "TelemetryServices", "TenantRules", "build_telemetry"]
