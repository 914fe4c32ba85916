"""The GS1 EPCIS Event Hash ID: ``ni:///sha-256;<hex>?ver=CBV2.0``, the same on every system.

Source: GS1 Core Business Vocabulary 2.0, section "EPCIS Event Hash ID" (rules 1-24 and the
canonical property order), as restated with worked examples in the README of the GS1 reference
implementation, github.com/RalphTro/epcis-event-hash-generator (CBV 2.0, the ratified version).
Where that README records a CBV 2.0 choice the standard leaves open, we follow it: the list name
``sensorElementList`` is not written, user extensions inside ``readPoint``/``bizLocation`` go to a
trailing block named after their parent, timestamps round half-up to milliseconds, and
``eventID``, ``recordTime``, ``errorDeclaration`` and ``certificationInfo`` are left out.

The pre-hash string is built from a JSON / JSON-LD event; namespace prefixes of user extensions
are resolved through the document's ``@context`` (``context``) and the event's own.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from supplyline.trace.epcis_ids import (
    CBV_URI,
    GS1_VOC,
    STANDARD_PREFIXES,
    normalise_uri,
    vocabulary_term,
)

CBV_VERSION = "CBV2.0"

Prefixes = Mapping[str, str]
Render = Callable[[Any, Prefixes], str | None]

# Never part of the hash: the event's identity and bookkeeping, not what happened.
_EXCLUDED = {
    "type",
    "isA",
    "eventType",
    "eventID",
    "recordTime",
    "errorDeclaration",
    "certificationInfo",
}
_TIME = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)")


def event_hash_id(event: Mapping[str, Any], context: Any = None) -> str:
    """The event's Hash ID; ``context`` is the enclosing document's ``@context`` (if any)."""
    digest = hashlib.sha256(prehash_string(event, context).encode("utf-8")).hexdigest()
    return f"ni:///sha-256;{digest}?ver={CBV_VERSION}"


def prehash_string(event: Mapping[str, Any], context: Any = None) -> str:
    """The canonical string that is hashed (rules 1-21): useful to compare with another system.

    Raises ValueError for an event without a type or eventTime, or with a malformed timestamp.
    """
    prefixes = dict(STANDARD_PREFIXES)
    prefixes.update(context_prefixes(context))
    prefixes.update(context_prefixes(event.get("@context")))
    kind = event_type(event)
    if kind is None:
        raise ValueError("the event has no eventType")
    if "eventTime" not in event:
        raise ValueError("the event has no eventTime")
    parts = [f"eventType={kind}"]
    for name, render in _ORDER:
        if event.get(name) is not None:
            text = render(event[name], prefixes)
            # An empty list or object is an omitted field (rule 4).
            if text:
                parts.append(name + text if name not in _FLAT else text)
    parts.extend(_trailing(event, prefixes))
    return "".join(parts)


def event_type(event: Mapping[str, Any]) -> str | None:
    """``type`` in JSON-LD, ``isA`` in pre-standard JSON, ``eventType`` in some exports."""
    value = event.get("type", event.get("isA", event.get("eventType")))
    return value.strip() if isinstance(value, str) and value.strip() else None


def context_prefixes(context: Any) -> dict[str, str]:
    """The prefix -> namespace terms of a JSON-LD ``@context`` (remote contexts add none)."""
    found: dict[str, str] = {}
    for item in context if isinstance(context, list) else [context]:
        if isinstance(item, Mapping):
            for key, value in item.items():
                # A term is a plain IRI or an expanded definition {"@id": IRI, ...}.
                iri = value.get("@id") if isinstance(value, Mapping) else value
                if isinstance(iri, str) and not key.startswith("@") and ":" in iri:
                    found[key] = iri
    return found


# Values -------------------------------------------------------------------------------------------


def timestamp(value: Any) -> str:
    """UTC with millisecond precision, the zero offset as ``Z`` (rules 8-9; rounding half-up)."""
    match = _TIME.fullmatch(str(value).strip())
    if match is None:
        raise ValueError(f"{value!r} is not a timestamp with a UTC offset")
    base, fraction, offset = match.groups()
    millis = int((Decimal("0." + (fraction or "0")) * 1000).quantize(Decimal(1), ROUND_HALF_UP))
    moment = datetime.fromisoformat(base).replace(tzinfo=UTC) + timedelta(milliseconds=millis)
    if offset != "Z":
        sign = 1 if offset[0] == "+" else -1
        moment -= sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6]))
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def number(value: Any) -> str:
    """A quantity without trailing zeros or exponent (rules 6-7): 1.0 -> 1, 0.3430 -> 0.343."""
    if isinstance(value, bool):
        return "true" if value else "false"
    try:
        exact = Decimal(str(value).strip())
    except InvalidOperation:
        return str(value).strip()
    if not exact.is_finite():
        return str(value).strip()
    text = format(exact.normalize(), "f")
    return "0" if text in ("-0", "+0") else text


def scalar(value: Any, prefixes: Prefixes) -> str:
    """A free value (extensions, ILMD): numbers canonical, identifiers normalised, text trimmed."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return number(value)
    if isinstance(value, Mapping) and "@value" in value:
        return scalar(value["@value"], prefixes)
    return normalise_uri(str(value), prefixes)


def _plain(value: Any, _: Prefixes) -> str:
    return "=" + str(value).strip()


def _time(value: Any, _: Prefixes) -> str:
    return "=" + timestamp(value)


def _num(value: Any, _: Prefixes) -> str:
    return "=" + number(value)


def _uri(value: Any, prefixes: Prefixes) -> str:
    return "=" + normalise_uri(str(value), prefixes)


def _term(base: str) -> Render:
    def render(value: Any, prefixes: Prefixes) -> str:
        return "=" + vocabulary_term(str(value), base, prefixes)

    return render


def _fields(obj: Any, order: tuple[tuple[str, Render], ...], prefixes: Prefixes) -> str:
    """The known fields of ``obj`` in canonical order, each as ``name=value``."""
    if not isinstance(obj, Mapping):
        return ""
    out = []
    for name, render in order:
        if name in obj and obj[name] is not None:
            out.append(name + (render(obj[name], prefixes) or ""))
    return "".join(out)


def _items(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


# The canonical property order -------------------------------------------------------------------


def _epc_list(value: Any, prefixes: Prefixes) -> str | None:
    epcs = sorted("epc=" + normalise_uri(str(e), prefixes) for e in _items(value))
    return "".join(epcs) if epcs else None


_QUANTITY = (("epcClass", _uri), ("quantity", _num), ("uom", _plain))


def _quantity_list(value: Any, prefixes: Prefixes) -> str | None:
    elements = sorted("quantityElement" + _fields(q, _QUANTITY, prefixes) for q in _items(value))
    return "".join(elements) if elements else None


def _persistent(value: Any, prefixes: Prefixes) -> str | None:
    if not isinstance(value, Mapping):
        return None
    out = []
    for key in ("set", "unset"):
        terms = (vocabulary_term(str(v), CBV_URI + "Disp-", prefixes) for v in _items(value.get(key, [])))
        out += sorted(f"{key}={term}" for term in terms)
    return "".join(out)


_LOCATION = (("id", _uri),)


def _location(value: Any, prefixes: Prefixes) -> str:
    return _fields(value, _LOCATION, prefixes)


def _typed_list(child: str, vocabulary: str) -> Render:
    """bizTransactionList / sourceList / destinationList: type first, then the id (rule 13)."""

    def render(value: Any, prefixes: Prefixes) -> str | None:
        entries = []
        for item in _items(value):
            if not isinstance(item, Mapping):
                continue
            text = ""
            if item.get("type") is not None:
                text = "type=" + vocabulary_term(str(item["type"]), CBV_URI + vocabulary, prefixes)
            entries.append(text + f"{child}=" + normalise_uri(str(item.get(child, "")), prefixes))
        return "".join(sorted(entries)) if entries else None

    return render


_SENSOR_METADATA = (
    ("time", _time),
    ("startTime", _time),
    ("endTime", _time),
    ("deviceID", _uri),
    ("deviceMetadata", _uri),
    ("rawData", _uri),
    ("dataProcessingMethod", _uri),
    ("bizRules", _uri),
)
_SENSOR_REPORT = (
    ("type", _term(GS1_VOC)),
    ("exception", _term(GS1_VOC + "SensorAlertType-")),
    ("deviceID", _uri),
    ("deviceMetadata", _uri),
    ("rawData", _uri),
    ("dataProcessingMethod", _uri),
    ("time", _time),
    ("microorganism", _uri),
    ("chemicalSubstance", _uri),
    ("value", _num),
    ("component", _term(CBV_URI + "Comp-")),
    ("stringValue", _plain),
    ("booleanValue", _num),
    ("hexBinaryValue", _plain),
    ("uriValue", _uri),
    ("minValue", _num),
    ("maxValue", _num),
    ("meanValue", _num),
    ("sDev", _num),
    ("percRank", _num),
    ("percValue", _num),
    ("uom", _plain),
    ("coordinateReferenceSystem", _uri),
)


def _sensor_element(element: Any, prefixes: Prefixes) -> str:
    if not isinstance(element, Mapping):
        return "sensorElement"
    text = "sensorElement"
    if isinstance(element.get("sensorMetadata"), Mapping):
        text += "sensorMetadata" + _fields(element["sensorMetadata"], _SENSOR_METADATA, prefixes)
    reports = _items(element.get("sensorReport", []))
    text += "".join(sorted("sensorReport" + _fields(r, _SENSOR_REPORT, prefixes) for r in reports))
    return text


def _sensor_list(value: Any, prefixes: Prefixes) -> str | None:
    # CBV 2.0 writes no "sensorElementList" name (CBV 2.1 does): see the module docstring.
    elements = sorted(_sensor_element(e, prefixes) for e in _items(value))
    return "".join(elements) if elements else None


def _ilmd(value: Any, prefixes: Prefixes) -> str | None:
    if not isinstance(value, Mapping):
        return None
    return _ext_block(value, prefixes)


_ORDER: tuple[tuple[str, Render], ...] = (
    ("eventTime", _time),
    ("eventTimeZoneOffset", _plain),
    ("epcList", _epc_list),
    ("parentID", _uri),
    ("inputEPCList", _epc_list),
    ("childEPCs", _epc_list),
    ("quantityList", _quantity_list),
    ("childQuantityList", _quantity_list),
    ("inputQuantityList", _quantity_list),
    ("outputEPCList", _epc_list),
    ("outputQuantityList", _quantity_list),
    ("action", _plain),
    ("transformationID", _uri),
    ("bizStep", _term(CBV_URI + "BizStep-")),
    ("disposition", _term(CBV_URI + "Disp-")),
    ("persistentDisposition", _persistent),
    ("readPoint", _location),
    ("bizLocation", _location),
    ("bizTransactionList", _typed_list("bizTransaction", "BTT-")),
    ("sourceList", _typed_list("source", "SDT-")),
    ("destinationList", _typed_list("destination", "SDT-")),
    ("sensorElementList", _sensor_list),
    ("ilmd", _ilmd),
)
_FLAT = {"sensorElementList"}
_KNOWN = {name for name, _ in _ORDER} | _EXCLUDED
# Fields with an extension point, and the standard children they hold.
_EXTENSIBLE = {"readPoint": {"id"}, "bizLocation": {"id"}}
_SENSOR_KNOWN = {
    "element": {"sensorMetadata", "sensorReport"},
    "sensorMetadata": {name for name, _ in _SENSOR_METADATA},
    "sensorReport": {name for name, _ in _SENSOR_REPORT},
}


# User extensions (rules 19-21) ------------------------------------------------------------------


def expand_key(key: str, prefixes: Prefixes) -> str:
    """``example:field`` -> ``{https://ns.example.com/epcis/}field``; a full URI splits at / or #."""
    if key.startswith("{"):
        return key
    prefix, sep, local = key.partition(":")
    if sep and not local.startswith("//") and prefix in prefixes:
        return "{" + _namespace(prefixes[prefix]) + "}" + local
    if key.startswith(("http://", "https://", "urn:")):
        cut = max(key.rfind("/"), key.rfind("#"), key.rfind(":")) + 1
        return "{" + _namespace(key[:cut]) + "}" + key[cut:]
    return key


def _namespace(iri: str) -> str:
    # A URN namespace is written as in XML, without the ':' or '#' JSON-LD needs to join a
    # local name (the standard context has cbvmda = urn:epcglobal:cbv:mda#; XML has no '#').
    return iri.rstrip(":#") if iri.startswith("urn:") else iri


def extension_parts(obj: Mapping[str, Any], prefixes: Prefixes) -> list[str]:
    """One substring per extension element of ``obj``: nested children sorted, lists repeated."""
    scoped = dict(prefixes)
    for key, value in obj.items():
        if key.startswith("@xmlns:") and isinstance(value, str):
            scoped[key[len("@xmlns:") :]] = value
    parts: list[str] = []
    for key, value in obj.items():
        if key.startswith("@") or key == "#text":
            continue
        name = expand_key(key, scoped)
        for item in _items(value):
            parts.append(_extension(name, item, scoped))
    return parts


def _extension(name: str, value: Any, prefixes: Prefixes) -> str:
    if isinstance(value, Mapping) and "@value" not in value:
        if "#text" in value:
            return f"{name}={scalar(value['#text'], prefixes)}"
        return name + "".join(sorted(extension_parts(value, prefixes)))
    return f"{name}={scalar(value, prefixes)}"


def _leftover(obj: Any, known: set[str]) -> dict[str, Any]:
    if not isinstance(obj, Mapping):
        return {}
    return {k: v for k, v in obj.items() if k not in known and not k.startswith("@")}


def _ext_block(obj: Mapping[str, Any], prefixes: Prefixes) -> str:
    return "".join(sorted(extension_parts(obj, prefixes)))


def _sensor_extensions(value: Any, prefixes: Prefixes) -> str | None:
    """CBV 2.0 trailing block of the extensions inside sensor elements, metadata and reports."""
    elements = []
    for element in _items(value):
        if not isinstance(element, Mapping):
            continue
        text = ""
        meta = _leftover(element.get("sensorMetadata"), _SENSOR_KNOWN["sensorMetadata"])
        if meta:
            text += "sensorMetadata" + _ext_block(meta, prefixes)
        known = _SENSOR_KNOWN["sensorReport"]
        reports = [_leftover(r, known) for r in _items(element.get("sensorReport", []))]
        text += "".join(sorted("sensorReport" + _ext_block(r, prefixes) for r in reports if r))
        text += _ext_block(_leftover(element, _SENSOR_KNOWN["element"]), prefixes)
        if text:
            elements.append("sensorElement" + text)
    return "sensorElementList" + "".join(sorted(elements)) if elements else None


def _trailing(event: Mapping[str, Any], prefixes: Prefixes) -> list[str]:
    """Event-level extensions and, in CBV 2.0, those of readPoint/bizLocation/sensors, sorted."""
    parts = extension_parts(
        {k: v for k, v in event.items() if k not in _KNOWN and not k.startswith("@")}, prefixes
    )
    for name, known in _EXTENSIBLE.items():
        rest = _leftover(event.get(name), known)
        if rest:
            parts.append(name + _ext_block(rest, prefixes))
    sensors = _sensor_extensions(event.get("sensorElementList", []), prefixes)
    if sensors:
        parts.append(sensors)
    return sorted(parts)
