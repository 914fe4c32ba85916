"""The single-reading baseline of ``supplyline bench ingest``: what a bare endpoint costs.

A FastAPI app with one route and no authentication, signature check, validation or events: it
decodes the body as JSON and inserts it as one row into an SQLite file, one commit per request,
with the ``synchronous`` setting our server's writer uses. It runs under uvicorn in a process of
its own, as our server does, so the same load generator drives both over loopback.

    python -m supplyline.bench.bare_ingest DB_PATH SYNC PORT
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import orjson
from fastapi import FastAPI, Request
from starlette.responses import Response

ANSWER = orjson.dumps({"accepted": 1})


def connect(path: Path, sync: str) -> sqlite3.Connection:
    """The file, in autocommit mode (every INSERT is its own transaction and commit)."""
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(f"PRAGMA synchronous={sync}")
    db.execute(
        "CREATE TABLE IF NOT EXISTS reading (device TEXT, ts INTEGER, seq INTEGER, temperature_c REAL,"
        " humidity_pct REAL, battery_v REAL, door_open REAL)"
    )
    db.execute("CREATE INDEX IF NOT EXISTS ix_reading ON reading (device, ts)")
    return db


def create_bare_app(path: Path, sync: str) -> FastAPI:
    db = connect(path, sync)
    app = FastAPI()

    @app.post("/v1/telemetry")
    async def ingest(request: Request) -> Response:
        # sqlite3 inline on the event loop: a thread hop per request would cost more than the
        # commit it moves off the loop, and SQLite takes one writer at a time anyway.
        r = orjson.loads(await request.body())
        m = r["metrics"]
        db.execute(
            "INSERT INTO reading VALUES (?, ?, ?, ?, ?, ?, ?)",
            (r["device"], r["ts"], r.get("seq"), *(m.get(k) for k in _METRICS)),
        )
        return Response(ANSWER, media_type="application/json")

    return app


_METRICS = ("temperature_c", "humidity_pct", "battery_v", "door_open")


def main(argv: list[str]) -> None:
    import uvicorn

    path, sync, port = Path(argv[0]), argv[1], int(argv[2])
    app = create_bare_app(path, sync)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main(sys.argv[1:])
