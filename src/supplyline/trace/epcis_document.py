"""Where the events of an EPCIS 2.0 JSON / JSON-LD document are, in document order.

A capture document, a query document and a bare event are all things a partner hands over
"to hash"; each is read the same way so the caller needs no guess at its shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from supplyline.trace.epcis_hash import event_type

_DOCUMENT_TYPES = {"EPCISDocument", "EPCISQueryDocument"}


def document_events(document: Any) -> tuple[list[Mapping[str, Any]], Any]:
    """The events of ``document`` and its ``@context``; ValueError names what is missing or wrong.

    Accepts an EPCISDocument (``epcisBody.eventList``), an EPCISQueryDocument
    (``epcisBody.queryResults.resultsBody.eventList``) or a single event.
    """
    if not isinstance(document, Mapping):
        raise ValueError("the document is not a JSON object")
    context = document.get("@context")
    if "epcisBody" not in document:
        if event_type(document) is None or event_type(document) in _DOCUMENT_TYPES:
            raise ValueError("no events: neither an epcisBody nor an event with an eventType")
        events: Any = [document]
    else:
        body = document["epcisBody"]
        if not isinstance(body, Mapping):
            raise ValueError("epcisBody is not an object")
        if "queryResults" in body:
            results = body["queryResults"]
            body = results.get("resultsBody", {}) if isinstance(results, Mapping) else {}
        events = body.get("eventList") if isinstance(body, Mapping) else None
        if not isinstance(events, list):
            raise ValueError("no events: epcisBody has no eventList")
    if not events:
        raise ValueError("no events: the eventList is empty")
    for index, event in enumerate(events):
        where = f"event {index + 1}"
        if not isinstance(event, Mapping):
            raise ValueError(f"{where} is not a JSON object")
        if event_type(event) is None:
            raise ValueError(f"{where} has no eventType")
        if "eventTime" not in event:
            raise ValueError(f"{where} has no eventTime")
    return list(events), context
