"""Traceability: a tamper-evident checkpoint trail of the events that matter to an audit.

Each recorded event (exceptions, holds: the types are chosen where the recorder is built) gets
a checkpoint holding the SHA-256 of its canonical form, chained to the tenant's previous
checkpoint and signed with a key derived from the platform secret; ``verify`` recomputes it all.
The byte layouts are documented in ``supplyline.trace.canonical``.
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
from supplyline.trace.queries import Checkpoint, latest_checkpoints, list_checkpoints
from supplyline.trace.verify import Problem, ProblemKind, VerifyReport, verify

__all__ = [
    "CONSUMER_NAME",
    "GENESIS",
    "Checkpoint",
    "CheckpointRecorder",
    "Coverage",
    "Problem",
    "ProblemKind",
    "VerifyReport",
    "append_checkpoints",
    "canonical_event",
    "chain_hash",
    "derive_key",
    "event_hash",
    "latest_checkpoints",
    "ledger_key",
    "list_checkpoints",
    "recorder_coverage",
    "verify",
]
