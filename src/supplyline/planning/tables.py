"""Planning tables: demand series, forecast runs with their provenance and points, and planner
overrides kept beside (never over) the statistical forecast."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Uuid,
)

from supplyline.kernel.schema import JsonType, UTCDateTime, metadata, tenant_fk

# Daily demand of a product at a site, one row per (day, source): 'events' is what the event log
# showed (built incrementally by a consumer), 'import' is history a planner loaded. Weekly and
# hierarchy series are sums over these rows; a missing day is a zero.
planning_demand = Table(
    "planning_demand",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("product_id", Uuid, nullable=False),
    Column("site_id", Uuid, nullable=False),
    Column("day", Date, nullable=False),
    Column("source", String(16), nullable=False),
    Column("quantity", Float, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("tenant_id", "product_id", "site_id", "day", "source"),
    ForeignKeyConstraint(["tenant_id"], ["access_tenant.id"]),
    tenant_fk("product_id", "logistics_product"),
    tenant_fk("site_id", "registry_site"),
)

# Which (product, site) series each order or shipment last fed, so that the demand consumer
# can recompute a series an order left (its site or lines changed, a shipment took it over).
planning_demand_subject = Table(
    "planning_demand_subject",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("subject", String(200), nullable=False),
    Column("product_id", Uuid, nullable=False),
    Column("site_id", Uuid, nullable=False),
    PrimaryKeyConstraint("tenant_id", "subject", "product_id", "site_id"),
    ForeignKeyConstraint(["tenant_id"], ["access_tenant.id"]),
)

# One imported file or request of demand history: who loaded what, when, into which series.
planning_demand_import = Table(
    "planning_demand_import",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("filename", String(255), nullable=True),
    Column("rows", Integer, nullable=False),
    Column("series", Integer, nullable=False),
    Column("first_day", Date, nullable=True),
    Column("last_day", Date, nullable=True),
    Column("created_by", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    ForeignKeyConstraint(["tenant_id"], ["access_tenant.id"]),
    Index("ix_planning_demand_import_tenant_created", "tenant_id", "created_at"),
)

# One forecast of one series, with everything needed to explain and reproduce it: the model and
# its fitted parameters, the library and its version, the input window and its fingerprint
# (sha256 of the values), the backtest that chose the model, why it ran and how long it took.
planning_forecast_run = Table(
    "planning_forecast_run",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("product_id", Uuid, nullable=False),
    Column("site_id", Uuid, nullable=False),
    Column("grain", String(8), nullable=False),  # day | week
    Column("horizon", Integer, nullable=False),
    Column("season", Integer, nullable=False),
    Column("demand_class", String(16), nullable=False),  # smooth | erratic | intermittent | lumpy
    Column("adi", Float, nullable=True),
    Column("cv2", Float, nullable=True),
    Column("model", String(64), nullable=False),
    Column("params", JsonType, nullable=False),
    Column("library", String(64), nullable=False),
    Column("band_method", String(16), nullable=False),  # conformal | model
    Column("backtest", JsonType, nullable=False),
    Column("input_start", Date, nullable=True),
    Column("input_end", Date, nullable=True),
    Column("input_points", Integer, nullable=False),
    Column("input_fingerprint", String(64), nullable=False),
    Column("trigger", String(100), nullable=False),  # schedule | request | <event type>
    Column("trigger_event_id", Uuid, nullable=True),
    Column("created_by", String(200), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("duration_ms", Float, nullable=False),
    ForeignKeyConstraint(["tenant_id"], ["access_tenant.id"]),
    tenant_fk("product_id", "logistics_product"),
    tenant_fk("site_id", "registry_site"),
    Index("ix_planning_forecast_run_series", "tenant_id", "product_id", "site_id", "started_at"),
)

# The forecast's values: one row per period start, the mean and the 80% and 95% bands.
planning_forecast_point = Table(
    "planning_forecast_point",
    metadata,
    Column("run_id", Uuid, nullable=False),
    Column("ds", Date, nullable=False),
    Column("mean", Float, nullable=False),
    Column("lo80", Float, nullable=False),
    Column("hi80", Float, nullable=False),
    Column("lo95", Float, nullable=False),
    Column("hi95", Float, nullable=False),
    PrimaryKeyConstraint("run_id", "ds"),
    ForeignKeyConstraint(["run_id"], ["planning_forecast_run.id"], ondelete="CASCADE"),
)

# A planner's judgement over a range of days of one series: 'set' replaces the statistical
# daily quantity, 'delta' adds to it, 'percent' scales it. Kept beside the statistical forecast,
# withdrawn rather than deleted, and it stops applying at expires_at.
planning_override = Table(
    "planning_override",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("product_id", Uuid, nullable=False),
    Column("site_id", Uuid, nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("value", Float, nullable=False),
    Column("reason_code", String(32), nullable=False),
    Column("note", String(1000), nullable=True),
    Column("expires_at", UTCDateTime, nullable=True),
    Column("created_by", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("withdrawn_at", UTCDateTime, nullable=True),
    Column("withdrawn_by", String(200), nullable=True),
    ForeignKeyConstraint(["tenant_id"], ["access_tenant.id"]),
    tenant_fk("product_id", "logistics_product"),
    tenant_fk("site_id", "registry_site"),
    Index("ix_planning_override_series", "tenant_id", "product_id", "site_id", "starts_on"),
)
