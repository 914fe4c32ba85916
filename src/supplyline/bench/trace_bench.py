"""``supplyline bench trace``: capture, ledger and lineage figures of the traceability layer, in one run.

Each part runs on a fresh SQLite database of its own in the bench's temporary directory:
capture (documents validated against the EPCIS 2.0 schema and CBV, hashed, stored with their
keys and ledger events), the ledger (checkpoint appends, proofs over a large log) and five-hop
lineage traces over ``events`` stored EPCIS events.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from supplyline.bench.trace_capture import measure_capture
from supplyline.bench.trace_ledger import measure_ledger
from supplyline.bench.trace_lineage import measure_lineage


async def run_trace_bench(
    workdir: Path, *, events: int = 1_000_000, capture_events: int = 20_000, leaves: int = 1_000_000
) -> dict[str, Any]:
    """The issue's figures at the top level, each part's own under ``details``."""
    parts: dict[str, Any] = {}
    for name in ("capture", "ledger", "lineage"):
        sub = workdir / name
        sub.mkdir(parents=True, exist_ok=True)
        if name == "capture":
            parts[name] = await measure_capture(sub, events=capture_events)
        elif name == "ledger":
            parts[name] = await measure_ledger(sub, leaves=leaves)
        else:
            parts[name] = await measure_lineage(sub, events=events)
    capture, ledger, lineage = parts["capture"], parts["ledger"], parts["lineage"]
    return {
        "capture_events_per_s": capture["capture_events_per_s"],
        "ledger_appends_per_s": ledger["ledger_appends_per_s"],
        "proof_ms_p99": ledger["proof_ms_p99"],
        "trace_p50_ms": lineage["trace_p50_ms"],
        "trace_p95_ms": lineage["trace_p95_ms"],
        "events": lineage["events"],
        "details": parts,
    }
