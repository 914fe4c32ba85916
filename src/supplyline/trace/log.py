"""A tenant's trail as an RFC 9162 Merkle tree log, with signed C2SP tree heads and proofs.

The trail's checkpoints, in their chain order, are the leaves: the leaf at index ``seq - 1``
is the checkpoint's stored leaf data when it has one (an EPCIS event's GS1 Event Hash ID,
``ni:///sha-256;<hex>?ver=CBV2.0``), and otherwise the event's hash in ``ni`` form (RFC 6920),
``ni:///sha-256;<event_hash>``, as UTF-8 bytes (``supplyline.trace.leaves``). The existing hash
chains are therefore already in the log, in their order: nothing is copied. A tree head is
signed with an Ed25519 key derived from the platform secret (its own label, so it never doubles
as the HMAC key of the chain), and the public key is published, so a partner verifies heads and
proofs with it and ``supplyline.trace.merkle`` (or any RFC 9162 implementation) alone.

Heads and proofs combine the stored roots of complete subtrees (``supplyline.trace.subtree``)
with the few leaves no stored subtree covers, so a request on a log of millions of leaves reads
a few hundred rows. Retention keeps the leaves of the checkpoints it purges (``trace_leaf``), so
the tree and its proofs outlive a purge. Only a trail purged before leaf hashes were kept has no
tree: ``LogGap`` says so rather than serve a root no earlier head would be consistent with.
"""

from __future__ import annotations

import hmac
import uuid
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.kernel.errors import Invalid
from supplyline.trace.leaves import LeafRow, LogGap, find_leaf, leaf_data, leaf_hash_of, leaf_rows, log_size
from supplyline.trace.note import TreeHead, verifier_key
from supplyline.trace.subtree import TreeReader
from supplyline.trace.tables import trace_checkpoint

HEAD_KEY_LABEL = b"supplyline.trace.tree-head-key.v1"
KEY_NAME = "supplyline.ledger"


def head_key(ledger_key: bytes) -> Ed25519PrivateKey:
    """The Ed25519 key that signs tree heads, derived from the ledger's key."""
    return Ed25519PrivateKey.from_private_bytes(hmac.digest(ledger_key, HEAD_KEY_LABEL, "sha256"))


def public_key_text(ledger_key: bytes) -> str:
    """The verifier key (C2SP signed-note form) a partner checks tree heads with."""
    return verifier_key(KEY_NAME, head_key(ledger_key).public_key())


def origin(tenant_id: uuid.UUID) -> str:
    """The log's name in its checkpoints: one log per tenant."""
    return f"supplyline/tenants/{tenant_id}"


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
    size = await log_size(conn, tenant_id)
    head = TreeHead(origin(tenant_id), size, await TreeReader(conn, tenant_id).hash(0, size))
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
    hash_id: str | None = None,
) -> InclusionProof:
    """The proof that checkpoint ``seq`` (or the checkpoint of ``event_id``, or the leaf that is
    the EPCIS Event Hash ID ``hash_id``) is leaf ``seq - 1`` of the tree of ``tree_size`` leaves
    (the current tree by default)."""
    if sum(v is not None for v in (seq, event_id, hash_id)) != 1:
        raise Invalid("seq", "give the checkpoint's seq, its event_id or its hash_id, one of the three")
    size_now = await log_size(conn, tenant_id)
    if event_id is not None:
        seq = await _seq_of_event(conn, tenant_id, event_id)
    elif hash_id is not None:
        seq = await find_leaf(conn, tenant_id, hash_id)
        if seq is None:
            raise Invalid("hash_id", "no leaf of the log is this Event Hash ID")
    assert seq is not None
    size = size_now if tree_size is None else tree_size
    _size(size, size_now, "tree_size")
    if not 1 <= seq <= size:
        raise Invalid("seq", f"not a checkpoint of a tree of {size} leaves (1 to {size})")
    reader = TreeReader(conn, tenant_id)
    leaf, proof = await reader.inclusion(seq - 1, size)
    return InclusionProof(seq, seq - 1, size, leaf, await reader.hash(0, size), proof)


async def _seq_of_event(conn: AsyncConnection, tenant_id: uuid.UUID, event_id: uuid.UUID) -> int:
    t = trace_checkpoint
    stmt = select(t.c.seq).where(t.c.tenant_id == tenant_id, t.c.event_id == event_id)
    seq = (await conn.execute(stmt)).scalar()
    if seq is None:
        raise Invalid("event_id", "no checkpoint of this event in the log")
    return int(seq)


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
    size_now = await log_size(conn, tenant_id)
    size2 = size_now if second is None else second
    _size(size2, size_now, "second")
    if first > size2:
        raise Invalid("first", f"larger than the second tree ({size2} leaves)")
    reader = TreeReader(conn, tenant_id)
    return ConsistencyProof(
        first,
        size2,
        await reader.hash(0, first),
        await reader.hash(0, size2),
        await reader.consistency(first, size2),
    )


__all__ = [
    "KEY_NAME",
    "ConsistencyProof",
    "InclusionProof",
    "LeafRow",
    "LogGap",
    "SignedHead",
    "consistency",
    "head_key",
    "inclusion",
    "leaf_data",
    "leaf_hash_of",
    "leaf_rows",
    "origin",
    "public_key_text",
    "tree_head",
]
