"""Planning: demand signals, forecasts with bands, replenishment with statistical safety stock,
policy simulation and KPIs, so that what the sensors saw (a hold, a late shipment) reaches the
plan: loop step 5.
"""

from supplyline.planning.demand_consumer import CONSUMER_NAME as DEMAND_CONSUMER
from supplyline.planning.demand_consumer import DemandProjection
from supplyline.planning.demand_import import MAX_ROWS as MAX_DEMAND_ROWS
from supplyline.planning.demand_import import MODES as DEMAND_IMPORT_MODES
from supplyline.planning.demand_import import import_demand, split_unique_id
from supplyline.planning.demand_read import demand_spike, read_demand
from supplyline.planning.demand_series import GRAINS, daily_demand, demand_series
from supplyline.planning.events import EVENT_TYPES, REPLENISHMENT_RECOMMENDED
from supplyline.planning.law_kelton import (
    LAW_KELTON_POLICIES,
    PUBLISHED_AVERAGE_TOTAL_COST,
    InventoryModel,
    PolicyCosts,
    law_kelton,
)
from supplyline.planning.longformat import LongRow, csv_records, csv_where, json_where, parse_rows
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
    "DEMAND_CONSUMER",
    "DEMAND_IMPORT_MODES",
    "EVENT_TYPES",
    "GRAINS",
    "LAW_KELTON_POLICIES",
    "MAX_DEMAND_ROWS",
    "PUBLISHED_AVERAGE_TOTAL_COST",
    "REPLENISHMENT_RECOMMENDED",
    "CompoundDemand",
    "Costs",
    "DemandProjection",
    "DemandSource",
    "Estimate",
    "FixedLeadTime",
    "InventoryModel",
    "LeadTime",
    "LongRow",
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
    "csv_records",
    "csv_where",
    "daily_demand",
    "demand_series",
    "demand_spike",
    "estimate",
    "import_demand",
    "json_where",
    "law_kelton",
    "lead_time_demand_sd",
    "normal_loss",
    "parse_rows",
    "read_demand",
    "read_history",
    "recommend",
    "recommend_and_publish",
    "reorder_point_for_fill_rate",
    "simulate",
    "split_unique_id",
    "verify_policy",
]
