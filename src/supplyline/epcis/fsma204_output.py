"""The FSMA 204 report as files: CSV (the rows) and XLSX (a sheet of rows, a sheet of the
missing KDEs), both with the spreadsheet's column names as their header row."""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook

from supplyline.epcis.fsma204 import Fsma204Report
from supplyline.epcis.fsma204_rules import COLUMNS

ROWS_SHEET = "Traceability Records"
MISSING_SHEET = "Missing KDEs"
MISSING_COLUMNS = {
    "event_id": "Event ID",
    "cte": "Critical Tracking Event",
    "tlc": "Traceability Lot Code (TLC)",
    "kde": "Missing Key Data Element",
}
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _safe(value: str) -> str:
    """A cell a spreadsheet will not run as a formula (CSV/formula injection, OWASP)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _table(report: Fsma204Report) -> list[list[str]]:
    return [[_safe(row.get(k, "")) for k in COLUMNS] for row in report.rows]


def _missing_table(report: Fsma204Report) -> list[list[str]]:
    return [[_safe(m[k]) for k in MISSING_COLUMNS] for m in report.missing]


def to_csv(report: Fsma204Report) -> bytes:
    """The rows as UTF-8 CSV with a header row (the missing KDEs are in the XLSX and JSON)."""
    buf = io.StringIO()
    out = csv.writer(buf)
    out.writerow(COLUMNS.values())
    out.writerows(_table(report))
    return buf.getvalue().encode()


def to_xlsx(report: Fsma204Report) -> bytes:
    """A workbook of two sheets, each with a frozen, filterable header row (it is *sortable*)."""
    book = Workbook(write_only=False)
    sheet = book.active
    assert sheet is not None  # a new workbook always has its first sheet
    sheet.title = ROWS_SHEET
    for title, header, body in (
        (ROWS_SHEET, list(COLUMNS.values()), _table(report)),
        (MISSING_SHEET, list(MISSING_COLUMNS.values()), _missing_table(report)),
    ):
        ws = sheet if title == ROWS_SHEET else book.create_sheet(title)
        ws.append(header)
        for line in body:
            ws.append(line)
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = ws.dimensions
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()
