"""The Arrow schema of every dataset, written down once so each file of a dataset has the same
columns and types: a BI tool reading many days (or an empty one) sees one table.

Timestamps are ``timestamp[us, tz=UTC]``, ids are strings, JSON (event data, a shipment's lots)
is a string column. The partition column ``date`` is not in the files: it is the directory
(``date=YYYY-MM-DD``), as Hive partitioning has it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa

TS = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True)
class Dataset:
    """A dataset's name (its directory), its columns, the permission it needs and the columns
    only a caller with 'commercial:read' gets (dropped from the schema for the others)."""

    name: str
    schema: pa.Schema
    permission: str | None
    commercial: frozenset[str] = frozenset()
    description: str = ""

    def schema_for(self, commercial: bool) -> pa.Schema:
        if commercial or not self.commercial:
            return self.schema
        return pa.schema([f for f in self.schema if f.name not in self.commercial])


def _schema(fields: Sequence[tuple[str, pa.DataType, bool]]) -> pa.Schema:
    return pa.schema([pa.field(name, kind, nullable=nullable) for name, kind, nullable in fields])


READINGS = Dataset(
    "readings",
    _schema(
        [
            ("ts", TS, False),
            ("device_id", pa.string(), False),
            ("device", pa.string(), True),
            ("metric", pa.string(), False),
            ("value", pa.float64(), False),
        ]
    ),
    "telemetry",
    description="One row per device, metric and reading time (long format), by reading time.",
)
EVENTS = Dataset(
    "events",
    _schema(
        [
            ("position", pa.int64(), False),
            ("id", pa.string(), False),
            ("type", pa.string(), False),
            ("source", pa.string(), False),
            ("subject", pa.string(), False),
            ("time", TS, False),
            ("correlation_id", pa.string(), True),
            ("actor", pa.string(), True),
            ("data", pa.string(), False),
        ]
    ),
    "events",
    description="The event log as GET /v1/events shows it (redacted data as JSON), by event time.",
)
SHIPMENTS = Dataset(
    "shipments",
    _schema(
        [
            ("id", pa.string(), False),
            ("number", pa.string(), False),
            ("status", pa.string(), False),
            ("origin_site_id", pa.string(), False),
            ("destination_site_id", pa.string(), False),
            ("carrier_organization_id", pa.string(), True),
            ("order_id", pa.string(), True),
            ("planned_departure_at", TS, True),
            ("planned_arrival_at", TS, True),
            ("actual_departure_at", TS, True),
            ("actual_arrival_at", TS, True),
            ("freight_cost", pa.float64(), True),
            ("currency", pa.string(), True),
            ("lots", pa.string(), False),
            ("devices", pa.string(), False),
            ("assets", pa.string(), False),
            ("created_at", TS, False),
            ("updated_at", TS, False),
            ("version", pa.int64(), False),
        ]
    ),
    "shipments",
    commercial=frozenset({"freight_cost", "currency"}),
    description="Shipments as GET /v1/shipments shows them, by the day they were created.",
)
INVENTORY_POSITIONS = Dataset(
    "inventory_positions",
    _schema(
        [
            ("id", pa.string(), False),
            ("site_id", pa.string(), False),
            ("product_id", pa.string(), False),
            ("lot_id", pa.string(), True),
            ("on_hand", pa.float64(), False),
            ("allocated", pa.float64(), False),
            ("held", pa.float64(), False),
            ("sellable", pa.float64(), False),
            ("unit", pa.string(), False),
            ("created_at", TS, False),
            ("updated_at", TS, False),
            ("version", pa.int64(), False),
        ]
    ),
    "inventory-positions",
    description="Positions as they are now, by the day they last changed.",
)
KPIS = Dataset(
    "kpis",
    _schema(
        [
            ("kpi", pa.string(), False),
            ("version", pa.int64(), False),
            ("grain", pa.string(), False),
            ("period_start", pa.date32(), False),
            ("period_end", pa.date32(), False),
            ("unit", pa.string(), True),
            ("numerator", pa.float64(), False),
            ("denominator", pa.float64(), False),
            ("value", pa.float64(), True),
        ]
    ),
    None,  # each KPI's definition names its own permissions; the others are left out
    description="Every KPI the caller may compute, one row per KPI and period of its finest grain "
    "(a day where it has one), in the partition of the period's first day (GET /v1/kpis/{name}).",
)

DATASETS: dict[str, Dataset] = {d.name: d for d in (READINGS, EVENTS, SHIPMENTS, INVENTORY_POSITIONS, KPIS)}
