"""``supplyline epcis``: work with GS1 EPCIS 2.0 documents offline.

``hash`` gives the CBV 2.0 Event Hash ID of each event, so a partner's hash can be checked
against ours without a server or a database.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import typer

from supplyline import trace
from supplyline.cli.common import fail

app = typer.Typer(help="GS1 EPCIS 2.0 documents: compute event hash IDs.", no_args_is_help=True)


@app.command("hash")
def hash_events(
    file: Annotated[Path, typer.Argument(help="An EPCISDocument, query document or event (JSON / JSON-LD).")],
    prehash: Annotated[
        bool, typer.Option("--prehash", help="Print each event's pre-hash string instead of its hash ID.")
    ] = False,
) -> None:
    """Print the Event Hash ID of every event, one a line, in document order."""
    try:
        document = orjson.loads(file.read_bytes())
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror or exc}")
    except orjson.JSONDecodeError as exc:
        fail(f"{file} is not JSON: {exc}")
    try:
        events, context = trace.document_events(document)
    except ValueError as exc:
        fail(f"{file}: {exc}")
    compute = trace.prehash_string if prehash else trace.event_hash_id
    lines = []
    # Nothing is printed unless every event hashes: a partial list would misalign with the document.
    for index, event in enumerate(events, start=1):
        try:
            lines.append(compute(event, context))
        except ValueError as exc:
            fail(f"{file}: event {index}: {exc}")
    for line in lines:
        typer.echo(line)
