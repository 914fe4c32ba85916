"""Free JSON that a client sends (custom attributes, a JSON Schema, an action's parameters).

One decision for every such field: what both backends, our encoder and the clients reading it
back carry faithfully is accepted; anything else is refused with 422 naming the path inside the
field, rather than stored differently on SQLite and PostgreSQL or failing as a 500 on the way in.

- integers within the signed 64-bit range (the JSON encoder and SQLite's json stop there; a
  JavaScript client loses precision even earlier, so a larger number belongs in a string);
- finite numbers only (JSON has no NaN or Infinity; PostgreSQL's jsonb refuses them);
- no NUL character in a string or a key (PostgreSQL's jsonb cannot hold ``\\u0000``);
- at most ``MAX_DEPTH`` levels and ``MAX_BYTES`` once encoded: attributes are labels and
  small structures, not documents, and a bound keeps every walk over them shallow and cheap.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

import orjson
from pydantic import AfterValidator

INT_MIN, INT_MAX = -(2**63), 2**63 - 1
MAX_DEPTH = 32
MAX_BYTES = 64 * 1024


def json_fault(value: Any, path: str = "", depth: int = 0) -> str | None:
    """Why ``value`` is not free JSON we keep (naming where inside it), or None when it is."""
    where = path or "the value"
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        if not INT_MIN <= value <= INT_MAX:
            return f"{where} is an integer beyond the 64-bit range (send a larger number as a string)"
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{where} is NaN or Infinity, which JSON cannot carry"
    if isinstance(value, str):
        return f"{where} contains a NUL character (\\u0000)" if "\x00" in value else None
    if depth >= MAX_DEPTH:
        return f"{where} is nested deeper than {MAX_DEPTH} levels"
    if isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                return f"a key of {where} contains a NUL character (\\u0000)"
            found = json_fault(item, f"{path}.{key}" if path else key, depth + 1)
            if found:
                return found
        return None
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = json_fault(item, f"{path}.{index}" if path else str(index), depth + 1)
            if found:
                return found
        return None
    return f"{where} is not a JSON value"


def nul_path(value: Any, path: str = "") -> str | None:
    """Where in a decoded JSON document a NUL character is (a string or a key), or None.

    Every text column refuses it on PostgreSQL (and SQLite keeps it, so the two would differ):
    the API refuses it in any request, naming where it is (``supplyline.api.middleware``)."""
    if isinstance(value, str):
        return path or "body" if "\x00" in value else None
    if isinstance(value, dict):
        children: Any = value.items()
    elif isinstance(value, list):
        children = enumerate(value)
    else:
        return None
    for key, item in children:
        shown = str(key).replace("\x00", "\\u0000")
        at = f"{path}.{shown}" if path else shown
        if isinstance(key, str) and "\x00" in key:
            return at
        found = nul_path(item, at)
        if found:
            return found
    return None


def checked_json(value: dict[str, Any]) -> dict[str, Any]:
    """``value`` when it is free JSON we keep; a ValueError saying why not (pydantic names the field)."""
    found = json_fault(value)
    if found:
        raise ValueError(found)
    size = len(orjson.dumps(value))
    if size > MAX_BYTES:
        raise ValueError(f"is {size:,} bytes as JSON, over the limit of {MAX_BYTES:,}")
    return value


# A free-form JSON object, as accepted in every request body that takes one.
JsonObject = Annotated[dict[str, Any], AfterValidator(checked_json)]
