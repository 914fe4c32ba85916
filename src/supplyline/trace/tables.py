"""The checkpoint trail: one row per recorded event, chained per tenant by hash; and the anchors
that retention leaves where it cut the start of a chain."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
    Uuid,
)

from supplyline.kernel.schema import UTCDateTime, metadata

# No foreign key to the event log: a checkpoint must outlive a deleted event, so that
# verification can say the event is missing.
trace_checkpoint = Table(
    "trace_checkpoint",
    metadata,
    Column("tenant_id", Uuid, primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("event_id", Uuid, nullable=False),
    Column("event_position", BigInteger, nullable=False),
    Column("event_type", String(200), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("correlation_id", String(100), nullable=True),
    Column("event_hash", String(64), nullable=False),
    # The leaf data when it is not ``ni:///sha-256;<event_hash>``: an EPCIS event's Event Hash ID.
    Column("leaf", String(120), nullable=True),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("signature", String(64), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    # An event is recorded once per tenant: a replay finds it and skips it.
    UniqueConstraint("tenant_id", "event_id"),
    # An inclusion proof asked for by EPCIS Event Hash ID finds its leaf by index.
    Index("ix_trace_checkpoint_tenant_leaf", "tenant_id", "leaf"),
    # A shipment's or a lot's checkpoints (the console's timeline) without reading the chain.
    Index("ix_trace_checkpoint_tenant_subject", "tenant_id", "subject", "seq"),
    ForeignKeyConstraint(["tenant_id"], ["access_tenant.id"]),
)

# Where retention purged the start of a tenant's chain: the last checkpoint deleted (its seq and
# hash, the log position of its event) and the cutoff, signed with the ledger key like the
# checkpoints. Verification starts from the newest anchor; older ones are kept as the record.
trace_anchor = Table(
    "trace_anchor",
    metadata,
    Column("tenant_id", Uuid, primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", String(64), nullable=False),
    Column("event_position", BigInteger, nullable=False),
    Column("cutoff", UTCDateTime, nullable=False),
    Column("purged", BigInteger, nullable=False),
    Column("signature", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    ForeignKeyConstraint(["tenant_id"], ["access_tenant.id"]),
)

# The leaf hashes of checkpoints that retention purged: the checkpoint and its event go, its
# place in the tenant's Merkle log stays, so proofs and consistency with earlier tree heads
# still hold after a purge.
trace_leaf = Table(
    "trace_leaf",
    metadata,
    Column("tenant_id", Uuid, primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("event_hash", String(64), nullable=False),
    Column("leaf", String(120), nullable=True),
    Index("ix_trace_leaf_tenant_leaf", "tenant_id", "leaf"),
    ForeignKeyConstraint(["tenant_id"], ["access_tenant.id"]),
)

# Hashes of complete subtrees of a tenant's Merkle log: the subtree of 2**level leaves starting
# at leaf ``index * 2**level``. A complete subtree never changes once its last leaf is in, so
# roots and proofs of large logs combine stored hashes instead of rehashing every leaf.
trace_subtree = Table(
    "trace_subtree",
    metadata,
    Column("tenant_id", Uuid, primary_key=True),
    Column("level", Integer, primary_key=True, autoincrement=False),
    Column("index", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", String(64), nullable=False),
    ForeignKeyConstraint(["tenant_id"], ["access_tenant.id"]),
)
