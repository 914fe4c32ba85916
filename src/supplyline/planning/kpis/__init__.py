"""The KPI semantic layer: definitions as data, measures over scoped reads, one aggregation,
used alike by ``GET /v1/kpis`` and ``supplyline kpi`` (see docs/kpis.md)."""

from supplyline.planning.kpis.catalog import KpiCatalog, KpiDefinition, load_catalog, packaged_catalog
from supplyline.planning.kpis.facts import Fact, Measure, Window
from supplyline.planning.kpis.measures import MEASURES
from supplyline.planning.kpis.service import KpiQuery, check_query, kpi_definitions, kpi_values

__all__ = [
    "MEASURES",
    "Fact",
    "KpiCatalog",
    "KpiDefinition",
    "KpiQuery",
    "Measure",
    "Window",
    "check_query",
    "kpi_definitions",
    "kpi_values",
    "load_catalog",
    "packaged_catalog",
]
