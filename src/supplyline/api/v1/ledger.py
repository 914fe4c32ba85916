"""The traceability ledger over HTTP: the caller's tenant's checkpoints, and their verification."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime, BaseModel, Field
from starlette.responses import Response

from supplyline import trace
from supplyline.api.deps import JSON, requires, services
from supplyline.api.pagination import PAGE, PageQuery
from supplyline.bootstrap import Services
from supplyline.kernel.json import INT_MAX
from supplyline.kernel.scope import Scope

router = APIRouter()
LEDGER_READ = requires("ledger", whole_tenant=True)


class CheckpointOut(BaseModel):
    tenant_id: str
    seq: int
    event_id: str
    event_position: int
    event_type: str
    subject: str
    correlation_id: str | None
    event_hash: str
    prev_hash: str
    hash: str
    signature: str
    recorded_at: AwareDatetime
    leaf: str | None = Field(
        None, description="The Merkle leaf when it is not ni:///sha-256;<event_hash>: an EPCIS Event Hash ID"
    )


class CheckpointPage(BaseModel):
    items: list[CheckpointOut]
    next_cursor: str | None


class ProblemOut(BaseModel):
    tenant_id: str
    seq: int | None
    kind: trace.ProblemKind
    message: str


class VerifyOut(BaseModel):
    ok: bool
    checked: int
    tenants: int
    problems: list[ProblemOut]


@router.get(
    "/ledger/checkpoints",
    response_model=CheckpointPage,
    tags=["ledger"],
    summary="This tenant's traceability checkpoints, in chain order",
)
async def list_checkpoints(
    after: int = Query(0, ge=0, le=INT_MAX, description="Only checkpoints after this seq"),
    subject: str | None = Query(
        None,
        min_length=1,
        max_length=200,
        description="Only checkpoints of events about this subject (``lots/<id>``: a lot's holds, "
        "releases and audit entries)",
    ),
    page_: PageQuery = PAGE,
    scope: Scope = LEDGER_READ,
    svc: Services = Depends(services),
) -> Response:
    async with svc.read_engine.connect() as conn:
        found = await trace.list_checkpoints(
            conn, scope.require_tenant(), after=after, subject=subject, cursor=page_.cursor, limit=page_.limit
        )
    return JSON({"items": [c.as_dict() for c in found.items], "next_cursor": found.next_cursor})


@router.get(
    "/ledger/verify",
    response_model=VerifyOut,
    tags=["ledger"],
    summary="Verify this tenant's checkpoint chain against the event log",
)
async def verify_ledger(scope: Scope = LEDGER_READ, svc: Services = Depends(services)) -> Response:
    key = trace.ledger_key(svc.settings.secret_key, svc.settings.data_dir)
    coverage = await trace.recorder_coverage(svc.consumers)
    async with svc.read_engine.connect() as conn:
        report = await trace.verify(conn, key, scope.require_tenant(), coverage=coverage)
    return JSON(report.as_dict())


class PublicKeyOut(BaseModel):
    key_name: str
    algorithm: str
    verifier_key: str = Field(description="C2SP signed-note verifier key: name+keyid+base64(0x01 || key)")


class TreeHeadOut(BaseModel):
    origin: str
    tree_size: int
    root_hash: str = Field(description="hex")
    checkpoint: str = Field(description="The tree head as a C2SP checkpoint in a signed note")


class InclusionOut(BaseModel):
    seq: int
    leaf_index: int
    tree_size: int
    leaf_hash: str
    root_hash: str
    proof: list[str]


class ConsistencyOut(BaseModel):
    first: int
    second: int
    first_root_hash: str
    second_root_hash: str
    proof: list[str]


LOG_GAP: dict[int | str, dict[str, Any]] = {
    409: {"description": "The start of this trail was purged before its leaf hashes were kept"}
}


@router.get(
    "/ledger/public-key",
    response_model=PublicKeyOut,
    tags=["ledger"],
    summary="The key that signs tree heads, to verify them without trusting this server",
)
async def public_key(scope: Scope = LEDGER_READ, svc: Services = Depends(services)) -> Response:
    return JSON(
        {
            "key_name": trace.KEY_NAME,
            "algorithm": "Ed25519",
            "verifier_key": trace.public_key_text(svc.ledger_key),
        }
    )


@router.get(
    "/ledger/tree-head",
    response_model=TreeHeadOut,
    tags=["ledger"],
    summary="This tenant's log: its size and root hash, signed (RFC 9162 tree, C2SP checkpoint)",
    responses=LOG_GAP,
)
async def tree_head(scope: Scope = LEDGER_READ, svc: Services = Depends(services)) -> Response:
    async with svc.read_engine.connect() as conn:
        head = await trace.tree_head(conn, scope.require_tenant(), svc.ledger_key)
    return JSON(head.as_dict())


@router.get(
    "/ledger/proofs/inclusion",
    response_model=InclusionOut,
    tags=["ledger"],
    summary="Proof that a checkpoint is in the log (RFC 9162 inclusion proof)",
    responses=LOG_GAP,
)
async def inclusion_proof(
    seq: int | None = Query(None, ge=1, le=INT_MAX, description="The checkpoint (leaf seq - 1)"),
    event_id: uuid.UUID | None = Query(None, description="Or the event whose checkpoint it is"),
    hash_id: str | None = Query(
        None,
        pattern=r"^ni:///sha-256;[0-9a-f]{64}\?ver=CBV2\.0$",
        description="Or the EPCIS event whose leaf is this GS1 Event Hash ID (ni:///sha-256;<hex>?ver=CBV2.0)",
    ),
    tree_size: int | None = Query(None, ge=1, le=INT_MAX, description="Of this tree; default the current"),
    scope: Scope = LEDGER_READ,
    svc: Services = Depends(services),
) -> Response:
    async with svc.read_engine.connect() as conn:
        proof = await trace.inclusion(conn, scope.require_tenant(), seq, tree_size, event_id, hash_id)
    return JSON(proof.as_dict())


@router.get(
    "/ledger/proofs/consistency",
    response_model=ConsistencyOut,
    tags=["ledger"],
    summary="Proof that an earlier tree is a prefix of a later one (RFC 9162 consistency proof)",
    responses=LOG_GAP,
)
async def consistency_proof(
    first: int = Query(..., ge=0, le=INT_MAX, description="The earlier tree's size"),
    second: int | None = Query(
        None, ge=0, le=INT_MAX, description="The later tree's size; default the current"
    ),
    scope: Scope = LEDGER_READ,
    svc: Services = Depends(services),
) -> Response:
    async with svc.read_engine.connect() as conn:
        proof = await trace.consistency(conn, scope.require_tenant(), first, second)
    return JSON(proof.as_dict())
