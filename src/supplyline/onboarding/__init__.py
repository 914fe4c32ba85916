"""Onboarding: a warehouse with its zones, assets and devices from one JSON or CSV file.

Rows name each other by code (``"site": "DC-LYON"``); the file is written in full, in one
transaction, or not at all, with every refused row reported by section, row and field.
"""

from supplyline.onboarding.document import (
    ImportDocument,
    Row,
    document_from_csv,
    document_from_json,
    load_document,
)
from supplyline.onboarding.report import ImportReport, RowError
from supplyline.onboarding.sections import Section, importable
from supplyline.onboarding.service import Progress, import_document, import_in

__all__ = [
    "ImportDocument",
    "ImportReport",
    "Progress",
    "Row",
    "RowError",
    "Section",
    "document_from_csv",
    "document_from_json",
    "import_document",
    "import_in",
    "importable",
    "load_document",
]
