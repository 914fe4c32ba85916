"""MQTT telemetry messages: handle one (topic, payload, properties), or keep it as a dead letter.

The bridge and the replay route share ``TelemetryMessages.handle``, so a replayed message
meets exactly the checks it failed the first time. A bad message is kept with its reason and
then acknowledged; a transient failure (database unreachable) propagates and is not.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from supplyline import access
from supplyline.kernel.clock import utcnow
from supplyline.kernel.errors import Conflict, DomainError, NotFound
from supplyline.telemetry.credentials import Credentials
from supplyline.telemetry.ingest import TelemetryIngest
from supplyline.telemetry.tables import telemetry_dead_letter

TOPIC_PREFIX = "supplyline/v1"
TOPIC_FILTER = f"{TOPIC_PREFIX}/+/+/telemetry"


@dataclass(frozen=True)
class Message:
    topic: str
    payload: bytes
    properties: dict[str, str]


def parse_topic(topic: str) -> tuple[str, str] | None:
    """(tenant slug, device code) of ``supplyline/v1/{tenant}/{device}/telemetry``."""
    parts = topic.split("/")
    if len(parts) != 5 or parts[:2] != ["supplyline", "v1"] or parts[4] != "telemetry":
        return None
    if not parts[2] or not parts[3]:
        return None
    return parts[2], parts[3]


class TelemetryMessages:
    """Resolves the topic to a device identity and ingests; returns None or the refusal reason."""

    def __init__(self, engine: AsyncEngine, credentials: Credentials, ingest: TelemetryIngest) -> None:
        self.engine = engine
        self.credentials = credentials
        self.ingest = ingest
        # Tenants are never renamed in place, so a found slug can be cached for good.
        self._tenants: dict[str, uuid.UUID] = {}

    async def _tenant(self, slug: str) -> uuid.UUID | None:
        found = self._tenants.get(slug)
        if found is None:
            async with self.engine.connect() as conn:
                try:
                    found = (await access.get_tenant_by_slug(conn, slug)).id
                except NotFound:
                    return None
            self._tenants[slug] = found
        return found

    async def refusal(self, msg: Message) -> str | None:
        """Ingest the message; None once committed, else why it was refused (nothing stored)."""
        parsed = parse_topic(msg.topic)
        if parsed is None:
            return f"bad topic: expected {TOPIC_PREFIX}/{{tenant}}/{{device}}/telemetry"
        slug, code = parsed
        tenant_id = await self._tenant(slug)
        if tenant_id is None:
            return f"unknown tenant: no tenant '{slug}'"
        identity = await self.credentials.for_device(tenant_id, code)
        if identity is None:
            return f"unknown device: no device '{code}' with a live credential in tenant '{slug}'"
        try:
            result = await self.ingest.ingest(identity, msg.payload, msg.properties.get("signature"))
        except DomainError as exc:
            return f"{exc.title.lower()}: {exc.detail}"
        if result.rejected and not result.accepted and not result.duplicate:
            reasons = "; ".join(sorted({r.reason for r in result.rejected}))
            return f"all readings rejected: {reasons}"
        return None

    async def handle(self, msg: Message) -> str | None:
        """Ingest, or keep as a dead letter; either way the message may then be acknowledged."""
        reason = await self.refusal(msg)
        if reason is not None:
            await self.dead_letter(msg, reason)
        return reason

    async def dead_letter(self, msg: Message, reason: str) -> int:
        parsed = parse_topic(msg.topic)
        async with self.engine.begin() as conn:
            result = await conn.execute(
                telemetry_dead_letter.insert().values(
                    tenant_slug=parsed[0][:63] if parsed else None,
                    topic=msg.topic[:512],
                    payload=msg.payload,
                    properties=msg.properties,
                    reason=reason,
                    received_at=utcnow(),
                    replayed_at=None,
                )
            )
            key = result.inserted_primary_key
            assert key is not None
            return int(key[0])


def view(row: Any) -> dict[str, Any]:
    payload: bytes = row.payload
    try:
        text: str | None = payload.decode()
    except UnicodeDecodeError:
        text = None
    return {
        "id": row.id,
        "topic": row.topic,
        "payload": text,
        "payload_base64": base64.b64encode(payload).decode(),
        "properties": row.properties,
        "reason": row.reason,
        "received_at": row.received_at.isoformat(),
        "replayed_at": row.replayed_at.isoformat() if row.replayed_at else None,
    }


async def list_dead_letters(
    engine: AsyncEngine, tenant_slug: str, *, limit: int, after: int | None
) -> list[dict[str, Any]]:
    t = telemetry_dead_letter
    stmt = select(t).where(t.c.tenant_slug == tenant_slug).order_by(t.c.id).limit(limit)
    if after is not None:
        stmt = stmt.where(t.c.id > after)
    async with engine.connect() as conn:
        return [view(r) for r in await conn.execute(stmt)]


async def replay_dead_letter(messages: TelemetryMessages, tenant_slug: str, letter_id: int) -> dict[str, Any]:
    """Run a kept message through the same handling; on success it is marked replayed."""
    t = telemetry_dead_letter
    this = (t.c.id == letter_id) & (t.c.tenant_slug == tenant_slug)
    async with messages.engine.connect() as conn:
        row = (await conn.execute(select(t).where(this))).first()
    if row is None:
        raise NotFound(f"no dead letter {letter_id}")
    if row.replayed_at is not None:
        raise Conflict(f"dead letter {letter_id} was already replayed")
    reason = await messages.refusal(Message(row.topic, row.payload, dict(row.properties)))
    values: dict[str, Any] = {"replayed_at": utcnow()} if reason is None else {"reason": reason}
    async with messages.engine.begin() as conn:
        await conn.execute(update(t).where(this).values(**values))
        row = (await conn.execute(select(t).where(this))).one()
    return view(row)
