"""MQTT telemetry messages: handle one (topic, payload, properties), or keep it as a dead letter.

The bridge and the replay route share ``TelemetryMessages.handle``, so a replayed message
meets exactly the checks it failed the first time. A bad message is kept with its reason and
then acknowledged; a transient failure (database unreachable) propagates and is not.

MQTT has no 429: a message over its tenant's readings/s quota is refused whole like any other
refused message, kept as a dead letter (reason ``too many requests: readings/s quota ...``) and
acknowledged. It is counted by the throttle of the process that runs the bridge
(``supplyline_throttled_total{quota="readings"}`` on the /metrics of ``serve``, when the bridge
runs inside it) and logged once per batch. Nothing of it is stored; replaying it later
(``POST /v1/dead-letters/{id}/replay``) meets the quota again. Holding back the PUBACK instead
would stall the in-order acknowledgements of every tenant behind it.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from supplyline.db.keyset import Keyset, page
from supplyline.kernel.clock import utcnow
from supplyline.kernel.errors import Conflict, DomainError, NotFound, QuotaExceeded
from supplyline.kernel.pagination import Page
from supplyline.telemetry.devices.credentials import Credentials, DeviceIdentity
from supplyline.telemetry.ingest.pipeline import IngestResult, TelemetryIngest
from supplyline.telemetry.tables import telemetry_dead_letter

TOPIC_PREFIX = "supplyline/v1"
SIGNATURE_PROPERTY = "signature"  # the MQTT 5 user property that carries the HMAC signature
TOPIC_FILTER = f"{TOPIC_PREFIX}/+/+/telemetry"
THROTTLED = f"{QuotaExceeded.title.lower()}:"  # how the reason of a message over a quota begins


# The tenant id of a slug, NotFound if none (access answers it; passed in, as access sits above
# telemetry).
TenantBySlug = Callable[[AsyncConnection, str], Awaitable[uuid.UUID]]


@dataclass(frozen=True)
class Message:
    topic: str
    payload: bytes
    properties: dict[str, str]


def telemetry_topic(tenant: str, sender: str) -> str:
    """``supplyline/v1/{tenant}/{sender}/telemetry``: the topic a device publishes on."""
    return f"{TOPIC_PREFIX}/{tenant}/{sender}/telemetry"


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

    def __init__(
        self,
        engine: AsyncEngine,
        credentials: Credentials,
        ingest: TelemetryIngest,
        tenant_by_slug: TenantBySlug,
    ) -> None:
        self.engine = engine
        self.credentials = credentials
        self.ingest = ingest
        self.tenant_by_slug = tenant_by_slug
        # Tenants are never renamed in place, so a found slug can be cached for good.
        self._tenants: dict[str, uuid.UUID] = {}

    async def _tenant(self, slug: str) -> uuid.UUID | None:
        found = self._tenants.get(slug)
        if found is None:
            async with self.engine.connect() as conn:
                try:
                    found = await self.tenant_by_slug(conn, slug)
                except NotFound:
                    return None
            self._tenants[slug] = found
        return found

    async def refusal(self, msg: Message) -> str | None:
        """Ingest the message; None once committed, else why it was refused (nothing stored)."""
        return (await self.refusals([msg]))[0]

    async def refusals(self, msgs: Sequence[Message]) -> list[str | None]:
        """``refusal`` for many messages at once: one ingestion call per tenant among them."""
        reasons: list[str | None] = [None] * len(msgs)
        by_tenant: dict[uuid.UUID, list[tuple[int, Message, DeviceIdentity]]] = {}
        for k, msg in enumerate(msgs):
            found = await self._identity(msg)
            if isinstance(found, str):
                reasons[k] = found
            else:
                by_tenant.setdefault(found.tenant_id, []).append((k, msg, found))
        for tenant_id, items in by_tenant.items():
            results = await self.ingest.ingest_many(
                tenant_id,
                [(ident, m.payload, m.properties.get(SIGNATURE_PROPERTY), None) for _, m, ident in items],
            )
            for (k, _, _), result in zip(items, results, strict=True):
                reasons[k] = _refusal_of(result)
        return reasons

    async def _identity(self, msg: Message) -> DeviceIdentity | str:
        """The device the topic names, or why the message cannot be attributed to one."""
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
        return identity

    async def handle(self, msg: Message) -> str | None:
        """Ingest, or keep as a dead letter; either way the message may then be acknowledged."""
        return (await self.handle_many([msg]))[0]

    async def handle_many(self, msgs: Sequence[Message]) -> list[str | None]:
        """``handle`` for many messages: ingested together, the refused kept in one transaction."""
        reasons = await self.refusals(msgs)
        refused = [(m, r) for m, r in zip(msgs, reasons, strict=True) if r is not None]
        if refused:
            await self._dead_letters(refused)
        return reasons

    async def _dead_letters(self, letters: Sequence[tuple[Message, str]]) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(telemetry_dead_letter.insert(), [_letter(m, r) for m, r in letters])


def _letter(msg: Message, reason: str) -> dict[str, Any]:
    parsed = parse_topic(msg.topic)
    return {
        "tenant_slug": parsed[0][:63] if parsed else None,
        "topic": msg.topic[:512],
        "payload": msg.payload,
        "properties": msg.properties,
        "reason": reason,
        "received_at": utcnow(),
        "replayed_at": None,
    }


def _refusal_of(result: IngestResult | DomainError) -> str | None:
    """Why a message is kept as a dead letter: refused whole, or every reading in it refused."""
    if isinstance(result, DomainError):
        return f"{result.title.lower()}: {result.detail}"
    if result.rejected and not result.accepted and not result.duplicate:
        reasons = "; ".join(sorted({r.reason for r in result.rejected}))
        return f"all readings rejected: {reasons}"
    return None


def view(row: Mapping[Any, Any]) -> dict[str, Any]:
    payload: bytes = row["payload"]
    try:
        text: str | None = payload.decode()
    except UnicodeDecodeError:
        text = None
    return {
        "id": row["id"],
        "topic": row["topic"],
        "payload": text,
        "payload_base64": base64.b64encode(payload).decode(),
        "properties": row["properties"],
        "reason": row["reason"],
        "received_at": row["received_at"].isoformat(),
        "replayed_at": row["replayed_at"].isoformat() if row["replayed_at"] else None,
    }


PAGES = Keyset("dead-letters", (telemetry_dead_letter.c.id,))


async def list_dead_letters(
    engine: AsyncEngine, tenant_slug: str, *, after: int | None, cursor: str | None, limit: int
) -> Page[dict[str, Any]]:
    """A page of a tenant's dead letters, oldest first (with an id above ``after``, if given)."""
    t = telemetry_dead_letter
    stmt = select(t).where(t.c.tenant_slug == tenant_slug)
    if after is not None:
        stmt = stmt.where(t.c.id > after)
    async with engine.connect() as conn:
        found = await page(conn, stmt, PAGES, cursor, limit)
    return Page([view(r) for r in found.items], found.next_cursor)


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
        done = (await conn.execute(select(t).where(this))).mappings().one()
    return view(done)
