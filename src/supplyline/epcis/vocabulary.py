"""CBV 2.0 vocabularies: is a business step, disposition, type or reason a term we know?

A value may be a CBV term in any of its forms (``shipping``, ``cbv:BizStep-shipping``,
``urn:epcglobal:cbv:bizstep:shipping``, ``https://ref.gs1.org/cbv/BizStep-shipping``), all of
which ``supplyline.trace.vocabulary_term`` brings to the Web URI; or a URI of the user's own
vocabulary, which must not be under the GS1 namespaces (a typo there is no private term). The
term lists are data (``schema/cbv.json``), so CBV 2.1 terms are an edit, not code.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources

from supplyline.trace import CBV_URI, vocabulary_term

MAX_TERM = 300  # the stored columns' width (epcis_event.biz_step, epcis_event_key.qualifier)
_URN = re.compile(r"urn:[A-Za-z0-9][A-Za-z0-9-]{0,31}:\S+")
_WEB = re.compile(r"https?://[^/\s?#]+\S*")


@dataclass(frozen=True)
class Vocabulary:
    name: str
    label: str  # as a reason names it: "business step"
    base: str  # where a bare term lives: https://ref.gs1.org/cbv/BizStep-
    reserved: str  # the namespace no private term may use
    terms: frozenset[str]


@functools.cache
def vocabularies() -> dict[str, Vocabulary]:
    text = resources.files("supplyline.epcis").joinpath("schema/cbv.json").read_text()
    data = json.loads(text)["vocabularies"]
    return {
        name: Vocabulary(name, v["label"], v["base"], v["reserved"], frozenset(v["terms"]))
        for name, v in data.items()
    }


def absolute_uri(value: str) -> bool:
    """An http(s) URL with a host, or a URN: the forms a private vocabulary's terms take."""
    return bool(_WEB.fullmatch(value) or _URN.fullmatch(value))


def term_fault(value: str, vocabulary: Vocabulary, prefixes: Mapping[str, str]) -> str | None:
    """Why ``value`` is neither a term of ``vocabulary`` nor a private URI, or None if it is one."""
    canonical = vocabulary_term(value, vocabulary.base, prefixes)
    gs1 = canonical.startswith((vocabulary.reserved, vocabulary.base, CBV_URI))
    if gs1 or value.startswith("urn:epcglobal:cbv:"):
        local = canonical[len(vocabulary.base) :] if canonical.startswith(vocabulary.base) else None
        if local in vocabulary.terms:
            return None
        if ":" not in value:
            return f"'{value}' is neither a CBV 2.0 {vocabulary.label} nor a URI"
        return f"'{value}' is not a CBV 2.0 {vocabulary.label}"
    if not absolute_uri(canonical):
        return f"'{value}' is neither a CBV 2.0 {vocabulary.label} nor a URI"
    if len(canonical) > MAX_TERM:
        return f"'{value[:80]}' is longer than {MAX_TERM} characters once expanded"
    return None
