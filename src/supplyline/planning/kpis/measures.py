"""The measure registry: a definition names its measure here. A new KPI is a definition in
``definitions.json`` and, when no measure fits, one new entry (several KPIs may share one:
WAPE, MASE and bias are one measure with a parameter)."""

from __future__ import annotations

from supplyline.planning.kpis.condition_measures import (
    SHIPMENT_DIMENSIONS,
    TimeOutOfRangeParams,
    excursion_rate,
    mtbf,
    time_out_of_range,
)
from supplyline.planning.kpis.facts import Measure
from supplyline.planning.kpis.forecast_measures import ForecastErrorParams, forecast_error
from supplyline.planning.kpis.supply_measures import (
    ORDER_DIMENSIONS,
    STOCK_DIMENSIONS,
    OtifParams,
    days_of_supply,
    fill_rate,
    inventory_turns,
    otif,
)

MEASURES: dict[str, Measure] = {
    "fill_rate": Measure(fill_rate, ORDER_DIMENSIONS),
    "otif": Measure(otif, ORDER_DIMENSIONS, OtifParams),
    "days_of_supply": Measure(days_of_supply, STOCK_DIMENSIONS),
    "inventory_turns": Measure(inventory_turns, STOCK_DIMENSIONS),
    "forecast_error": Measure(forecast_error, frozenset({"product", "site"}), ForecastErrorParams),
    "excursion_rate": Measure(excursion_rate, SHIPMENT_DIMENSIONS),
    "time_out_of_range": Measure(time_out_of_range, SHIPMENT_DIMENSIONS, TimeOutOfRangeParams),
    "mtbf": Measure(mtbf, frozenset({"asset", "site"})),
}
