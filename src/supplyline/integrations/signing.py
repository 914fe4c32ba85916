"""Standard Webhooks signatures (https://www.standardwebhooks.com/): what a receiver checks.

Each request carries ``webhook-id`` (the delivery's id, the same on every retry, so a receiver
can drop duplicates), ``webhook-timestamp`` (unix seconds of this attempt, so a receiver can
refuse old replays) and ``webhook-signature``: ``v1,<base64 HMAC-SHA256 of "id.timestamp.body">``
for each secret that is valid now, separated by spaces (two during a rotation's overlap).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence

SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix the standard gives secrets
SECRET_BYTES = 24


def new_secret() -> str:
    """``whsec_`` + base64 of 24 random bytes: the form the Standard Webhooks libraries take."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def secret_key(secret: str) -> bytes:
    """The HMAC key a ``whsec_`` secret stands for."""
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def signature(keys: Sequence[bytes], msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return " ".join(
        "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode("ascii")
        for key in keys
    )


def signed_headers(keys: Sequence[bytes], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three headers; only the first two when there is no key (a target without secrets)."""
    out = {"webhook-id": msg_id, "webhook-timestamp": str(timestamp)}
    if keys:
        out["webhook-signature"] = signature(keys, msg_id, timestamp, body)
    return out
