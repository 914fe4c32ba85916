"""Planning: demand signals, forecasts with bands, replenishment with statistical safety stock,
policy simulation and KPIs, so that what the sensors saw (a hold, a late shipment) reaches the
plan: loop step 5.
"""

from supplyline.planning.backtest import (
    SeriesBacktest,
    backtest_series,
)
from supplyline.planning.demand_class import (
    classify,
)
from supplyline.planning.demand_consumer import (
    CONSUMER_NAME as DEMAND_CONSUMER,
)
from supplyline.planning.demand_consumer import (
    DemandProjection,
)
from supplyline.planning.demand_import import (
    MAX_ROWS as MAX_DEMAND_ROWS,
)
from supplyline.planning.demand_import import (
    MODES as DEMAND_IMPORT_MODES,
)
from supplyline.planning.demand_import import (
    import_demand,
    split_unique_id,
)
from supplyline.planning.demand_read import (
    demand_spike,
    read_demand,
)
from supplyline.planning.demand_series import (
    GRAINS,
    daily_demand,
    demand_series,
)
from supplyline.planning.events import (
    EVENT_TYPES,
    FORECAST_OVERRIDE_CREATED,
    FORECAST_OVERRIDE_WITHDRAWN,
    REPLENISHMENT_RECOMMENDED,
)
from supplyline.planning.forecast_result import (
    LEVELS,
    ForecastResult,
)
from supplyline.planning.forecast_runs import (
    Forecaster,
    latest_run,
)
from supplyline.planning.forecasting import (
    forecast,
    forecast_many,
)
from supplyline.planning.forecasts import (
    ForecastRunRequest,
    GrainName,
    fit_run,
    get_forecast,
    list_runs,
    save_run,
)
from supplyline.planning.kpis import (
    MEASURES,
    Fact,
    KpiCatalog,
    KpiDefinition,
    KpiQuery,
    Measure,
    Window,
    kpi_definitions,
    kpi_values,
    load_catalog,
    packaged_catalog,
)
from supplyline.planning.law_kelton import (
    LAW_KELTON_POLICIES,
    PUBLISHED_AVERAGE_TOTAL_COST,
    InventoryModel,
    PolicyCosts,
    law_kelton,
)
from supplyline.planning.longformat import (
    LongRow,
    csv_records,
    csv_where,
    json_where,
    parse_rows,
)
from supplyline.planning.model import (
    RecommendationRequest,
)
from supplyline.planning.override_apply import (
    apply_overrides,
)
from supplyline.planning.override_model import (
    REASON_CODES,
    AdjustedPoint,
    Override,
    OverrideRequest,
    Point,
)
from supplyline.planning.overrides import (
    create_override,
    get_override,
    list_overrides,
    series_overrides,
    withdraw_override,
)
from supplyline.planning.policy_check import (
    PolicyCheck,
    lead_time_demand_sd,
    reorder_point_for_fill_rate,
    verify_policy,
)
from supplyline.planning.reforecast import (
    Reforecaster,
)
from supplyline.planning.replenishment import (
    Recommendation,
    recommend,
    recommend_and_publish,
)
from supplyline.planning.schedule import (
    due_series,
    run_schedule,
)
from supplyline.planning.simhistory import (
    read_history,
)
from supplyline.planning.siminputs import (
    CompoundDemand,
    Costs,
    DemandSource,
    FixedLeadTime,
    LeadTime,
    NormalDemand,
    NormalLeadTime,
    PoissonDemand,
    ReplayDemand,
    UniformLeadTime,
)
from supplyline.planning.simpolicies import (
    MinMax,
    OrderUpTo,
    Policy,
    ReorderPointQuantity,
)
from supplyline.planning.simstats import (
    Estimate,
    estimate,
    normal_loss,
)
from supplyline.planning.simulation import (
    Scenario,
    SimulationReport,
    simulate,
)
from supplyline.planning.value_added import (
    forecast_value_added,
)

__all__: list[str] = [
    "DEMAND_CONSUMER",
    "DEMAND_IMPORT_MODES",
    "EVENT_TYPES",
    "FORECAST_OVERRIDE_CREATED",
    "FORECAST_OVERRIDE_WITHDRAWN",
    "GRAINS",
    "LAW_KELTON_POLICIES",
    "LEVELS",
    "MAX_DEMAND_ROWS",
    "MEASURES",
    "PUBLISHED_AVERAGE_TOTAL_COST",
    "REASON_CODES",
    "REPLENISHMENT_RECOMMENDED",
    "AdjustedPoint",
    "CompoundDemand",
    "Costs",
    "DemandProjection",
    "DemandSource",
    "Estimate",
    "Fact",
    "FixedLeadTime",
    "ForecastResult",
    "ForecastRunRequest",
    "Forecaster",
    "GrainName",
    "InventoryModel",
    "KpiCatalog",
    "KpiDefinition",
    "KpiQuery",
    "LeadTime",
    "LongRow",
    "Measure",
    "MinMax",
    "NormalDemand",
    "NormalLeadTime",
    "OrderUpTo",
    "Override",
    "OverrideRequest",
    "Point",
    "PoissonDemand",
    "Policy",
    "PolicyCheck",
    "PolicyCosts",
    "Recommendation",
    "RecommendationRequest",
    "Reforecaster",
    "ReorderPointQuantity",
    "ReplayDemand",
    "Scenario",
    "SeriesBacktest",
    "SimulationReport",
    "UniformLeadTime",
    "Window",
    "apply_overrides",
    "backtest_series",
    "classify",
    "create_override",
    "csv_records",
    "csv_where",
    "daily_demand",
    "demand_series",
    "demand_spike",
    "due_series",
    "estimate",
    "fit_run",
    "forecast",
    "forecast_many",
    "forecast_value_added",
    "get_forecast",
    "get_override",
    "import_demand",
    "json_where",
    "kpi_definitions",
    "kpi_values",
    "latest_run",
    "law_kelton",
    "lead_time_demand_sd",
    "list_overrides",
    "list_runs",
    "load_catalog",
    "normal_loss",
    "packaged_catalog",
    "parse_rows",
    "read_demand",
    "read_history",
    "recommend",
    "recommend_and_publish",
    "reorder_point_for_fill_rate",
    "run_schedule",
    "save_run",
    "series_overrides",
    "simulate",
    "split_unique_id",
    "verify_policy",
    "withdraw_override",
]
