"""Telemetry storage: a landing table written once per accepted batch, per-device chunks after.

Why two tiers: a per-reading row with a (device_id, ts) index costs one random b-tree write per
reading, and with thousands of interleaved devices that index is the ingestion bottleneck.
A batch is made durable as one landing row (a columnar blob) before it is acknowledged; the
compactor later folds landing rows into one chunk per device, so the index sees one entry per
device per chunk rather than one per reading.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    Uuid,
)

from supplyline.kernel.schema import JsonType, UTCDateTime, entity_table, metadata, tenant_fk

# SQLite only autoincrements an INTEGER PRIMARY KEY.
AutoId = BigInteger().with_variant(Integer(), "sqlite")

telemetry_device_state = Table(
    "telemetry_device_state",
    metadata,
    Column("device_no", AutoId, primary_key=True, autoincrement=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("device_id", Uuid, nullable=False, unique=True),
    Column("first_seen_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("last_ts_ms", BigInteger, nullable=True),
    # Sequence numbers already stored, as merged [first, last] ranges.
    Column("seq_ranges", JsonType, nullable=False),
    Column("last_values", JsonType, nullable=False),
    # The device's clock against ours at its newest message: its newest reading's time minus
    # when that message was received (positive: ahead; negative: behind, or buffering).
    Column("skew_ms", BigInteger, nullable=True),
    # Readings that arrived more than LATE_AFTER_MS after their own time (a backlog the rules
    # record without acting on), counted as the compactor folds them in.
    Column("late_count", BigInteger, nullable=False, default=0, server_default="0"),
    Column("silent", Integer, nullable=False, default=0),
    # Landing rows up to this id are already in this device's chunks: queries and compaction
    # skip the device's readings in them (compaction goes device slice by device slice).
    Column("compacted_through", BigInteger, nullable=False, default=0),
    tenant_fk("device_id", "registry_device"),
    sqlite_autoincrement=True,
)

telemetry_credential = Table(
    "telemetry_credential",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False, index=True),
    Column("device_id", Uuid, nullable=False, index=True),
    Column("prefix", String(32), nullable=False, unique=True),
    Column("token_hash", LargeBinary(32), nullable=False),
    # The HMAC signing secret, encrypted with the server key (it must be read back to verify).
    Column("secret_enc", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=True),
    Column("revoked_at", UTCDateTime, nullable=True),
    tenant_fk("device_id", "registry_device"),
)

telemetry_landing = Table(
    "telemetry_landing",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("tenant_id", Uuid, ForeignKey("access_tenant.id"), nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("count", Integer, nullable=False),
    Column("min_ts_ms", BigInteger, nullable=False),
    Column("max_ts_ms", BigInteger, nullable=False),
    Column("blob", LargeBinary, nullable=False),
    sqlite_autoincrement=True,
)

telemetry_chunk = Table(
    "telemetry_chunk",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("device_no", BigInteger, ForeignKey("telemetry_device_state.device_no"), nullable=False),
    Column("start_ms", BigInteger, nullable=False),
    Column("end_ms", BigInteger, nullable=False),
    Column("count", Integer, nullable=False),
    Column("blob", LargeBinary, nullable=False),
    # Chunks of one device may overlap in time (late data); a range query takes every chunk
    # that ends after its start and filters on start.
    Index("ix_telemetry_chunk_device_end", "device_no", "end_ms"),
    Index("ix_telemetry_chunk_tenant_end", "tenant_id", "end_ms"),
    sqlite_autoincrement=True,
)

telemetry_rejection = Table(
    "telemetry_rejection",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    # The device as the message named it: rejected messages may name devices that do not exist.
    Column("device_code", String(128), nullable=False),
    Column("reason", String(64), nullable=False),
    Column("count", BigInteger, nullable=False),
    Column("last_at", UTCDateTime, nullable=False),
    Column("last_detail", Text, nullable=True),
    PrimaryKeyConstraint("tenant_id", "device_code", "reason"),
)

telemetry_dead_letter = Table(
    "telemetry_dead_letter",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("tenant_slug", String(63), nullable=True, index=True),
    Column("topic", String(512), nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("properties", JsonType, nullable=False),
    Column("reason", Text, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("replayed_at", UTCDateTime, nullable=True),
    sqlite_autoincrement=True,
)

# ``version`` is taken by every entity table (the row's ETag counter), hence ``mapping_version``.
telemetry_payload_mapping = entity_table(
    "telemetry_payload_mapping",
    Column("code", String(64), nullable=False),
    Column("mapping_version", Integer, nullable=False),
    Column("name", String(200), nullable=False),
    Column("spec", JsonType, nullable=False),
    natural_keys=(("code", "mapping_version"),),
)

# How long readings are kept: per device profile, or the tenant's default (no profile).
telemetry_retention = entity_table(
    "telemetry_retention",
    Column("device_profile_id", Uuid, nullable=True),
    Column("days", Integer, nullable=False),
    tenant_fk("device_profile_id", "registry_device_profile"),
    natural_keys=(("device_profile_id",),),
)
