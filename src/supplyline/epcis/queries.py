"""Running a SimpleEventQuery over the stored events: scoped, filtered by index, paged by token.

Pages follow the record order (``seq``, which only grows and is never reused) or, when asked,
eventTime / recordTime with ``seq`` to break ties. A ``nextPageToken`` carries the position
and the query itself, so the next page answers the same question whatever the client sends
beside it, and events captured meanwhile never shift what is still to come.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.db.keyset import Keyset
from supplyline.epcis import locations
from supplyline.epcis.query import (
    PAGING,
    PER_PAGE_DEFAULT,
    PER_PAGE_MAX,
    QUERY_PARAMETER_EXCEPTION,
    EventQuery,
    KeyMatch,
    parse_query,
)
from supplyline.epcis.tables import epcis_event, epcis_event_key
from supplyline.kernel.errors import BadParameter, Invalid
from supplyline.kernel.json import INT_MAX
from supplyline.kernel.pagination import decode_cursor, encode_cursor
from supplyline.kernel.scope import Scope
from supplyline.resources import scoped

TOKEN_KIND = "epcis-events"  # noqa: S105 (the kind of cursor, no secret)
Pairs = Sequence[tuple[str, str]]


@dataclass(frozen=True)
class EventPage:
    """One page of stored events (as captured, recordTime filled in) and their contexts."""

    events: list[dict[str, Any]]
    contexts: list[Any]
    next_token: str | None
    per_page: int


@dataclass(frozen=True)
class _Token:
    position: tuple[Any, ...]
    returned: int
    query: list[tuple[str, str]]


def _bad(name: str, reason: str) -> BadParameter:
    return BadParameter(name, reason, problem_type=QUERY_PARAMETER_EXCEPTION)


def _keyset(q: EventQuery) -> Keyset:
    e = epcis_event
    if q.order_by is None:
        return Keyset(TOKEN_KIND, (e.c.seq,))
    return Keyset(TOKEN_KIND, (e.c[q.order_by], e.c.seq), descending=q.descending)


def _encode(keyset: Keyset, key: Sequence[Any], returned: int, query: Pairs) -> str:
    values = [v.isoformat() if isinstance(v, datetime) else v for v in key]
    return encode_cursor([*values, returned, urlencode(list(query))], TOKEN_KIND)


def _decode(token: str) -> _Token:
    try:
        raw = decode_cursor(token, TOKEN_KIND)
        if not isinstance(raw, list) or len(raw) < 3 or not isinstance(raw[-1], str):
            raise ValueError("shape")
        *position, returned, text = raw
        if not isinstance(returned, int) or returned < 0 or not isinstance(text, str):
            raise ValueError("count")
        query = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text))
        return _Token(tuple(position), returned, query)
    except (Invalid, ValueError):
        raise _bad("nextPageToken", "not a token this query issued") from None


def _seq(value: Any) -> int:
    # A token is client input: a seq no column can hold would fail in the database, not here.
    if not isinstance(value, int) or not 0 <= value <= INT_MAX:
        raise ValueError("seq")
    return value


def _position(keyset: Keyset, token: _Token) -> tuple[Any, ...]:
    if len(token.position) != len(keyset.columns):
        raise _bad("nextPageToken", "not a token this query issued")
    try:
        if len(keyset.columns) == 2:
            at = datetime.fromisoformat(str(token.position[0]))
            if at.tzinfo is None:
                raise ValueError("position")
            return at, _seq(token.position[1])
        return (_seq(token.position[0]),)
    except ValueError:
        raise _bad("nextPageToken", "not a token this query issued") from None


def per_page_of(values: Sequence[str]) -> int:
    if not values:
        return PER_PAGE_DEFAULT
    text = values[0].strip()
    if len(values) > 1 or not re.fullmatch(r"[0-9]{1,4}", text) or not 1 <= int(text) <= PER_PAGE_MAX:
        raise _bad("perPage", f"must be one whole number from 1 to {PER_PAGE_MAX}")
    return int(text)


def _key_condition(tenant: uuid.UUID, match: KeyMatch) -> ColumnElement[bool]:
    k = epcis_event_key
    wanted: list[ColumnElement[bool]] = [k.c.value.in_(match.values)] if match.values else []
    wanted += [k.c.value.startswith(p, autoescape=True) for p in match.prefixes]
    cond = [k.c.tenant_id == tenant, k.c.role.in_(match.roles), or_(*wanted)]
    if match.qualifier is not None:
        cond.append(k.c.qualifier == match.qualifier)
    return epcis_event.c.seq.in_(select(k.c.seq).where(*cond))


async def _filtered(
    conn: AsyncConnection, stmt: Select[Any], tenant: uuid.UUID, q: EventQuery
) -> Select[Any]:
    e = epcis_event
    if q.event_types:
        stmt = stmt.where(e.c.event_type.in_(q.event_types))
    for name, at in q.times.items():
        column = e.c.event_time if name.endswith("eventTime") else e.c.record_time
        stmt = stmt.where(column >= at if name.startswith("GE_") else column < at)
    for column_name, values in q.equals.items():
        stmt = stmt.where(e.c[column_name].in_(values))
    for column_name, places in q.within.items():
        found = await locations.within(conn, tenant, places)
        column = e.c[column_name]
        inside = [column.startswith(p, autoescape=True) for p in sorted(found.prefixes)]
        stmt = stmt.where(or_(column.in_(sorted(found.values)), *inside))
    for match in q.keys:
        stmt = stmt.where(_key_condition(tenant, match))
    if q.event_ids:
        stmt = stmt.where(e.c.event_id.in_(q.event_ids))
    if q.declared:
        stmt = stmt.where(e.c.declaration.is_(True))
    return stmt


def _query_pairs(params: Pairs, token: _Token | None) -> list[tuple[str, str]]:
    given = [(n, v) for n, v in params if n not in PAGING]
    if token is None:
        return given
    if given and sorted(given) != sorted(token.query):
        raise _bad("nextPageToken", "issued for another query; send the token alone, or with its query")
    return token.query


async def search_events(conn: AsyncConnection, scope: Scope, params: Pairs) -> EventPage:
    """One page of the events the query of ``params`` (a query string's pairs) finds inside
    the caller's reach."""
    tokens = [v for n, v in params if n == "nextPageToken"]
    if len(tokens) > 1:
        raise _bad("nextPageToken", "given more than once")
    token = _decode(tokens[0]) if tokens else None
    per_page = per_page_of([v for n, v in params if n == "perPage"])
    pairs = _query_pairs(params, token)
    q = parse_query(pairs)
    keyset = _keyset(q)
    returned = token.returned if token else 0
    limit = per_page if q.count_limit is None else max(0, min(per_page, q.count_limit - returned))
    if limit == 0:
        return EventPage([], [], None, per_page)
    e = epcis_event
    columns: Select[Any] = select(e.c.seq, e.c.event_time, e.c.record_time, e.c.document, e.c.context)
    stmt = scoped(columns, e, scope)
    stmt = await _filtered(conn, stmt, scope.require_tenant(), q)
    if token is not None:
        stmt = stmt.where(keyset.after(_position(keyset, token)))
    rows = [dict(r) for r in (await conn.execute(keyset.ordered(stmt).limit(limit + 1))).mappings()]
    more = len(rows) > limit
    rows = rows[:limit]
    done = returned + len(rows)
    next_token = None
    if more and rows and (q.count_limit is None or done < q.count_limit):
        next_token = _encode(keyset, keyset.row_key(rows[-1]), done, pairs)
    return EventPage([r["document"] for r in rows], [r["context"] for r in rows], next_token, per_page)


EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"


def merged_context(contexts: Sequence[Any]) -> list[Any]:
    """The standard context, then every distinct entry of the events' own (their namespaces'
    prefixes), in first-seen order: the returned events read as they did when captured."""
    out: list[Any] = [EPCIS_CONTEXT]
    for context in contexts:
        for entry in context if isinstance(context, list) else [context]:
            if entry is not None and entry not in out:
                out.append(entry)
    return out


def query_document(page: EventPage, created: datetime) -> dict[str, Any]:
    """The EPCIS 2.0 EPCISQueryDocument of one page of a SimpleEventQuery."""
    return {
        "@context": merged_context(page.contexts),
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": created.isoformat().replace("+00:00", "Z"),
        "epcisBody": {
            "queryResults": {
                "queryName": "SimpleEventQuery",
                "resultsBody": {"eventList": page.events},
            }
        },
    }
