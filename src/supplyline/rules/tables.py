"""Rules stored per tenant: the condition and actions as JSON, the scope as references."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, String, Table, Text, Uuid

from supplyline.kernel.schema import JsonType, UTCDateTime, entity_table, metadata, tenant_fk

rules_rule = entity_table(
    "rules_rule",
    Column("code", String(64), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=True),
    Column("enabled", Boolean, nullable=False),
    Column("severity", String(16), nullable=False),
    Column("region_id", Uuid, nullable=True),
    Column("site_id", Uuid, nullable=True),
    Column("asset_type_id", Uuid, nullable=True),
    Column("asset_id", Uuid, nullable=True),
    Column("product_id", Uuid, nullable=True),
    Column("condition", JsonType, nullable=False),
    Column("actions", JsonType, nullable=False),
    tenant_fk("region_id", "registry_region"),
    tenant_fk("site_id", "registry_site"),
    tenant_fk("asset_type_id", "registry_asset_type"),
    tenant_fk("asset_id", "registry_asset"),
    tenant_fk("product_id", "logistics_product"),
)

# Where each rule stands for each device (engine.State as JSON), written in the same
# transaction as the readings that moved it, so a restart resumes a duration half-way.
rules_state = Table(
    "rules_state",
    metadata,
    Column("rule_id", Uuid, primary_key=True),
    Column("device_id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False, index=True),
    Column("state", JsonType, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    tenant_fk("rule_id", "rules_rule"),
    tenant_fk("device_id", "registry_device"),
)

# What the actions of each rule event did: a replayed event finds its entry and does nothing,
# and an operator can see why a lot was held.
rules_action_log = Table(
    "rules_action_log",
    metadata,
    Column("event_id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False, index=True),
    Column("rule_id", Uuid, nullable=True, index=True),
    Column("outcome", JsonType, nullable=False),
    Column("done_at", UTCDateTime, nullable=False),
)
