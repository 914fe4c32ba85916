"""The records behind Idempotency-Key: the first answer to a caller's write, kept to replay.

A record belongs to a principal (an API key, a user, the platform admin) and the key it sent.
The API claims the record before acting, in the write's own transaction, so that a concurrent
retry waits on the row and then replays instead of acting twice; settles it with the answer;
and a stale record (past SUPPLYLINE_IDEMPOTENCY_TTL_HOURS) is forgotten when met.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.access.tables import access_idempotency_key
from supplyline.kernel.clock import utcnow

_T = access_idempotency_key


@dataclass(frozen=True)
class IdempotentAnswer:
    """What a write answered (``status_code`` 0: claimed, not settled yet)."""

    fingerprint: str
    status_code: int
    body: Any
    headers: dict[str, str] | None


def _this(principal: str, key: str) -> ColumnElement[bool]:
    return (_T.c.principal == principal) & (_T.c.key == key)


async def recorded_answer(
    conn: AsyncConnection, principal: str, key: str, *, not_before: datetime | None = None
) -> IdempotentAnswer | None:
    """The record of ``key``; one created before ``not_before`` is deleted and not returned."""
    found = (await conn.execute(select(_T).where(_this(principal, key)))).mappings().first()
    if found is None:
        return None
    if not_before is not None and found["created_at"] < not_before:
        await conn.execute(delete(_T).where(_this(principal, key)))
        return None
    return IdempotentAnswer(found["fingerprint"], found["status_code"], found["body"], found["headers"])


async def claim_key(conn: AsyncConnection, principal: str, key: str, fingerprint: str) -> None:
    """Insert the record (an IntegrityError if another transaction holds the key)."""
    await conn.execute(
        _T.insert().values(
            principal=principal,
            key=key,
            fingerprint=fingerprint,
            status_code=0,
            body=None,
            headers=None,
            created_at=utcnow(),
        )
    )


async def settle_key(
    conn: AsyncConnection, principal: str, key: str, status_code: int, body: Any, headers: dict[str, str]
) -> None:
    await conn.execute(
        update(_T).where(_this(principal, key)).values(status_code=status_code, body=body, headers=headers)
    )
