"""What a checkpoint commits to, byte for byte, so that an auditor can recompute every hash.

Canonical event (layout v1): the UTF-8 JSON object of the stored event's fields

    actor           string or null
    correlation_id  string or null
    data            the event's data as stored (a JSON object)
    id              the event id, lower-case hyphenated UUID
    source          string
    subject         string
    tenant_id       lower-case hyphenated UUID, or null
    time            ISO-8601 UTC with microseconds and a Z: 2026-11-29T10:00:00.000000Z
    type            the wire type, e.g. supplyline.rule.condition_raised.v1

with the keys of every object (nested ones too) sorted by code point, no whitespace between
tokens, non-ASCII characters written as UTF-8 (not escaped), integers in decimal and other
numbers in their shortest round-trip form, exactly as ``orjson.dumps(obj, option=OPT_SORT_KEYS)``
writes them. The log position is not part of it: the checkpoint's seq orders the chain.

    event_hash = hex(SHA-256(canonical event))
    hash       = hex(SHA-256(prev_hash[32] || seq[8] || event_hash[32]))   72 bytes in
                 prev_hash and event_hash as raw bytes (hex-decoded), seq as an unsigned
                 64-bit big-endian integer; prev_hash of a tenant's first checkpoint is 32 zero bytes
    signature  = hex(HMAC-SHA256(key, hash[32]))
    key        = HMAC-SHA256(platform secret, "supplyline.trace.checkpoint-key.v1")

Purge anchor (layout v1): where retention deleted the first checkpoints of a tenant's chain,
up to and including ``seq``, the anchor keeps that checkpoint's ``hash`` (the next checkpoint's
prev_hash) and the log position of its event, and is signed with the same key:

    anchor signature = hex(HMAC-SHA256(key, "supplyline.trace.anchor.v1" || tenant_id[16] ||
                       seq[8] || hash[32] || event_position[8] || cutoff[8]))   98 bytes in
                 tenant_id as its 16 bytes, seq and event_position unsigned 64-bit big-endian,
                 hash raw, cutoff in microseconds since 1970-01-01T00:00:00Z, signed 64-bit
                 big-endian
"""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from supplyline.kernel.events import StoredEvent

GENESIS = "0" * 64
KEY_LABEL = b"supplyline.trace.checkpoint-key.v1"
ANCHOR_LABEL = b"supplyline.trace.anchor.v1"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_HEX64 = re.compile(r"[0-9a-f]{64}")


def canonical_event(event: StoredEvent) -> bytes:
    """The deterministic bytes of a stored event (layout v1, in the module docstring)."""
    time = event.time.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
    doc: dict[str, Any] = {
        "actor": event.actor,
        "correlation_id": event.correlation_id,
        "data": event.data,
        "id": str(event.id),
        "source": event.source,
        "subject": event.subject,
        "tenant_id": str(event.tenant_id) if event.tenant_id is not None else None,
        "time": time,
        "type": event.type,
    }
    return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)


def event_hash(event: StoredEvent) -> str:
    return hashlib.sha256(canonical_event(event)).hexdigest()


def _raw(value: str, name: str) -> bytes:
    # bytes.fromhex alone would also take upper case and spaces: two spellings of one hash.
    if not _HEX64.fullmatch(value):
        raise ValueError(f"{name} is not 64 lower-case hex digits")
    return bytes.fromhex(value)


def chain_hash(prev_hash: str, seq: int, event_hash: str) -> str:
    """The checkpoint hash; ValueError when a field is not a well-formed hash or seq."""
    if not 0 < seq < 2**64:
        raise ValueError(f"seq {seq} is outside 1..2^64-1")
    body = _raw(prev_hash, "prev_hash") + seq.to_bytes(8, "big") + _raw(event_hash, "event_hash")
    return hashlib.sha256(body).hexdigest()


def sign(key: bytes, hash_: str) -> str:
    return hmac.digest(key, _raw(hash_, "hash"), "sha256").hex()


def signed(key: bytes, hash_: str, signature: str) -> bool:
    """True when ``signature`` is the key's signature of ``hash_`` (constant-time comparison)."""
    try:
        return hmac.compare_digest(sign(key, hash_), signature)
    except (ValueError, TypeError):
        return False


def anchor_signature(
    key: bytes, tenant_id: uuid.UUID, seq: int, hash_: str, event_position: int, cutoff: datetime
) -> str:
    """The signature of a purge anchor (layout in the module docstring); ValueError when a field
    is out of range."""
    if not 0 < seq < 2**64 or not 0 <= event_position < 2**64:
        raise ValueError("seq or event_position is outside 0..2^64-1")
    micros = (cutoff - _EPOCH) // _MICROSECOND
    body = (
        ANCHOR_LABEL
        + tenant_id.bytes
        + seq.to_bytes(8, "big")
        + _raw(hash_, "hash")
        + event_position.to_bytes(8, "big")
        + micros.to_bytes(8, "big", signed=True)
    )
    return hmac.digest(key, body, "sha256").hex()


def anchor_signed(
    key: bytes,
    tenant_id: uuid.UUID,
    seq: int,
    hash_: str,
    event_position: int,
    cutoff: datetime,
    signature: str,
) -> bool:
    """True when ``signature`` is the key's signature of this anchor (constant-time comparison)."""
    try:
        return hmac.compare_digest(
            anchor_signature(key, tenant_id, seq, hash_, event_position, cutoff), signature
        )
    except (ValueError, TypeError, OverflowError):
        return False


def derive_key(platform_secret: bytes) -> bytes:
    """The ledger's signing key: its own, so a signature never doubles as another use of the secret."""
    if not platform_secret:
        raise ValueError("the platform secret is empty")
    return hmac.digest(platform_secret, KEY_LABEL, "sha256")


def ledger_key(secret_key: str | None, data_dir: Path) -> bytes:
    """The signing key from the platform secret: SUPPLYLINE_SECRET_KEY, else the key file the
    server generates in its data dir on first start (``secret.key``, as telemetry's SecretBox
    reads it). Call it once services are built; it never generates a secret itself."""
    if secret_key:
        return derive_key(secret_key.encode())
    path = data_dir / "secret.key"
    try:
        secret = path.read_bytes().strip()
    except FileNotFoundError:
        raise RuntimeError(
            f"no platform secret: set SUPPLYLINE_SECRET_KEY or start the server once to create {path}"
        ) from None
    return derive_key(secret)
