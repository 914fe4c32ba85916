"""Reading import files: what a user writes in JSON or CSV becomes rows with their numbers."""

from __future__ import annotations

import json
from pathlib import Path

from supplyline.onboarding import RowError, document_from_csv, document_from_json, load_document

ASSETS_CSV = """code,name,asset_type,site,attributes.setpoint_c,attributes.door_sensor,attributes.note
TRL-1,Reefer 1,reefer,DC-LYON,4,true,"two
lines"
TRL-2,Reefer 2,reefer,DC-LYON,-18.5,,007
"""


def test_csv_rows_keep_their_line_numbers_and_nest_attributes() -> None:
    doc = document_from_csv(ASSETS_CSV, kind="assets")
    assert doc.errors == []
    first, second = doc.sections["assets"]
    # The quoted cell spans lines 2-3, so the second asset is on line 4.
    assert (first.line, second.line) == (2, 4)
    assert first.data == {
        "code": "TRL-1",
        "name": "Reefer 1",
        "asset_type": "reefer",
        "site": "DC-LYON",
        "attributes": {"setpoint_c": 4, "door_sensor": True, "note": "two\nlines"},
    }
    # Empty cells are absent; text that is not JSON stays text.
    assert second.data["attributes"] == {"setpoint_c": -18.5, "note": "007"}


def test_csv_section_from_a_kind_column() -> None:
    text = "kind,code,name\nregions,EU,Europe\norganizations,CAR1,Fast Freight\n"
    doc = document_from_csv(text)
    assert doc.errors == []
    assert doc.sections["regions"][0].data == {"code": "EU", "name": "Europe"}
    assert doc.sections["organizations"][0].line == 3


def test_csv_without_a_section_says_how_to_name_one() -> None:
    doc = document_from_csv("code,name\nEU,Europe\n")
    assert doc.sections == {}
    assert [(e.row, e.field) for e in doc.errors] == [(1, "kind")]
    assert "--kind" in doc.errors[0].reason


def test_csv_header_problems_are_named() -> None:
    doc = document_from_csv("code,code,attributes,attributes.x\n", kind="assets")
    assert {e.field for e in doc.errors} == {"code", "attributes"}


def test_json_structure_errors_name_the_section_and_row() -> None:
    doc = document_from_json({"sites": [{"code": "A"}, "oops"], "zones": {"code": "Z"}})
    assert doc.sections["sites"][0].data == {"code": "A"}
    assert doc.errors == [
        RowError("sites", 2, "", "expected an object"),
        RowError("zones", 0, "", "expected a list of rows"),
    ]


def test_load_document_reads_json_and_csv_files(tmp_path: Path) -> None:
    json_path = tmp_path / "site.json"
    json_path.write_text(json.dumps({"regions": [{"code": "EU", "name": "Europe"}]}))
    csv_path = tmp_path / "assets.csv"
    csv_path.write_text(ASSETS_CSV)
    assert load_document(json_path).rows == 1
    assert load_document(csv_path, kind="assets").rows == 2
    bad = tmp_path / "broken.json"
    bad.write_text("{")
    assert "not valid JSON" in load_document(bad).errors[0].reason
    assert "expected a .json or .csv" in load_document(tmp_path / "x.xlsx").errors[0].reason
