"""Traceability: a tamper-evident checkpoint trail of the events that matter to an audit.

Each recorded event (exceptions, holds: the types are chosen where the recorder is built) gets
a checkpoint holding the SHA-256 of its canonical form, chained to the tenant's previous
checkpoint and signed with a key derived from the platform secret; ``verify`` recomputes it all.
The byte layouts are documented in ``supplyline.trace.canonical``. The RFC 9162 Merkle tree
(``supplyline.trace.merkle``) and C2SP signed tree heads (``supplyline.trace.note``) are the
pure building blocks of the ledger a partner verifies without trusting us. Retention may purge the start
of a chain (``purge_checkpoints``): a signed anchor takes its place, and verify starts from it.
``event_hash_id`` gives any EPCIS 2.0 event its GS1 CBV 2.0 Event Hash ID (``epcis_hash``); the
recorder makes it the leaf of an EPCIS event (``leaf_of``, chosen in bootstrap), and heads and
proofs are served from stored subtree roots (``subtree``), which ``verify`` checks.
"""

from supplyline.trace import merkle
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
    LeafRule,
    append_checkpoints,
    recorder_coverage,
)
from supplyline.trace.epcis_document import document_events
from supplyline.trace.epcis_hash import context_prefixes, event_hash_id, event_type, prehash_string
from supplyline.trace.epcis_ids import CBV_URI, STANDARD_PREFIXES, normalise_uri, vocabulary_term
from supplyline.trace.export import ExportReport, export_log, verify_export
from supplyline.trace.leaves import LeafRow, leaf_data, leaf_rows, log_size
from supplyline.trace.log import (
    KEY_NAME,
    ConsistencyProof,
    InclusionProof,
    LogGap,
    SignedHead,
    consistency,
    inclusion,
    leaf_hash_of,
    public_key_text,
    tree_head,
)
from supplyline.trace.note import NoteError, TreeHead, Verifier, open_note, sign_note, verifier_key
from supplyline.trace.purge import Anchor, anchors, checkpoint_exists, latest_anchor, purge_checkpoints
from supplyline.trace.queries import Checkpoint, latest_checkpoints, list_checkpoints
from supplyline.trace.subtree import LEVELS as SUBTREE_LEVELS
from supplyline.trace.subtree import TreeReader
from supplyline.trace.verify import Problem, ProblemKind, VerifyReport, verify

__all__ = [
    "CBV_URI",
    "CONSUMER_NAME",
    "GENESIS",
    "KEY_NAME",
    "STANDARD_PREFIXES",
    "SUBTREE_LEVELS",
    "Anchor",
    "Checkpoint",
    "CheckpointRecorder",
    "ConsistencyProof",
    "Coverage",
    "ExportReport",
    "InclusionProof",
    "LeafRow",
    "LeafRule",
    "LogGap",
    "NoteError",
    "Problem",
    "ProblemKind",
    "SignedHead",
    "TreeHead",
    "TreeReader",
    "Verifier",
    "VerifyReport",
    "anchors",
    "append_checkpoints",
    "canonical_event",
    "chain_hash",
    "checkpoint_exists",
    "consistency",
    "context_prefixes",
    "derive_key",
    "document_events",
    "event_hash",
    "event_hash_id",
    "event_type",
    "export_log",
    "inclusion",
    "latest_anchor",
    "latest_checkpoints",
    "leaf_data",
    "leaf_hash_of",
    "leaf_rows",
    "ledger_key",
    "list_checkpoints",
    "log_size",
    "merkle",
    "normalise_uri",
    "open_note",
    "prehash_string",
    "public_key_text",
    "purge_checkpoints",
    "recorder_coverage",
    "sign_note",
    "tree_head",
    "verifier_key",
    "verify",
    "verify_export",
    "vocabulary_term",
]
