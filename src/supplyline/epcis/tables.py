"""EPCIS repository tables: captured and own events, their searchable keys, capture jobs, and
the lineage edges the events justify.

An event is stored whole (``document``, as captured, so a query returns what was sent) and
indexed by the columns and keys the standard query filters on. Identifiers in keys and columns
are in canonical GS1 Digital Link form (``supplyline.trace.epcis_ids``), so an EPC URN and the
Digital Link of the same object are the same value to every query.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
    Uuid,
)

from supplyline.kernel.schema import JsonType, UTCDateTime, metadata

# SQLite only autoincrements an INTEGER PRIMARY KEY, PostgreSQL wants 64 bits.
Seq = BigInteger().with_variant(Integer(), "sqlite")

# A capture job (EPCIS 2.0 capture interface): the document is validated and stored whole in
# one transaction, so a job is ``running`` until that commits and then ``success`` or not.
epcis_capture = Table(
    "epcis_capture",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("running", Boolean, nullable=False),
    Column("success", Boolean, nullable=True),
    Column("capture_error_behaviour", String(16), nullable=False),  # rollback | proceed
    Column("errors", JsonType, nullable=False),  # [{eventIndex, field, reason}]
    Column("event_count", Integer, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("organization_id", Uuid, nullable=True),  # the partner organisation that captured
    Column("created_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=True),
    UniqueConstraint("tenant_id", "id"),
    Index("ix_epcis_capture_tenant_created", "tenant_id", "created_at"),
    ForeignKeyConstraint(["tenant_id"], ["access_tenant.id"]),
)

# ``seq`` is the record order: it only grows, so paging by it is stable while capture goes on.
# An error declaration is stored as its own row beside the event it declares wrong (same
# eventID, ``declaration`` true); the event itself is never changed.
epcis_event = Table(
    "epcis_event",
    metadata,
    Column("seq", Seq, primary_key=True, autoincrement=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("event_id", String(512), nullable=False),
    Column("hash_id", String(100), nullable=False),
    Column("event_type", String(32), nullable=False),
    Column("event_time", UTCDateTime, nullable=False),
    Column("event_time_zone_offset", String(6), nullable=False),
    Column("record_time", UTCDateTime, nullable=False),
    Column("action", String(8), nullable=True),
    Column("biz_step", String(300), nullable=True),
    Column("disposition", String(300), nullable=True),
    Column("read_point", String(512), nullable=True),
    Column("biz_location", String(512), nullable=True),
    Column("declaration", Boolean, nullable=False),
    Column("source", String(16), nullable=False),  # capture | platform
    Column("capture_id", Uuid, nullable=True),
    Column("organization_id", Uuid, nullable=True),  # the partner organisation that captured it
    Column("document", JsonType, nullable=False),  # the event, eventID and recordTime filled in
    Column("context", JsonType, nullable=True),  # the capture document's @context, for its prefixes
    UniqueConstraint("tenant_id", "event_id", "declaration"),
    Index("ix_epcis_event_tenant_seq", "tenant_id", "seq"),
    Index("ix_epcis_event_tenant_event_time", "tenant_id", "event_time"),
    Index("ix_epcis_event_tenant_record_time", "tenant_id", "record_time"),
    Index("ix_epcis_event_tenant_hash_id", "tenant_id", "hash_id"),
    ForeignKeyConstraint(["tenant_id"], ["access_tenant.id"]),
    sqlite_autoincrement=True,
)

# The identifiers an event names, by role: epc (epcList), child (childEPCs), parent (parentID),
# input / output (inputEPCList / outputEPCList), class / child_class / input_class /
# output_class (the quantity lists' epcClass), btx / source / destination (qualifier: the
# canonical type URI). Values are canonical (Digital Link for GS1 keys).
epcis_event_key = Table(
    "epcis_event_key",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("seq", Seq, nullable=False),
    Column("role", String(16), nullable=False),
    Column("qualifier", String(300), nullable=False),
    Column("value", String(512), nullable=False),
    PrimaryKeyConstraint("seq", "role", "qualifier", "value"),
    Index("ix_epcis_event_key_lookup", "tenant_id", "role", "value", "seq"),
    ForeignKeyConstraint(["tenant_id"], ["access_tenant.id"]),
)

# The platform records an event is about (kind: lot | shipment | order | site | product), for
# partner visibility and recall exposure: a partner reaches an event through what it reaches.
epcis_event_ref = Table(
    "epcis_event_ref",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("seq", Seq, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("ref_id", Uuid, nullable=False),
    PrimaryKeyConstraint("seq", "kind", "ref_id"),
    Index("ix_epcis_event_ref_lookup", "tenant_id", "kind", "ref_id", "seq"),
    ForeignKeyConstraint(["tenant_id"], ["access_tenant.id"]),
)

# Lineage: what an event says went from one identifier (a lot, serial, pallet or container in
# canonical form) into another. kind: transform (input -> output), aggregate (child -> parent),
# disaggregate (parent -> child), split / merge / repack as a transformation says. Traces walk
# these by index, never the event documents, so a five-hop trace over a million events stays
# a handful of indexed lookups.
epcis_lineage_edge = Table(
    "epcis_lineage_edge",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("seq", Seq, nullable=False),
    Column("from_id", String(512), nullable=False),
    Column("to_id", String(512), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("quantity", Float, nullable=True),
    Column("uom", String(16), nullable=True),
    PrimaryKeyConstraint("seq", "from_id", "to_id", "kind"),
    Index("ix_epcis_lineage_edge_from", "tenant_id", "from_id"),
    Index("ix_epcis_lineage_edge_to", "tenant_id", "to_id"),
    ForeignKeyConstraint(["tenant_id"], ["access_tenant.id"]),
)
