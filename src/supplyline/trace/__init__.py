"""Traceability: a tamper-evident checkpoint trail of the events that matter to an audit.

Each recorded event (exceptions, holds: the types are chosen where the recorder is built) gets
a checkpoint holding the SHA-256 of its canonical form, chained to the tenant's previous
checkpoint and signed with a key derived from the platform secret; ``verify`` recomputes it all.
The byte layouts are documented in ``supplyline.trace.canonical``. Retention may purge the start
of a chain (``purge_checkpoints``): a signed anchor takes its place, and verify starts from it.
``event_hash_id`` gives any EPCIS 2.0 event its GS1 CBV 2.0 Event Hash ID (``epcis_hash``).
"""

from supplyline.trace.canonical import (
    GENESIS,
    canonical_event,
    chain_hash,
    derive_key,
    event_hash,
    ledger_key,
)
from supplyline.trace.consumer import (
    CONSUMER_NAME,
    CheckpointRecorder,
    Coverage,
    append_checkpoints,
    recorder_coverage,
)
from supplyline.trace.epcis_document import document_events
from supplyline.trace.epcis_hash import event_hash_id, prehash_string
from supplyline.trace.purge import Anchor, anchors, checkpoint_exists, latest_anchor, purge_checkpoints
from supplyline.trace.queries import Checkpoint, latest_checkpoints, list_checkpoints
from supplyline.trace.verify import Problem, ProblemKind, VerifyReport, verify

__all__ = [
    "CONSUMER_NAME",
    "GENESIS",
    "Anchor",
    "Checkpoint",
    "CheckpointRecorder",
    "Coverage",
    "Problem",
    "ProblemKind",
    "VerifyReport",
    "anchors",
    "append_checkpoints",
    "canonical_event",
    "chain_hash",
    "checkpoint_exists",
    "derive_key",
    "document_events",
    "event_hash",
    "event_hash_id",
    "latest_anchor",
    "latest_checkpoints",
    "ledger_key",
    "list_checkpoints",
    "prehash_string",
    "purge_checkpoints",
    "recorder_coverage",
    "verify",
]
