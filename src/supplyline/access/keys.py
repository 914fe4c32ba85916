"""Hashing of bearer secrets (API keys and session tokens).

Both are 256-bit random secrets, so a single SHA-256 is the right hash: a slow password hash
buys nothing against a secret that cannot be guessed, and would cost every request.
"""

from __future__ import annotations

import hashlib


def digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()
