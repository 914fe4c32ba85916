"""A tenant's log as one file that anyone can check offline, with the public key alone.

The export (format ``supplyline.ledger-export.v1``, JSON) holds the signed tree head (a C2SP
checkpoint), and for each leaf in order its seq, event id, event hash, its leaf data when it is
not the event hash (``leaf``: an EPCIS event's GS1 Event Hash ID; absent or null otherwise)
and, where the event is still in the log, the event's canonical form
(``supplyline.trace.canonical``) as a string.
``verify_export`` checks, without a database or our code's trust:

- the checkpoint's signature, with the verifier key given (not the one the file names: a
  forger would put their own there);
- the leaves are 1..n in order, and the tree over them has the checkpoint's size and root, so
  no leaf was changed, dropped, inserted or moved;
- each canonical event hashes to its leaf's event hash, so no event body was altered;
- a leaf that is an Event Hash ID is the ``hash_id`` its event carries, so the EPCIS event the
  leaf names is the one the chain recorded;
- optionally, that an older checkpoint a witness kept is a prefix of this tree, so the log has
  only grown since (an older tree presented as current fails this, as does a rewritten past).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline import eventlog
from supplyline.trace import merkle
from supplyline.trace.canonical import canonical_event
from supplyline.trace.leaves import leaf_hash_of, leaf_rows
from supplyline.trace.log import KEY_NAME, head_key, origin, public_key_text
from supplyline.trace.note import NoteError, TreeHead, Verifier

FORMAT = "supplyline.ledger-export.v1"


async def export_log(conn: AsyncConnection, tenant_id: uuid.UUID, ledger_key: bytes) -> dict[str, Any]:
    """The tenant's whole log and its signed head, as the export document."""
    rows = await leaf_rows(conn, tenant_id)
    found = await eventlog.events_by_id(conn, [r.event_id for r in rows if r.event_id is not None])
    events = {i: canonical_event(ev).decode() for i, ev in found.items()}
    hashes = [leaf_hash_of(r.event_hash, r.leaf) for r in rows]
    head = TreeHead(origin(tenant_id), len(hashes), merkle.root_of_hashes(hashes))
    return {
        "format": FORMAT,
        "key_name": KEY_NAME,
        "verifier_key": public_key_text(ledger_key),
        "checkpoint": head.signed(KEY_NAME, head_key(ledger_key)),
        "leaves": [
            {
                "seq": r.seq,
                "event_id": None if r.event_id is None else str(r.event_id),
                "event_hash": r.event_hash,
                "leaf": r.leaf,
                "event": None if r.event_id is None else events.get(r.event_id),
            }
            for r in rows
        ],
    }


@dataclass
class ExportReport:
    tree_size: int = 0
    root_hash: str = ""
    events_checked: int = 0
    events_absent: int = 0  # purged or deleted from the log: their hashes still count
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "tree_size": self.tree_size,
            "root_hash": self.root_hash,
            "events_checked": self.events_checked,
            "events_absent": self.events_absent,
            "problems": self.problems,
        }


def verify_export(doc: Any, verifier: Verifier, witnessed: Sequence[str] = ()) -> ExportReport:
    """Check an export document against a verifier key (and notes of older heads kept)."""
    report = ExportReport()
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        report.problems.append(f"not a {FORMAT} document")
        return report
    try:
        head = TreeHead.open(str(doc.get("checkpoint", "")), verifier)
    except NoteError as exc:
        report.problems.append(f"the checkpoint does not verify with the key given: {exc}")
        return report
    report.tree_size, report.root_hash = head.size, head.root.hex()
    leaves = doc.get("leaves")
    if not isinstance(leaves, list):
        report.problems.append("no list of leaves")
        return report
    hashes = _leaf_hashes(leaves, report)
    if report.problems:
        return report
    if len(hashes) != head.size:
        report.problems.append(f"the checkpoint is of {head.size} leaves, the file holds {len(hashes)}")
    elif merkle.root_of_hashes(hashes) != head.root:
        report.problems.append(
            "the leaves do not give the checkpoint's root: one was changed, added or moved"
        )
    for note in witnessed:
        _check_witnessed(note, verifier, head, hashes, report)
    return report


def _leaf_hashes(leaves: list[Any], report: ExportReport) -> list[bytes]:
    hashes: list[bytes] = []
    for i, leaf in enumerate(leaves, start=1):
        if not isinstance(leaf, dict) or leaf.get("seq") != i:
            report.problems.append(f"leaf {i} is missing or out of order")
            return []
        digest = leaf.get("event_hash")
        if not isinstance(digest, str) or len(digest) != 64:
            report.problems.append(f"leaf {i}: no event hash")
            return []
        data = leaf.get("leaf")
        if data is not None and (not isinstance(data, str) or not data):
            report.problems.append(f"leaf {i}: its leaf data is not text")
            return []
        event = leaf.get("event")
        if event is None:
            report.events_absent += 1
        elif not isinstance(event, str) or hashlib.sha256(event.encode()).hexdigest() != digest:
            report.problems.append(f"leaf {i}: the event does not hash to its event hash (it was altered)")
        elif data is not None and _hash_id(event) != data:
            report.problems.append(f"leaf {i}: the leaf is not the Event Hash ID its event records")
        else:
            report.events_checked += 1
        hashes.append(leaf_hash_of(digest, data))
    return hashes


def _hash_id(event: str) -> object:
    """The ``hash_id`` an exported (canonical) event carries in its data, if any."""
    try:
        data = orjson.loads(event).get("data")
    except (orjson.JSONDecodeError, AttributeError):
        return None
    return data.get("hash_id") if isinstance(data, dict) else None


def _check_witnessed(
    note: str, verifier: Verifier, head: TreeHead, hashes: list[bytes], report: ExportReport
) -> None:
    try:
        old = TreeHead.open(note, verifier)
    except NoteError as exc:
        report.problems.append(f"a witnessed checkpoint does not verify: {exc}")
        return
    if old.origin != head.origin:
        report.problems.append(f"a witnessed checkpoint is of another log ({old.origin})")
    elif old.size > head.size:
        report.problems.append(
            f"a witnessed checkpoint has {old.size} leaves, more than this one: an older tree"
        )
    elif merkle.root_of_hashes(hashes[: old.size]) != old.root:
        report.problems.append(
            f"the first {old.size} leaves no longer give the witnessed root: the past was rewritten"
        )
