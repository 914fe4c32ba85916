"""Reading an import file (JSON or CSV) into sections of rows, keeping each row's number.

Parsing knows nothing of resources: which sections and columns exist is checked by the
import itself, so a file's every problem is reported in one place and one format.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from supplyline.onboarding.report import RowError

SECTION_COLUMN = "kind"


@dataclass
class Row:
    line: int  # 1-based row of the section (JSON) or line of the file (CSV)
    data: dict[str, Any]


@dataclass
class ImportDocument:
    sections: dict[str, list[Row]] = field(default_factory=dict)
    # CSV header per section: (line, column names), so an unknown column is reported once.
    headers: dict[str, tuple[int, list[str]]] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(len(rows) for rows in self.sections.values())


def load_document(path: Path, *, kind: str | None = None) -> ImportDocument:
    """Read ``path``, a ``.json`` document of sections or a ``.csv`` of one section."""
    suffix = path.suffix.lower()
    if suffix == ".json":
        try:
            data = json.loads(path.read_bytes())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            return ImportDocument(errors=[RowError("", 0, "", f"{path.name} is not valid JSON: {exc}")])
        return document_from_json(data, kind=kind)
    if suffix == ".csv":
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            return ImportDocument(errors=[RowError("", 0, "", f"{path.name} is not UTF-8 text: {exc}")])
        return document_from_csv(text, kind=kind)
    reason = f"cannot read '{path.name}': expected a .json or .csv file"
    return ImportDocument(errors=[RowError("", 0, "", reason)])


def document_from_json(data: Any, *, kind: str | None = None) -> ImportDocument:
    """An object whose keys are sections, each a list of row objects; or, given ``kind``, one list."""
    doc = ImportDocument()
    if kind is not None:
        if not isinstance(data, list):
            doc.errors.append(RowError(kind, 0, "", "with kind given, expected a list of rows"))
            return doc
        data = {kind: data}
    if not isinstance(data, dict):
        doc.errors.append(RowError("", 0, "", "expected an object whose keys are sections"))
        return doc
    for section, rows in data.items():
        if not isinstance(rows, list):
            doc.errors.append(RowError(section, 0, "", "expected a list of rows"))
            continue
        out = doc.sections.setdefault(section, [])
        for n, row in enumerate(rows, start=1):
            if isinstance(row, dict):
                out.append(Row(n, row))
            else:
                doc.errors.append(RowError(section, n, "", "expected an object"))
    return doc


def document_from_csv(text: str, *, kind: str | None = None) -> ImportDocument:
    """One section per file: named by ``kind``, or by a ``kind`` column on every row.

    An empty cell is an absent value. ``attributes.setpoint_c`` fills ``attributes`` with a
    value read as JSON when it is JSON (``4`` is a number, ``true`` a boolean), else as text.
    """
    doc = ImportDocument()
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    header_line = 0
    last_line = 0
    for cells in reader:
        line, last_line = last_line + 1, reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if header is None:
            header, header_line = [c.strip() for c in cells], line
            problems = _header_problems(header, kind)
            if problems:
                doc.errors += [RowError(kind or "", line, col, reason) for col, reason in problems]
                return doc
            continue
        if len(cells) > len(header):
            doc.errors.append(RowError(kind or "", line, "", f"{len(cells)} cells for {len(header)} columns"))
            continue
        data = _nest(dict(zip(header, cells, strict=False)))
        section = kind
        if section is None:
            section = str(data.pop(SECTION_COLUMN, "") or "")
            if not section:
                doc.errors.append(RowError("", line, SECTION_COLUMN, "names no section"))
                continue
        doc.sections.setdefault(section, []).append(Row(line, data))
        doc.headers.setdefault(section, (header_line, _columns(header, kind)))
    if header is None:
        doc.errors.append(RowError(kind or "", 0, "", "the file has no header line"))
    return doc


def _header_problems(header: list[str], kind: str | None) -> list[tuple[str, str]]:
    out = []
    if kind is None and SECTION_COLUMN not in header:
        reason = "say which section the rows are: pass kind (e.g. --kind assets) or add a kind column"
        out.append((SECTION_COLUMN, reason))
    seen: set[str] = set()
    for column in header:
        if column in seen:
            out.append((column, "column given twice"))
        elif any(other.startswith(column + ".") for other in header):
            out.append((column, f"both {column} and {column}.<name> columns: use one form"))
        seen.add(column)
    return out


def _columns(header: list[str], kind: str | None) -> list[str]:
    return [c for c in header if c and (kind is not None or c != SECTION_COLUMN)]


def _nest(flat: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for column, cell in flat.items():
        if not column or cell.strip() == "":
            continue
        head, dot, rest = column.partition(".")
        if dot:
            _put(out.setdefault(head, {}), rest.split("."), _json_or_text(cell))
        else:
            out[column] = _structured(cell)
    return out


def _put(target: dict[str, Any], path: list[str], value: Any) -> None:
    for part in path[:-1]:
        target = target.setdefault(part, {})
    target[path[-1]] = value


def _json_or_text(cell: str) -> Any:
    try:
        return json.loads(cell)
    except ValueError:
        return cell


def _structured(cell: str) -> Any:
    """A plain cell stays text (the models parse numbers and dates); ``[..]``/``{..}`` is JSON."""
    stripped = cell.strip()
    if stripped[:1] in ("[", "{"):
        return _json_or_text(stripped)
    return cell
