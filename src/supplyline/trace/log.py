"""A tenant's trail as an RFC 9162 Merkle tree log, with signed C2SP tree heads and proofs.

The trail's checkpoints, in their chain order, are the leaves: the leaf at index ``seq - 1``
is the event's hash ID in ``ni`` form (RFC 6920), ``ni:///sha-256;<event_hash>``, as UTF-8
bytes. The existing hash chains are therefore already in the log, in their order: nothing is
copied. A tree head is signed with an Ed25519 key derived from the platform secret (its own
label, so it never doubles as the HMAC key of the chain), and the public key is published, so a
partner verifies heads and proofs with it and ``supplyline.trace.merkle`` (or any RFC 9162
implementation) alone, without trusting us or our database.

Proofs are computed from the leaf hashes of the tree asked about; the leaves are read in one
ordered scan. Retention keeps the leaf hashes of the checkpoints it purges (``trace_leaf``), so
the tree and its proofs outlive a purge. Only a trail purged before leaf hashes were kept has no
tree: ``LogGap`` says so rather than serve a root no earlier head would be consistent with.
"""

from __future__ import annotations

import hmac
import uuid
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Uuid, cast, null, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.kernel.errors import Conflict, Invalid
from supplyline.trace import merkle
from supplyline.trace.note import TreeHead, verifier_key
from supplyline.trace.tables import trace_checkpoint, trace_leaf

HEAD_KEY_LABEL = b"supplyline.trace.tree-head-key.v1"
KEY_NAME = "supplyline.ledger"


class LogGap(Conflict):
    """The start of the tenant's trail was purged: its Merkle tree cannot be rebuilt."""


def head_key(ledger_key: bytes) -> Ed25519PrivateKey:
    """The Ed25519 key that signs tree heads, derived from the ledger's key."""
    return Ed25519PrivateKey.from_private_bytes(hmac.digest(ledger_key, HEAD_KEY_LABEL, "sha256"))


def public_key_text(ledger_key: bytes) -> str:
    """The verifier key (C2SP signed-note form) a partner checks tree heads with."""
    return verifier_key(KEY_NAME, head_key(ledger_key).public_key())


def origin(tenant_id: uuid.UUID) -> str:
    """The log's name in its checkpoints: one log per tenant."""
    return f"supplyline/tenants/{tenant_id}"


def leaf_data(event_hash: str) -> bytes:
    return f"ni:///sha-256;{event_hash}".encode()


async def leaf_rows(conn: AsyncConnection, tenant_id: uuid.UUID) -> list[tuple[int, str, uuid.UUID | None]]:
    """(seq, event hash, event id or None once purged) of every leaf of the tenant's log, in order."""
    t, kept = trace_checkpoint, trace_leaf
    live = select(t.c.seq, t.c.event_hash, t.c.event_id).where(t.c.tenant_id == tenant_id)
    gone = cast(null(), Uuid).label("event_id")
    purged = select(kept.c.seq, kept.c.event_hash, gone).where(kept.c.tenant_id == tenant_id)
    result = await conn.execute(union_all(purged, live).order_by("seq"))
    rows = [(int(r[0]), str(r[1]), r[2]) for r in result]
    if rows and rows[-1][0] != len(rows):
        raise LogGap("retention purged the start of this trail before its leaf hashes were kept")
    return rows


async def leaf_hashes(conn: AsyncConnection, tenant_id: uuid.UUID) -> list[bytes]:
    """The leaf hashes of the tenant's log, in order."""
    return [merkle.leaf_hash(leaf_data(h)) for _, h, _ in await leaf_rows(conn, tenant_id)]


@dataclass(frozen=True)
class SignedHead:
    head: TreeHead
    note: str  # the signed C2SP checkpoint

    def as_dict(self) -> dict[str, object]:
        return {
            "origin": self.head.origin,
            "tree_size": self.head.size,
            "root_hash": self.head.root.hex(),
            "checkpoint": self.note,
        }


async def tree_head(conn: AsyncConnection, tenant_id: uuid.UUID, ledger_key: bytes) -> SignedHead:
    """The tenant's current tree head, signed."""
    hashes = await leaf_hashes(conn, tenant_id)
    head = TreeHead(origin(tenant_id), len(hashes), merkle.root_of_hashes(hashes))
    return SignedHead(head, head.signed(KEY_NAME, head_key(ledger_key)))


def _size(value: int, have: int, field: str) -> None:
    if value > have:
        raise Invalid(field, f"the log holds {have} leaves, fewer than {value}")


@dataclass(frozen=True)
class InclusionProof:
    seq: int
    leaf_index: int
    tree_size: int
    leaf_hash: bytes
    root_hash: bytes
    proof: list[bytes]

    def as_dict(self) -> dict[str, object]:
        return {
            "seq": self.seq,
            "leaf_index": self.leaf_index,
            "tree_size": self.tree_size,
            "leaf_hash": self.leaf_hash.hex(),
            "root_hash": self.root_hash.hex(),
            "proof": [p.hex() for p in self.proof],
        }


async def inclusion(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    seq: int | None,
    tree_size: int | None,
    event_id: uuid.UUID | None = None,
) -> InclusionProof:
    """The proof that checkpoint ``seq`` (or the checkpoint of ``event_id``) is leaf ``seq - 1``
    of the tree of ``tree_size`` leaves (the current tree by default)."""
    if (seq is None) == (event_id is None):
        raise Invalid("seq", "give the checkpoint's seq or its event_id, one of the two")
    rows = await leaf_rows(conn, tenant_id)
    if seq is None:
        seq = next((s for s, _, e in rows if e == event_id), 0)
        if not seq:
            raise Invalid("event_id", "no checkpoint of this event in the log")
    hashes = [merkle.leaf_hash(leaf_data(h)) for _, h, _ in rows]
    size = len(hashes) if tree_size is None else tree_size
    _size(size, len(hashes), "tree_size")
    if not 1 <= seq <= size:
        raise Invalid("seq", f"not a checkpoint of a tree of {size} leaves (1 to {size})")
    tree = hashes[:size]
    proof = merkle.inclusion_proof(seq - 1, tree)
    return InclusionProof(seq, seq - 1, size, tree[seq - 1], merkle.root_of_hashes(tree), proof)


@dataclass(frozen=True)
class ConsistencyProof:
    first: int
    second: int
    first_root: bytes
    second_root: bytes
    proof: list[bytes]

    def as_dict(self) -> dict[str, object]:
        return {
            "first": self.first,
            "second": self.second,
            "first_root_hash": self.first_root.hex(),
            "second_root_hash": self.second_root.hex(),
            "proof": [p.hex() for p in self.proof],
        }


async def consistency(
    conn: AsyncConnection, tenant_id: uuid.UUID, first: int, second: int | None
) -> ConsistencyProof:
    """The proof that the tree of ``first`` leaves is a prefix of the tree of ``second``."""
    hashes = await leaf_hashes(conn, tenant_id)
    size2 = len(hashes) if second is None else second
    _size(size2, len(hashes), "second")
    if first > size2:
        raise Invalid("first", f"larger than the second tree ({size2} leaves)")
    tree = hashes[:size2]
    return ConsistencyProof(
        first,
        size2,
        merkle.root_of_hashes(tree[:first]),
        merkle.root_of_hashes(tree),
        merkle.consistency_proof(first, tree),
    )


def leaf_hash_of(event_hash: str) -> bytes:
    """The leaf hash a partner computes for an event hash it holds."""
    return merkle.leaf_hash(leaf_data(event_hash))


__all__ = [
    "KEY_NAME",
    "ConsistencyProof",
    "InclusionProof",
    "LogGap",
    "SignedHead",
    "consistency",
    "head_key",
    "inclusion",
    "leaf_hash_of",
    "origin",
    "public_key_text",
    "tree_head",
]
