"""Imports every capability's ``tables`` module so that ``metadata`` is complete (migrations,
tests): the one module allowed to name every table (an import-linter contract says so)."""

from __future__ import annotations

import supplyline.access.tables
import supplyline.alarms.tables
import supplyline.epcis.tables
import supplyline.eventlog.tables
import supplyline.exports.tables
import supplyline.governance.tables
import supplyline.integrations.tables
import supplyline.logistics.tables
import supplyline.maintenance.tables
import supplyline.planning.tables
import supplyline.registry.tables
import supplyline.rules.tables
import supplyline.sharing.tables
import supplyline.telemetry.tables
import supplyline.trace.tables  # noqa: F401
from supplyline.kernel.schema import metadata

__all__ = ["metadata"]
