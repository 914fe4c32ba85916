"""Validating EPCIS 2.0 events and documents before anything of them is stored.

Three layers, each reporting every fault as (event index, field path, reason):

1. structure: our JSON Schema of EPCIS 2.0 (``schema/epcis-event.schema.json``, draft 2020-12,
   written from the standard), checked by ``jsonschema_rs`` because capture validates thousands
   of events a second;
2. vocabulary: CBV 2.0 terms (``schema/cbv.json``, data rather than code) in any of their forms,
   or a URI of the user's own namespace, for business steps, dispositions, transaction, source
   and destination types, error reasons and sensor types;
3. namespaces: an ILMD key, or any member the standard does not define (at event level, inside
   readPoint / bizLocation, error declarations and sensor elements), must be a CURIE whose
   prefix the @context defines or a full IRI: JSON-LD silently drops anything else.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import jsonschema_rs

from supplyline.epcis.store import prefixes_of
from supplyline.epcis.vocabulary import Vocabulary, term_fault, vocabularies
from supplyline.kernel.json import json_fault
from supplyline.trace import context_prefixes

Prefixes = Mapping[str, str]
MAX_EVENTS = 10_000  # per capture; the body limit (SUPPLYLINE_MAX_BODY_BYTES) applies too

_NO_NAMESPACE = "has no namespace (use a CURIE whose prefix the @context defines, or a full IRI)"


@dataclass(frozen=True)
class EventError:
    """One fault: ``index`` is the event's place in the eventList (None: the document itself)."""

    index: int | None
    field: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"eventIndex": self.index, "field": self.field, "reason": self.reason}


@dataclass(frozen=True)
class _Schema:
    events: Any
    document: Any
    fields: dict[str, frozenset[str]]  # the standard members of each event type
    nested: dict[str, frozenset[str]]  # and of each object with an extension point


@functools.cache
def _schema() -> _Schema:
    text = resources.files("supplyline.epcis").joinpath("schema/epcis-event.schema.json").read_text()
    schema = json.loads(text)
    defs = schema["$defs"]
    document = {"$schema": schema["$schema"], "$defs": defs, "$ref": "#/$defs/EPCISDocument"}
    common = set(schema["properties"])
    kinds = schema["properties"]["type"]["enum"]
    return _Schema(
        events=jsonschema_rs.validator_for(schema, validate_formats=True),
        document=jsonschema_rs.validator_for(document, validate_formats=True),
        fields={k: frozenset(common | set(defs[k]["properties"])) for k in kinds},
        nested={
            **{name: frozenset(defs["location"]["properties"]) for name in ("readPoint", "bizLocation")},
            **{
                name: frozenset(defs[name]["properties"])
                for name in ("errorDeclaration", "sensorElement", "sensorMetadata", "sensorReport")
            },
        },
    )


# Reasons for the schema's combinations, which a validator can only call "not valid under any".
_REASONS = {
    "$defs/ObjectEvent/anyOf": "an ObjectEvent names what it observed: epcList, quantityList "
    "or sensorElementList",
    "$defs/TransformationEvent/anyOf": "a TransformationEvent needs inputs and outputs "
    "(inputEPCList or inputQuantityList, outputEPCList or outputQuantityList), or a "
    "transformationID with at least one of them",
    "$defs/ObjectEvent/then/properties/action/const": "ilmd is only allowed with action ADD",
    "$defs/persistentDisposition/anyOf": "persistentDisposition needs set or unset",
    "properties/certificationInfo/oneOf": "certificationInfo is a URI or a list of URIs",
    "$defs/time/pattern": "is not a date and time with its UTC offset "
    "(YYYY-MM-DDThh:mm:ss[.fff] then Z or +hh:mm, years 1000 to 9998)",
    "$defs/uri/pattern": "is not an absolute URI (an EPC URN, a GS1 Digital Link, any scheme:...)",
    "$defs/offset/pattern": "is not a UTC offset (+hh:mm or -hh:mm, -14:00 to +14:00)",
    "$defs/term/pattern": "is not a CBV term or a URI (it holds a space)",
    "uom/pattern": "is not a UN/CEFACT unit code (2 or 3 capitals or digits)",
}


def path_of(parts: Any) -> str:
    """``['quantityList', 0, 'uom']`` -> ``quantityList[0].uom``."""
    out = ""
    for part in parts:
        if isinstance(part, int) or (isinstance(part, str) and part.isdigit()):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _schema_faults(validator: Any, instance: Any, index: int | None) -> Iterator[EventError]:
    for error in validator.iter_errors(instance):
        at = list(error.instance_path)
        where = "/".join(str(p) for p in error.schema_path)
        reason = next((r for key, r in _REASONS.items() if where.endswith(key)), None)
        if isinstance(error.kind, jsonschema_rs.ValidationErrorKind.Required):
            at.append(error.kind.property)
            reason = "is required"
        if reason is None:
            reason = error.message if len(error.message) <= 300 else error.message[:297] + "..."
        elif isinstance(error.instance, str) and where.endswith("pattern"):
            reason = f"'{error.instance[:80]}' {reason}"
        yield EventError(index, path_of(at) or "event", reason)


def validate_document(document: Any) -> tuple[list[Mapping[str, Any]], Any, list[EventError]]:
    """The events of an EPCISDocument (or of a single event), its @context, and every fault."""
    if not isinstance(document, Mapping):
        return [], None, [EventError(None, "body", "is not a JSON object")]
    context = document.get("@context")
    if "epcisBody" not in document and document.get("type") != "EPCISDocument":
        return [document], context, validate_event(document, 0, prefixes_of(context))
    errors = list(_schema_faults(_schema().document, document, None))
    body = document.get("epcisBody")
    events = body.get("eventList") if isinstance(body, Mapping) else None
    if not isinstance(events, list) or errors:
        return [], context, errors
    if not events:
        return [], context, [EventError(None, "epcisBody.eventList", "holds no event")]
    if len(events) > MAX_EVENTS:
        reason = f"holds {len(events)} events; a capture takes at most {MAX_EVENTS}"
        return [], context, [EventError(None, "epcisBody.eventList", reason)]
    prefixes = prefixes_of(context)
    for index, event in enumerate(events):
        errors += validate_event(event, index, prefixes)
    return events, context, errors


def validate_event(event: Mapping[str, Any], index: int, prefixes: Prefixes) -> list[EventError]:
    """Every fault of one event: structure, free JSON, vocabulary and namespaces."""
    schema = _schema()
    errors = list(_schema_faults(schema.events, event, index))
    for key, value in event.items():
        fault = json_fault(value, str(key))
        if fault is not None:
            errors.append(EventError(index, str(key), fault))
    if isinstance(event.get("@context"), (Mapping, list)):
        prefixes = {**prefixes, **context_prefixes(event["@context"])}
    kind = event.get("type")
    if kind not in schema.fields:
        return errors
    errors += (EventError(index, f, r) for f, r in _term_faults(event, prefixes))
    errors += (EventError(index, f, r) for f, r in _namespace_faults(event, kind, prefixes))
    return errors


# Vocabulary ---------------------------------------------------------------------------------------


def _terms(event: Mapping[str, Any]) -> Iterator[tuple[str, Any, str]]:
    """(field path, value, vocabulary) of every vocabulary-valued member of the event."""
    yield "bizStep", event.get("bizStep"), "BizStep"
    yield "disposition", event.get("disposition"), "Disp"
    persistent = event.get("persistentDisposition")
    if isinstance(persistent, Mapping):
        for key in ("set", "unset"):
            for i, value in enumerate(_list(persistent.get(key))):
                yield f"persistentDisposition.{key}[{i}]", value, "Disp"
    for name, vocabulary in (
        ("bizTransactionList", "BTT"),
        ("sourceList", "SDT"),
        ("destinationList", "SDT"),
    ):
        for i, item in enumerate(_list(event.get(name))):
            if isinstance(item, Mapping):
                yield f"{name}[{i}].type", item.get("type"), vocabulary
    declaration = event.get("errorDeclaration")
    if isinstance(declaration, Mapping):
        yield "errorDeclaration.reason", declaration.get("reason"), "ER"
    for i, element in enumerate(_list(event.get("sensorElementList"))):
        reports = element.get("sensorReport") if isinstance(element, Mapping) else None
        for j, report in enumerate(_list(reports)):
            if isinstance(report, Mapping):
                at = f"sensorElementList[{i}].sensorReport[{j}]"
                yield f"{at}.type", report.get("type"), "MeasurementType"
                yield f"{at}.exception", report.get("exception"), "SensorAlertType"
                yield f"{at}.component", report.get("component"), "Comp"


def _term_faults(event: Mapping[str, Any], prefixes: Prefixes) -> Iterator[tuple[str, str]]:
    known: dict[str, Vocabulary] = vocabularies()
    for field, value, vocabulary in _terms(event):
        if isinstance(value, str):
            reason = term_fault(value, known[vocabulary], prefixes)
            if reason is not None:
                yield field, reason


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


# Namespaces ---------------------------------------------------------------------------------------


def namespaced(key: str, prefixes: Prefixes) -> bool:
    """A CURIE of a declared prefix, or a full IRI (http(s)://... or urn:...)."""
    prefix, sep, local = key.partition(":")
    if not sep or not local:
        return False
    if local.startswith("//"):
        return prefix in ("http", "https") and len(local) > 2
    return prefix in prefixes or prefix == "urn"


def _free_keys(value: Any, path: str, prefixes: Prefixes) -> Iterator[tuple[str, str]]:
    """Inside an extension or the ILMD every member, at any depth, is namespaced too."""
    if isinstance(value, list):
        for i, item in enumerate(value):
            yield from _free_keys(item, f"{path}[{i}]", prefixes)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if key.startswith("@") or key == "#text":
                continue
            at = f"{path}.{key}"
            if not namespaced(key, prefixes):
                yield at, f"'{key}' {_NO_NAMESPACE}"
            yield from _free_keys(item, at, prefixes)


def _extensions(obj: Any, what: str, path: str, prefixes: Prefixes) -> Iterator[tuple[str, str]]:
    """The members of ``obj`` (a ``what``) that the standard does not define: each is namespaced."""
    if not isinstance(obj, Mapping):
        return
    known = _schema().nested.get(what) or _schema().fields[what]
    for key, value in obj.items():
        if key in known or key.startswith("@"):
            continue
        at = f"{path}.{key}" if path else key
        if not namespaced(key, prefixes):
            yield at, f"'{key}' is not a field of {what} and {_NO_NAMESPACE}"
        else:
            yield from _free_keys(value, at, prefixes)


def _namespace_faults(event: Mapping[str, Any], kind: str, prefixes: Prefixes) -> Iterator[tuple[str, str]]:
    yield from _extensions(event, kind, "", prefixes)
    for name in ("readPoint", "bizLocation", "errorDeclaration"):
        yield from _extensions(event.get(name), name, name, prefixes)
    for i, element in enumerate(_list(event.get("sensorElementList"))):
        at = f"sensorElementList[{i}]"
        yield from _extensions(element, "sensorElement", at, prefixes)
        if not isinstance(element, Mapping):
            continue
        yield from _extensions(
            element.get("sensorMetadata"), "sensorMetadata", f"{at}.sensorMetadata", prefixes
        )
        for j, report in enumerate(_list(element.get("sensorReport"))):
            yield from _extensions(report, "sensorReport", f"{at}.sensorReport[{j}]", prefixes)
    ilmd = event.get("ilmd")
    if isinstance(ilmd, Mapping):
        for field, reason in _free_keys(ilmd, "ilmd", prefixes):
            yield field, reason.replace("' has", "' (an ILMD key) has", 1)
