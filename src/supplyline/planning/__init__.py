"""Planning: demand signals, forecasts with bands, replenishment with statistical safety stock,
policy simulation and KPIs, so that what the sensors saw (a hold, a late shipment) reaches the
plan: loop step 5.
"""

from supplyline.planning.events import EVENT_TYPES, REPLENISHMENT_RECOMMENDED
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
from supplyline.planning.model import RecommendationRequest
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

__all__: list[str] = [
    "EVENT_TYPES",
    "LAW_KELTON_POLICIES",
    "MEASURES",
    "PUBLISHED_AVERAGE_TOTAL_COST",
    "REPLENISHMENT_RECOMMENDED",
    "CompoundDemand",
    "Costs",
    "DemandSource",
    "Estimate",
    "Fact",
    "FixedLeadTime",
    "InventoryModel",
    "KpiCatalog",
    "KpiDefinition",
    "KpiQuery",
    "LeadTime",
    "Measure",
    "MinMax",
    "NormalDemand",
    "NormalLeadTime",
    "OrderUpTo",
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
    "Window",
    "estimate",
    "kpi_definitions",
    "kpi_values",
    "law_kelton",
    "lead_time_demand_sd",
    "load_catalog",
    "normal_loss",
    "packaged_catalog",
    "read_history",
    "recommend",
    "recommend_and_publish",
    "reorder_point_for_fill_rate",
    "simulate",
    "verify_policy",
]
