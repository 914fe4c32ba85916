"""Planning: demand signals, forecasts with bands, replenishment with statistical safety stock,
policy simulation and KPIs, so that what the sensors saw (a hold, a late shipment) reaches the
plan: loop step 5.
"""

from supplyline.planning.events import (
    EVENT_TYPES,
    FORECAST_OVERRIDE_CREATED,
    FORECAST_OVERRIDE_WITHDRAWN,
    REPLENISHMENT_RECOMMENDED,
)
from supplyline.planning.law_kelton import (
    LAW_KELTON_POLICIES,
    PUBLISHED_AVERAGE_TOTAL_COST,
    InventoryModel,
    PolicyCosts,
    law_kelton,
)
from supplyline.planning.model import RecommendationRequest
from supplyline.planning.override_apply import apply_overrides
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
from supplyline.planning.replenishment import Recommendation, recommend, recommend_and_publish
from supplyline.planning.simhistory import read_history
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
from supplyline.planning.simpolicies import MinMax, OrderUpTo, Policy, ReorderPointQuantity
from supplyline.planning.simstats import Estimate, estimate, normal_loss
from supplyline.planning.simulation import Scenario, SimulationReport, simulate
from supplyline.planning.value_added import forecast_value_added

__all__: list[str] = [
    "EVENT_TYPES",
    "FORECAST_OVERRIDE_CREATED",
    "FORECAST_OVERRIDE_WITHDRAWN",
    "LAW_KELTON_POLICIES",
    "PUBLISHED_AVERAGE_TOTAL_COST",
    "REASON_CODES",
    "REPLENISHMENT_RECOMMENDED",
    "AdjustedPoint",
    "CompoundDemand",
    "Costs",
    "DemandSource",
    "Estimate",
    "FixedLeadTime",
    "InventoryModel",
    "LeadTime",
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
    "ReorderPointQuantity",
    "ReplayDemand",
    "Scenario",
    "SimulationReport",
    "UniformLeadTime",
    "apply_overrides",
    "create_override",
    "estimate",
    "forecast_value_added",
    "get_override",
    "law_kelton",
    "lead_time_demand_sd",
    "list_overrides",
    "normal_loss",
    "read_history",
    "recommend",
    "recommend_and_publish",
    "reorder_point_for_fill_rate",
    "series_overrides",
    "simulate",
    "verify_policy",
    "withdraw_override",
]
