"""Identifier and vocabulary normalisation for the EPCIS Event Hash ID (CBV 2.0, rules 14-18).

Two systems only agree on a hash when the same thing is written the same way, so every EPC URN
becomes its canonical GS1 Digital Link URI, every Digital Link is constrained (id.gs1.org, no query
string, only the finest key and qualifier), and CBV terms in bare, URN or CURIE form become their
GS1 Web URI. The rules are those of GS1 CBV 2.0 "EPCIS Event Hash ID" as restated by the GS1
reference implementation (github.com/RalphTro/epcis-event-hash-generator, README "Algorithm").
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from urllib.parse import quote, unquote, urlsplit

DL_ROOT = "https://id.gs1.org"
CBV_URI = "https://ref.gs1.org/cbv/"
GS1_VOC = "https://ref.gs1.org/voc/"

# Prefixes every EPCIS 2.0 JSON-LD document has through the standard context.
STANDARD_PREFIXES: Mapping[str, str] = {
    "cbv": CBV_URI,
    "gs1": GS1_VOC,
    "epcis": "https://ref.gs1.org/epcis/",
    # The XML namespace of CBV master data attributes (ILMD), which is what the hash names.
    "cbvmda": "urn:epcglobal:cbv:mda",
}

# urn:epcglobal:cbv:<vocabulary>:<term> -> the Web URI term's prefix.
_URN_VOCABULARIES = {
    "bizstep": "BizStep-",
    "disp": "Disp-",
    "btt": "BTT-",
    "sdt": "SDT-",
    "er": "ER-",
}

# Digital Link primary keys and the qualifiers kept, finest first (CBV 2.0 rule 18 III).
_QUALIFIERS: Mapping[str, tuple[str, ...]] = {
    "00": (),
    "01": ("21", "235", "10"),
    "253": (),
    "255": (),
    "401": (),
    "402": (),
    "414": ("254",),
    "417": (),
    "8003": (),
    "8004": (),
    "8006": ("21", "10"),
    "8010": ("8011",),
    "8017": (),
    "8018": (),
}
# Keys whose value is a fixed number of digits: a path segment that is not one is no GS1 key.
_NUMERIC_KEYS = {"00": 18, "01": 14, "402": 17, "414": 13, "417": 13, "8017": 18, "8018": 18}


def check_digit(digits: str) -> str:
    """The GS1 mod-10 check digit: weights 3, 1, 3, ... from the rightmost digit."""
    total = 3 * sum(map(int, digits[-1::-2])) + sum(map(int, digits[-2::-2]))
    return str((10 - total % 10) % 10)


def _seg(value: str) -> str:
    """A value as one canonical path segment: EPC URN escapes undone, then percent-encoded once."""
    return quote(unquote(value), safe="")


def _gtin(cp: str, ref: str) -> str:
    body = ref[:1] + cp + ref[1:]
    return body + check_digit(body)


def _with_check(cp: str, ref: str) -> str:
    return cp + ref + check_digit(cp + ref)


def _sgtin(p: list[str]) -> str:
    return f"/01/{_gtin(p[0], p[1])}/21/{_seg(p[2])}"


def _sscc(p: list[str]) -> str:
    return f"/00/{_gtin(p[0], p[1])}"


def _sgln(p: list[str]) -> str:
    tail = "" if p[2] == "0" else f"/254/{_seg(p[2])}"
    return f"/414/{_with_check(p[0], p[1])}{tail}"


def _grai(p: list[str]) -> str:
    return f"/8003/0{_with_check(p[0], p[1])}{_seg(p[2])}"


def _itip(p: list[str]) -> str:
    return f"/8006/{_gtin(p[0], p[1])}{p[2]}{p[3]}/21/{_seg(p[4])}"


_ID_SCHEMES: Mapping[str, tuple[int, Callable[[list[str]], str]]] = {
    "sgtin": (3, _sgtin),
    "sscc": (2, _sscc),
    "sgln": (3, _sgln),
    "grai": (3, _grai),
    "giai": (2, lambda p: f"/8004/{p[0]}{_seg(p[1])}"),
    "gsrn": (2, lambda p: f"/8018/{_with_check(p[0], p[1])}"),
    "gsrnp": (2, lambda p: f"/8017/{_with_check(p[0], p[1])}"),
    "gdti": (3, lambda p: f"/253/{_with_check(p[0], p[1])}{_seg(p[2])}"),
    "sgcn": (3, lambda p: f"/255/{_with_check(p[0], p[1])}{p[2]}"),
    "pgln": (2, lambda p: f"/417/{_with_check(p[0], p[1])}"),
    "ginc": (2, lambda p: f"/401/{p[0]}{_seg(p[1])}"),
    "gsin": (2, lambda p: f"/402/{_with_check(p[0], p[1])}"),
    "cpi": (3, lambda p: f"/8010/{p[0]}{_seg(p[1])}/8011/{p[2]}"),
    "itip": (5, _itip),
    "upui": (3, lambda p: f"/01/{_gtin(p[0], p[1])}/235/{_seg(p[2])}"),
}
_CLASS_SCHEMES: Mapping[str, tuple[int, Callable[[list[str]], str]]] = {
    "lgtin": (3, lambda p: f"/01/{_gtin(p[0], p[1])}/10/{_seg(p[2])}"),
}


# Pure on the string, and the same identifier is converted for the hash, the keys and the
# lineage edges of an event (and of the next events naming it): capture leans on this cache.
@functools.lru_cache(maxsize=65536)
def epc_urn_to_dl(urn: str) -> str | None:
    """The canonical Digital Link of an EPC (class or pattern) URN, or None for one it cannot map.

    A pattern URN names a class of objects; only the GTIN pattern with a wildcard serial has a
    Digital Link (the GTIN itself).
    """
    parts = urn.split(":")
    if len(parts) != 5 or parts[:2] != ["urn", "epc"]:
        return None
    kind, scheme, body = parts[2], parts[3], parts[4].split(".")
    if kind == "id":
        table = _ID_SCHEMES
    elif kind == "class":
        table = _CLASS_SCHEMES
    elif kind == "idpat" and scheme == "sgtin" and len(body) == 3 and body[2] == "*":
        return DL_ROOT + f"/01/{_gtin(body[0], body[1])}" if _digits(body[0] + body[1]) else None
    else:
        return None
    entry = table.get(scheme)
    if entry is None or len(body) != entry[0] or not _digits(body[0]):
        return None
    try:
        return DL_ROOT + entry[1](body)
    except ValueError:  # a reference that is not digits where the scheme wants them: no GS1 key
        return None


def _digits(value: str) -> bool:
    return value.isascii() and value.isdigit()


@functools.lru_cache(maxsize=65536)
def constrain_dl(uri: str) -> str | None:
    """The constrained canonical form of a GS1 Digital Link URI, or None when ``uri`` is not one."""
    split = urlsplit(uri)
    if split.scheme not in ("http", "https") or not split.netloc:
        return None
    segments = [s for s in split.path.split("/") if s]
    for start in range(len(segments) - 1):
        key, value = segments[start], segments[start + 1]
        if key not in _QUALIFIERS or not _valid_key_value(key, value):
            continue
        if key == "01":
            value = value.zfill(14)
        pairs = dict(zip(segments[start + 2 :: 2], segments[start + 3 :: 2], strict=False))
        path = f"/{key}/{_seg(value)}"
        for qualifier in _QUALIFIERS[key]:
            if qualifier in pairs:
                path += f"/{qualifier}/{_seg(pairs[qualifier])}"
                break
        return DL_ROOT + path
    return None


def _valid_key_value(key: str, value: str) -> bool:
    size = _NUMERIC_KEYS.get(key)
    if key == "01":
        return _digits(value) and len(value) in (8, 12, 13, 14)
    if size is not None:
        return _digits(value) and len(value) == size
    return bool(value)


def cbv_urn_to_uri(value: str) -> str | None:
    """``urn:epcglobal:cbv:bizstep:receiving`` -> ``https://ref.gs1.org/cbv/BizStep-receiving``."""
    match = re.fullmatch(r"urn:epcglobal:cbv:([a-z]+):(.+)", value)
    if match is None or match.group(1) not in _URN_VOCABULARIES:
        return None
    return CBV_URI + _URN_VOCABULARIES[match.group(1)] + match.group(2)


def expand_curie(value: str, prefixes: Mapping[str, str]) -> str | None:
    """A CURIE whose prefix is known, expanded; None for anything else (``geo:``, ``urn:``...)."""
    prefix, sep, local = value.partition(":")
    if not sep or local.startswith("//") or prefix not in prefixes:
        return None
    return prefixes[prefix] + local


def normalise_uri(value: str, prefixes: Mapping[str, str]) -> str:
    """Any identifier or URI value in the one form the hash uses (rules 5, 14, 15, 17, 18)."""
    value = value.strip()
    if value.startswith("urn:epc:"):
        return epc_urn_to_dl(value) or value
    if value.startswith("urn:epcglobal:cbv:"):
        return cbv_urn_to_uri(value) or value
    if value.startswith(("http://", "https://")):
        return constrain_dl(value) or value
    return expand_curie(value, prefixes) or value


def vocabulary_term(value: str, base: str, prefixes: Mapping[str, str]) -> str:
    """A vocabulary value whose bare form is the term under ``base`` (e.g. ``cbv/BizStep-``)."""
    value = value.strip()
    if ":" in value:
        return normalise_uri(value, prefixes)
    return base + value
