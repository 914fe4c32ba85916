"""A small mock ERP: what supplyline's ERP adapter talks to in the demo and in tests.

``POST /erp/v1/messages`` takes three kinds of message (JSON):

- ``exception``: a shipment or its lots went wrong; lots seen for the first time get an
  allocation row (status ``allocated``);
- ``hold``: put the ERP allocation of a lot on hold (``hold_id`` names the hold);
- ``release``: lift a hold (``approved_by`` says who decided);
- ``replenishment``: a recommended purchase of a product for a site, kept as a purchase
  requisition (``GET /erp/v1/requisitions``), the newest per product and site in force.

Each is answered ``202 {"ack": "<document number>", "received_at"}``. A repeat (same
``Idempotency-Key`` header, else same body ``id``) changes nothing and gets the first answer
again (``Idempotent-Replayed: true``); so does a second hold or release of the same ``hold_id``.
A malformed message gets 422 problem+json whose ``errors`` name each bad field; a release of a
hold the ERP does not have (or of another lot) gets 409. ``GET /erp/v1/messages`` lists what was
received (oldest first), ``GET /erp/v1/allocations`` the allocation rows and their status,
``GET /erp/v1/health`` says whether the ERP is up. ``POST /erp/v1/_control {"down": true}`` makes
the message endpoints (and health) answer 503 until ``{"down": false}``; ``{"reset": true}``
forgets everything.

It stands in for another company's system, so it imports nothing of supplyline.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

PREFIX = "/erp/v1"
DEFAULT_PORT = 8070  # `supplyline mock-erp`'s, and the demo's first choice
DOCUMENTS = {"exception": "EXC", "hold": "HLD", "release": "REL", "replenishment": "REQ"}
PROBLEM = "urn:mock-erp:problem:"


# ---- state ------------------------------------------------------------------------------------


@dataclass
class Allocation:
    lot_id: str
    lot_code: str
    sku: str
    quantity: float | None
    unit: str | None
    status: str = "allocated"  # allocated | held
    hold_id: str | None = None  # the latest hold still in force
    held_at: str | None = None
    holds: list[str] = field(default_factory=list)  # every hold in force, oldest first
    released_at: str | None = None
    released_by: str | None = None
    updated_at: str | None = None


@dataclass
class Hold:
    hold_id: str
    lot_id: str
    quantity: float
    unit: str
    reason: str
    ack: str
    status: str = "active"  # active | released
    release_ack: str | None = None


@dataclass
class ErpState:
    """Everything the mock ERP knows, in memory; ``save`` / ``load`` keep it in a JSON file."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)  # idempotency key -> answer
    allocations: dict[str, Allocation] = field(default_factory=dict)  # lot id -> row
    holds: dict[str, Hold] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    down: bool = False
    requisitions: dict[str, dict[str, Any]] = field(default_factory=dict)  # product@site -> newest

    def next_document(self, kind: str) -> str:
        prefix = DOCUMENTS[kind]
        self.counters[prefix] = self.counters.get(prefix, 0) + 1
        return f"{prefix}-{self.counters[prefix]:06d}"

    def reset(self) -> None:
        fresh = ErpState()
        self.messages, self.answers, self.allocations = fresh.messages, fresh.answers, fresh.allocations
        self.holds, self.counters, self.down = fresh.holds, fresh.counters, False
        self.requisitions = fresh.requisitions

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ErpState:
        return cls(
            messages=list(data.get("messages", [])),
            answers=dict(data.get("answers", {})),
            allocations={k: Allocation(**v) for k, v in data.get("allocations", {}).items()},
            holds={k: Hold(**v) for k, v in data.get("holds", {}).items()},
            counters=dict(data.get("counters", {})),
            down=bool(data.get("down", False)),
            requisitions=dict(data.get("requisitions", {})),
        )

    def save(self, path: Path) -> None:
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(self.as_json(), indent=1), encoding="utf-8")
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> ErpState:
        if not path.exists():
            return cls()
        return cls.from_json(json.loads(path.read_text(encoding="utf-8")))


# ---- checking a message -----------------------------------------------------------------------

Check = Callable[[Any], str | None]  # None when the value is fine, else why not
Spec = dict[str, Any]  # field -> Check, nested Spec, or ("list" | "nullable", Spec)


def _text(v: Any) -> str | None:
    return None if isinstance(v, str) and v.strip() else "expected a non-empty string"


def _optional_text(v: Any) -> str | None:
    return None if v is None or isinstance(v, str) else "expected a string or null"


def _quantity(v: Any) -> str | None:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        return "expected a number"
    return None if v >= 0 else "must not be negative"


def _timestamp(v: Any) -> str | None:
    if not isinstance(v, str):
        return "expected an ISO 8601 date-time with a UTC offset"
    try:
        parsed = datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        return "expected an ISO 8601 date-time with a UTC offset"
    return None if parsed.tzinfo is not None else "the date-time needs a UTC offset (e.g. Z)"


LOT_REF: Spec = {"id": _text, "lot_code": _text, "sku": _text}
COMMON: Spec = {"id": _text, "correlation_id": _optional_text, "occurred_at": _timestamp, "tenant": _text}
SPECS: dict[str, Spec] = {
    "exception": {
        **COMMON,
        "shipment": ("nullable", {"id": _text, "number": _text}),
        "lots": ("list", {**LOT_REF, "quantity": _quantity, "unit": _text}),
        "severity": _text,
        "reason": _text,
    },
    "hold": {
        **COMMON,
        "hold_id": _text,
        "lot": LOT_REF,
        "quantity": _quantity,
        "unit": _text,
        "reason": _text,
    },
    "release": {**COMMON, "hold_id": _text, "lot": LOT_REF, "approved_by": _text},
    "replenishment": {
        **COMMON,
        "product": {"id": _text, "sku": _optional_text},
        "site": {"id": _text},
        "unit": _text,
        "orders": ("list", {"quantity": _quantity, "order_date": _text, "expected_arrival": _text}),
        "reason": _text,
    },
}


def problems(message: Any) -> list[tuple[str, str]]:
    """(field, reason) for each thing wrong with a message; empty when it is well-formed."""
    if not isinstance(message, dict):
        return [("body", "expected a JSON object")]
    kind = message.get("type")
    if kind not in SPECS:
        return [("type", f"expected one of {', '.join(SPECS)}")]
    found: list[tuple[str, str]] = []
    _check(message, SPECS[kind], "", found)
    return found


def _check(value: Any, spec: Any, path: str, found: list[tuple[str, str]]) -> None:
    if isinstance(spec, tuple):
        how, inner = spec
        if how == "nullable" and value is None:
            return
        if how == "list":
            if not isinstance(value, list):
                found.append((path, "expected a list"))
                return
            for i, item in enumerate(value):
                _check(item, inner, f"{path}.{i}", found)
            return
        spec = inner
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            found.append((path, "expected an object"))
            return
        for name, sub in spec.items():
            at = f"{path}.{name}" if path else name
            if name not in value:
                nullable = isinstance(sub, tuple) and sub[0] == "nullable"
                if not nullable and sub is not _optional_text:
                    found.append((at, "required"))
                continue
            _check(value[name], sub, at, found)
        return
    reason = spec(value)
    if reason is not None:
        found.append((path, reason))


# ---- the app ----------------------------------------------------------------------------------


class Refused(Exception):
    def __init__(self, status: int, field_name: str, reason: str) -> None:
        super().__init__(reason)
        self.status, self.field, self.reason = status, field_name, reason


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _problem(
    status: int,
    slug: str,
    title: str,
    errors: Sequence[tuple[str, str]] = (),
    detail: str | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": PROBLEM + slug,
        "title": title,
        "status": status,
        "detail": detail or "; ".join(f"{f}: {r}" for f, r in errors) or title,
    }
    if errors:
        body["errors"] = [{"field": f, "reason": r} for f, r in errors]
    headers = {"Retry-After": "5"} if status == 503 else None
    return Response(json.dumps(body), status, headers=headers, media_type="application/problem+json")


class MockErp:
    def __init__(
        self,
        state: ErpState,
        state_file: Path | None,
        token: str | None,
        on_message: Callable[[dict[str, Any]], None] | None,
    ) -> None:
        self.state, self.state_file, self.token, self.on_message = state, state_file, token, on_message

    def _changed(self) -> None:
        if self.state_file is not None:
            self.state.save(self.state_file)

    def _gate(self, request: Request) -> Response | None:
        """Down or unauthorised: the answer to give instead."""
        if self.token is not None and request.headers.get("authorization") != f"Bearer {self.token}":
            return _problem(401, "unauthorized", "Unauthorized", detail="send Authorization: Bearer <token>")
        if self.state.down:
            return _problem(503, "unavailable", "ERP unavailable", detail="the ERP is down for maintenance")
        return None

    async def receive(self, request: Request) -> Response:
        refused = self._gate(request)
        if refused is not None:
            return refused
        try:
            message = json.loads(await request.body())
        except ValueError as exc:
            return _problem(422, "invalid-message", "Malformed message", [("body", f"not JSON: {exc}")])
        key = request.headers.get("idempotency-key") or (
            message.get("id") if isinstance(message, dict) else None
        )
        if isinstance(key, str) and key in self.state.answers:
            return JSONResponse(self.state.answers[key], 202, headers={"Idempotent-Replayed": "true"})
        bad = problems(message)
        if bad:
            return _problem(422, "invalid-message", "Malformed message", bad)
        try:
            answer, replayed = self._apply(message)
        except Refused as exc:
            slug = "conflict" if exc.status == 409 else "invalid-message"
            return _problem(exc.status, slug, "Message refused", [(exc.field, exc.reason)])
        if isinstance(key, str):
            self.state.answers[key] = answer
        if not replayed:
            record = {**answer, "id": message["id"], "idempotency_key": key, "type": message["type"]}
            self.state.messages.append({**record, "message": message})
            if self.on_message is not None:
                self.on_message(self.state.messages[-1])
        self._changed()
        return JSONResponse(answer, 202, headers={"Idempotent-Replayed": "true"} if replayed else None)

    def _apply(self, m: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """The answer and whether it is an earlier one (a hold or release already done)."""
        kind, state = m["type"], self.state
        if kind == "hold" and m["hold_id"] in state.holds:
            return {"ack": state.holds[m["hold_id"]].ack, "received_at": _now()}, True
        if kind == "release":
            hold = self._hold_to_release(m)
            if hold.release_ack is not None:
                return {"ack": hold.release_ack, "received_at": _now()}, True
        ack = state.next_document(kind)
        if kind == "replenishment":
            key = f"{m['product']['id']}@{m['site']['id']}"
            state.requisitions[key] = {
                "ack": ack,
                **{k: m[k] for k in ("product", "site", "unit", "orders", "reason")},
            }
        elif kind == "exception":
            for lot in m["lots"]:
                self._allocation(lot, lot["quantity"], lot["unit"])
        elif kind == "hold":
            row = self._allocation(m["lot"], m["quantity"], m["unit"])
            hold_id = m["hold_id"]
            state.holds[hold_id] = Hold(hold_id, row.lot_id, m["quantity"], m["unit"], m["reason"], ack)
            row.holds.append(hold_id)
            row.status, row.hold_id, row.held_at, row.updated_at = "held", hold_id, m["occurred_at"], _now()
        else:
            hold.status, hold.release_ack = "released", ack
            row = state.allocations[hold.lot_id]
            row.holds = [h for h in row.holds if h != hold.hold_id]
            row.released_at, row.released_by, row.updated_at = m["occurred_at"], m["approved_by"], _now()
            if row.holds:
                row.hold_id = row.holds[-1]
            else:
                row.status, row.hold_id, row.held_at = "allocated", None, None
        return {"ack": ack, "received_at": _now()}, False

    def _hold_to_release(self, m: dict[str, Any]) -> Hold:
        hold = self.state.holds.get(m["hold_id"])
        if hold is None:
            raise Refused(409, "hold_id", f"no hold '{m['hold_id']}' in this ERP")
        if hold.lot_id != m["lot"]["id"]:
            raise Refused(
                409, "lot.id", f"hold '{hold.hold_id}' is on lot {hold.lot_id}, not {m['lot']['id']}"
            )
        return hold

    def _allocation(self, lot: dict[str, Any], quantity: float, unit: str) -> Allocation:
        """The lot's allocation row, made on first sight."""
        row = self.state.allocations.get(lot["id"])
        if row is None:
            row = Allocation(lot["id"], lot["lot_code"], lot["sku"], quantity, unit, updated_at=_now())
            self.state.allocations[lot["id"]] = row
        return row

    async def messages(self, request: Request) -> Response:
        refused = self._gate(request)
        if refused is not None:
            return refused
        kind = request.query_params.get("type")
        items = [m for m in self.state.messages if kind is None or m["type"] == kind]
        return JSONResponse({"items": items})

    async def allocations(self, request: Request) -> Response:
        if self.token is not None and request.headers.get("authorization") != f"Bearer {self.token}":
            return _problem(401, "unauthorized", "Unauthorized", detail="send Authorization: Bearer <token>")
        status = request.query_params.get("status")
        rows = sorted(self.state.allocations.values(), key=lambda a: (a.lot_code, a.lot_id))
        return JSONResponse({"items": [asdict(a) for a in rows if status is None or a.status == status]})

    async def requisitions(self, request: Request) -> Response:
        if self.token is not None and request.headers.get("authorization") != f"Bearer {self.token}":
            return _problem(401, "unauthorized", "Unauthorized", detail="send Authorization: Bearer <token>")
        return JSONResponse({"items": [self.state.requisitions[k] for k in sorted(self.state.requisitions)]})

    async def health(self, request: Request) -> Response:
        if self.state.down:
            return JSONResponse({"status": "down"}, 503, headers={"Retry-After": "5"})
        return JSONResponse({"status": "ok", "messages": len(self.state.messages)})

    async def control(self, request: Request) -> Response:
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError as exc:
            return _problem(422, "invalid-message", "Malformed control", [("body", f"not JSON: {exc}")])
        if not isinstance(body, dict):
            return _problem(422, "invalid-message", "Malformed control", [("body", "expected a JSON object")])
        for name in ("down", "reset"):
            if name in body and not isinstance(body[name], bool):
                return _problem(
                    422, "invalid-message", "Malformed control", [(name, "expected true or false")]
                )
        if body.get("reset"):
            self.state.reset()
        if "down" in body:
            self.state.down = body["down"]
        self._changed()
        return JSONResponse({"down": self.state.down, "messages": len(self.state.messages)})


def create_mock_erp(
    state: ErpState | None = None,
    *,
    state_file: Path | None = None,
    token: str | None = None,
    on_message: Callable[[dict[str, Any]], None] | None = None,
) -> Starlette:
    """The mock ERP as an ASGI app; ``state`` is shared with the caller (tests look into it).

    ``state_file``: load from and save to this JSON file; ``token``: require
    ``Authorization: Bearer <token>`` on the message and allocation endpoints;
    ``on_message``: told of each new message received."""
    if state is None:
        state = ErpState.load(state_file) if state_file is not None else ErpState()
    erp = MockErp(state, state_file, token, on_message)
    app = Starlette(
        routes=[
            Route(f"{PREFIX}/messages", erp.receive, methods=["POST"]),
            Route(f"{PREFIX}/messages", erp.messages, methods=["GET"]),
            Route(f"{PREFIX}/allocations", erp.allocations, methods=["GET"]),
            Route(f"{PREFIX}/requisitions", erp.requisitions, methods=["GET"]),
            Route(f"{PREFIX}/health", erp.health, methods=["GET"]),
            Route(f"{PREFIX}/_control", erp.control, methods=["POST"]),
        ]
    )
    app.state.erp = erp
    return app
