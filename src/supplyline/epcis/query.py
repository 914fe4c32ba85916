"""The EPCIS 2.0 SimpleEventQuery parameters, read from a query string into an ``EventQuery``.

Names and meanings are those of the GS1 EPCIS 2.0 query interface (REST binding,
``query-schema.json``): a list value is ``|``-separated (a repeated parameter adds values),
identifiers and CBV terms are compared in the one canonical form keys are stored in, so an EPC
URN finds the Digital Link stored and ``receiving``, ``cbv:BizStep-receiving`` and its URN or
URI are the same step. Anything else is refused with a 400 naming the parameter (the binding's
QueryParameterException), never ignored: a filter silently dropped returns too much.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from supplyline.epcis.store import canonical_id, canonical_term, parse_time
from supplyline.kernel.errors import BadParameter

QUERY_PARAMETER_EXCEPTION = "epcisException:QueryParameterException"
EPCIS_EVENT_TYPES = (
    "ObjectEvent",
    "AggregationEvent",
    "TransactionEvent",
    "TransformationEvent",
    "AssociationEvent",
)
ACTIONS = ("ADD", "OBSERVE", "DELETE")
PER_PAGE_DEFAULT, PER_PAGE_MAX = 30, 1000
MAX_VALUE_CHARS = 512  # the widest indexed column: a longer value matches nothing anyway
MAX_VALUES = 200  # values of one parameter: beyond this a query is a data dump, not a filter

# MATCH_ parameter -> the key roles (``supplyline.epcis.store``) whose values it looks at.
MATCH_ROLES: dict[str, tuple[str, ...]] = {
    "MATCH_epc": ("epc", "child"),
    "MATCH_parentID": ("parent",),
    "MATCH_inputEPC": ("input",),
    "MATCH_outputEPC": ("output",),
    "MATCH_anyEPC": ("epc", "child", "parent", "input", "output"),
    "MATCH_epcClass": ("class", "child_class"),
    "MATCH_inputEPCClass": ("input_class",),
    "MATCH_outputEPCClass": ("output_class",),
    "MATCH_anyEPCClass": ("class", "child_class", "input_class", "output_class"),
}
# EQ_<field>_<type> parameter prefix -> (key role, vocabulary of the type).
TYPED: dict[str, tuple[str, str]] = {
    "EQ_bizTransaction_": ("btx", "BTT-"),
    "EQ_source_": ("source", "SDT-"),
    "EQ_destination_": ("destination", "SDT-"),
}
TIMES = ("GE_eventTime", "LT_eventTime", "GE_recordTime", "LT_recordTime")
ORDER_BY = {"eventTime": "event_time", "recordTime": "record_time"}
PAGING = ("perPage", "nextPageToken")
# Standard parameters this repository does not answer: refused by name, never ignored.
_UNSUPPORTED = re.compile(
    r"^(EQ_persistentDisposition_(set|unset)|(EQ|GT|GE|LT|LE)_quantity|EQ_transformationID"
    r"|(GE|LT)_errorDeclaration_Time|EQ_errorReason|EQ_correctiveEventID|maxEventCount"
    r"|EXISTS_sensorElementList|(GE|LT)_(time|startTime|endTime)|EQ_(type|deviceID|dataProcessingMethod"
    r"|microorganism|chemicalSubstance|bizRules|stringValue|booleanValue|hexBinaryValue|uriValue)"
    r"|(GE|LT|GT|LE)_percRank|(EQ|GT|GE|LT|LE|EXISTS|HASATTR)_.*[:_].*)$"
)
_TYPE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]{0,99}$")


@dataclass(frozen=True)
class KeyMatch:
    """Events holding a key of one of ``roles`` (with ``qualifier``, if given) among ``values``;
    ``prefixes``: values the key starts with (EPC patterns, sub-locations of a GLN)."""

    roles: tuple[str, ...]
    values: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()
    qualifier: str | None = None


@dataclass(frozen=True)
class EventQuery:
    """One SimpleEventQuery, parsed; every filter is AND-ed, the values of one are OR-ed."""

    event_types: tuple[str, ...] = ()
    times: dict[str, datetime] = field(default_factory=dict)  # "GE_eventTime" -> instant
    equals: dict[str, tuple[str, ...]] = field(default_factory=dict)  # column -> values
    within: dict[str, tuple[str, ...]] = field(default_factory=dict)  # column -> WD_ locations
    keys: tuple[KeyMatch, ...] = ()
    event_ids: tuple[str, ...] = ()
    declared: bool | None = None  # EXISTS_errorDeclaration
    order_by: str | None = None  # column; None: record order (seq)
    descending: bool = False
    count_limit: int | None = None


def _values(name: str, raw: Sequence[str]) -> list[str]:
    out = [v.strip() for r in raw for v in r.split("|")]
    if not out or any(not v for v in out):
        raise _bad(name, "needs a value (a list is separated by '|')")
    if len(out) > MAX_VALUES:
        raise _bad(name, f"at most {MAX_VALUES} values")
    for v in out:
        if len(v) > MAX_VALUE_CHARS or any(ord(c) < 32 or ord(c) == 127 for c in v):
            raise _bad(name, f"'{v[:40]}' is not a URI or term of at most {MAX_VALUE_CHARS} characters")
    return list(dict.fromkeys(out))


def _bad(name: str, reason: str) -> BadParameter:
    return BadParameter(name, reason, problem_type=QUERY_PARAMETER_EXCEPTION)


def _one(name: str, raw: Sequence[str]) -> str:
    if len(raw) != 1:
        raise _bad(name, "given more than once")
    return raw[0].strip()


def parse_instant(name: str, value: str) -> datetime:
    """A timestamp with its UTC offset; a '+' that a query string decoded to a space is one."""
    text = value.strip().replace(" ", "+")
    try:
        at = parse_time(text)
        if at.tzinfo is None:
            raise ValueError("no offset")
        return at.astimezone(UTC)
    except (ValueError, OverflowError):
        raise _bad(
            name, f"'{value[:40]}' is not a date-time with a UTC offset (2026-03-01T08:00:00+01:00)"
        ) from None


def _integer(name: str, value: str, low: int, high: int) -> int:
    if not re.fullmatch(r"\+?[0-9]{1,9}", value) or not low <= int(value) <= high:
        raise _bad(name, f"must be a whole number from {low} to {high}")
    return int(value)


def epc_pattern_prefix(name: str, value: str) -> str:
    """``urn:epc:idpat:sgtin:0614141.107346.*`` -> the Digital Link prefix of every serial it
    covers. Only a pattern whose last part alone is ``*`` has one (GS1 keys carry their check
    digit, so a company-prefix-only pattern is no prefix of a Digital Link)."""
    parts = value.split(".")
    if "*" in ".".join(parts[:-1]) or parts[-1] != "*":
        raise _bad(name, f"'{value[:60]}': only patterns ending in a single '*' are supported")
    probe = canonical_id(value.replace("urn:epc:idpat:", "urn:epc:id:", 1)[:-1] + "0")
    if not probe.startswith("https://") or not probe.endswith("/0"):
        raise _bad(name, f"'{value[:60]}' is not an EPC pattern")
    return probe[:-1]


def _key_match(
    name: str, roles: tuple[str, ...], raw: Sequence[str], qualifier: str | None = None
) -> KeyMatch:
    values, prefixes = [], []
    for v in _values(name, raw):
        if v.startswith("urn:epc:idpat:"):
            prefixes.append(epc_pattern_prefix(name, v))
        else:
            values.append(canonical_id(v))
    return KeyMatch(roles, tuple(values), tuple(prefixes), qualifier)


def _typed(name: str, raw: Sequence[str]) -> KeyMatch | None:
    for prefix, (role, vocabulary) in TYPED.items():
        if name.startswith(prefix):
            kind = name.removeprefix(prefix)
            if not _TYPE_NAME.fullmatch(kind):
                raise _bad(name, "the type after the prefix is not a type name")
            return _key_match(name, (role,), raw, canonical_term(kind, vocabulary))
    return None


def _order(params: dict[str, list[str]]) -> tuple[str | None, bool]:
    by = params.pop("orderBy", None)
    direction = params.pop("orderDirection", None)
    column = None
    if by is not None:
        column = ORDER_BY.get(_one("orderBy", by))
        if column is None:
            raise _bad("orderBy", f"must be one of {', '.join(ORDER_BY)}")
    descending = True  # the standard's default direction
    if direction is not None:
        word = _one("orderDirection", direction)
        if word not in ("ASC", "DESC"):
            raise _bad("orderDirection", "must be ASC or DESC")
        descending = word == "DESC"
    return column, descending if column else False


@dataclass
class _Parts:
    """What the parameters read so far say; becomes the frozen EventQuery."""

    event_types: tuple[str, ...] = ()
    times: dict[str, datetime] = field(default_factory=dict)
    equals: dict[str, tuple[str, ...]] = field(default_factory=dict)
    within: dict[str, tuple[str, ...]] = field(default_factory=dict)
    keys: list[KeyMatch] = field(default_factory=list)
    event_ids: tuple[str, ...] = ()
    declared: bool | None = None
    count_limit: int | None = None


def _event_type(name: str, raw: list[str], q: _Parts) -> None:
    types = _values(name, raw)
    unknown = [t for t in types if t not in EPCIS_EVENT_TYPES]
    if unknown:
        raise _bad(name, f"'{unknown[0][:40]}' is not one of {', '.join(EPCIS_EVENT_TYPES)}")
    q.event_types = tuple(types)


def _time(name: str, raw: list[str], q: _Parts) -> None:
    q.times[name] = parse_instant(name, _one(name, raw))


def _action(name: str, raw: list[str], q: _Parts) -> None:
    actions = _values(name, raw)
    if any(a not in ACTIONS for a in actions):
        raise _bad(name, f"must be {', '.join(ACTIONS)}")
    q.equals["action"] = tuple(actions)


def _term(column: str, vocabulary: str) -> Handler:
    def read(name: str, raw: list[str], q: _Parts) -> None:
        q.equals[column] = tuple(canonical_term(v, vocabulary) for v in _values(name, raw))

    return read


def _location(column: str, within: bool) -> Handler:
    def read(name: str, raw: list[str], q: _Parts) -> None:
        (q.within if within else q.equals)[column] = tuple(canonical_id(v) for v in _values(name, raw))

    return read


def _match(name: str, raw: list[str], q: _Parts) -> None:
    q.keys.append(_key_match(name, MATCH_ROLES[name], raw))


def _event_id(name: str, raw: list[str], q: _Parts) -> None:
    q.event_ids = tuple(_values(name, raw))


def _declared(name: str, raw: list[str], q: _Parts) -> None:
    if any(v.strip() not in ("", "true") for v in raw):
        raise _bad(name, "takes no value")
    q.declared = True


def _count_limit(name: str, raw: list[str], q: _Parts) -> None:
    q.count_limit = _integer(name, _one(name, raw), 1, 10**9)


Handler = Callable[[str, list[str], _Parts], None]
HANDLERS: dict[str, Handler] = {
    "eventType": _event_type,
    **dict.fromkeys(TIMES, _time),
    "EQ_action": _action,
    "EQ_bizStep": _term("biz_step", "BizStep-"),
    "EQ_disposition": _term("disposition", "Disp-"),
    "EQ_readPoint": _location("read_point", within=False),
    "EQ_bizLocation": _location("biz_location", within=False),
    "WD_readPoint": _location("read_point", within=True),
    "WD_bizLocation": _location("biz_location", within=True),
    **dict.fromkeys(MATCH_ROLES, _match),
    "EQ_eventID": _event_id,
    "EXISTS_errorDeclaration": _declared,
    "eventCountLimit": _count_limit,
}


def parse_query(pairs: Sequence[tuple[str, str]]) -> EventQuery:
    """The query of these (name, value) pairs, paging parameters excluded by the caller."""
    params: dict[str, list[str]] = {}
    for name, value in pairs:
        params.setdefault(name, []).append(value)
    order_by, descending = _order(params)
    q = _Parts()
    for name, raw in params.items():
        handler = HANDLERS.get(name)
        if handler is not None:
            handler(name, raw, q)
        elif (typed := _typed(name, raw)) is not None:
            q.keys.append(typed)
        elif _UNSUPPORTED.match(name):
            raise _bad(name, "a standard query parameter this repository does not support")
        else:
            raise _bad(name, "unknown query parameter")
    return EventQuery(
        event_types=q.event_types,
        times=q.times,
        equals=q.equals,
        within=q.within,
        keys=tuple(q.keys),
        event_ids=q.event_ids,
        declared=q.declared,
        order_by=order_by,
        descending=descending,
        count_limit=q.count_limit,
    )
