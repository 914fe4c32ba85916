"""The GS1 EPCIS Event Hash ID (CBV 2.0) against GS1's worked examples, and its invariances.

The three documents in ``epcis_examples/`` and their expected pre-hash strings and hash IDs are
the worked examples of the GS1 reference implementation's README
(github.com/RalphTro/epcis-event-hash-generator, "Worked examples", CBV 2.0 column).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from supplyline.trace import document_events, event_hash_id, prehash_string
from supplyline.trace.epcis_hash import number, timestamp
from supplyline.trace.epcis_ids import check_digit, constrain_dl, epc_urn_to_dl, normalise_uri

EXAMPLES = Path(__file__).parent / "epcis_examples"
NS = "{https://ns.example.com/epcis/}"

WORKED = {
    "reference_example1.jsonld": (
        "ni:///sha-256;6ae96341e0acc6d7a261364751f60e68278a81cdf51da0abb6b4e617014e39d7?ver=CBV2.0",
        [
            "eventType=ObjectEvent",
            "eventTime=2020-03-04T10:00:30.000Z",
            "eventTimeZoneOffset=+01:00",
            "epcList",
            "epc=https://id.gs1.org/00/040123450000001112",
            "epc=https://id.gs1.org/00/040123450000002225",
            "epc=https://id.gs1.org/00/040123450000003338",
            "action=OBSERVE",
            "bizStep=https://ref.gs1.org/cbv/BizStep-departing",
            "readPoint",
            "id=https://id.gs1.org/414/4012345000115/254/987",
            f"{NS}myField1",
            f"{NS}mySubField1=2",
            f"{NS}mySubField2=5",
            f"{NS}myField2=0",
            f"{NS}myField3",
            f"{NS}mySubField3=1",
            f"{NS}mySubField3=3",
        ],
    ),
    "reference_example2.jsonld": (
        "ni:///sha-256;271565c346ae2fb28c4583c4dca4ab4772d465eb4e0b6e548d77d8b49377d95c?ver=CBV2.0",
        [
            "eventType=ObjectEvent",
            "eventTime=2020-04-01T14:00:00.000Z",
            "eventTimeZoneOffset=+01:00",
            "epcList",
            "epc=https://id.gs1.org/01/04012345111118/21/9876",
            "action=OBSERVE",
            "bizStep=https://ref.gs1.org/cbv/BizStep-inspecting",
            "readPoint",
            "id=https://id.gs1.org/414/4012345000054",
            "sensorElement",
            "sensorMetadata",
            "deviceID=https://id.gs1.org/8004/4000001111",
            "deviceMetadata=https://id.gs1.org/8004/4000001111",
            "sensorReport",
            "type=https://ref.gs1.org/voc/AbsoluteHumidity",
            "value=12.1",
            "uom=A93",
            "sensorReport",
            "type=https://ref.gs1.org/voc/Dimensionless",
            "chemicalSubstance=https://identifiers.org/inchikey:CZMRCDWAGMRECN-UGDNZRGBSA-N",
            "value=0.18",
            "uom=C35",
            "sensorReport",
            "type=https://ref.gs1.org/voc/Dimensionless",
            "microorganism=https://www.ncbi.nlm.nih.gov/taxonomy/1126011",
            "value=0.05",
            "uom=C35",
            "sensorReport",
            "type=https://ref.gs1.org/voc/Temperature",
            "value=26",
            "sDev=0.1",
            "uom=CEL",
        ],
    ),
    "reference_example3.jsonld": (
        "ni:///sha-256;3ae14c02c4bdc220cc31942cf804f6845eb8dec96ba6483391c92a9b165f9329?ver=CBV2.0",
        [
            "eventType=ObjectEvent",
            "eventTime=2020-03-04T10:00:30.000Z",
            "eventTimeZoneOffset=+01:00",
            "epcList",
            "epc=https://id.gs1.org/01/00614141111114/21/987",
            "action=OBSERVE",
            "bizStep=https://ref.gs1.org/cbv/BizStep-departing",
            "disposition=https://ref.gs1.org/cbv/Disp-in_transit",
            "readPoint",
            "id=https://id.gs1.org/414/4012345000115",
            "bizTransactionList",
            "type=https://ref.gs1.org/cbv/BTT-po",
            "bizTransaction=https://id.gs1.org/253/4012345111118123",
            "sourceList",
            "type=https://ref.gs1.org/cbv/SDT-owning_party",
            "source=https://id.gs1.org/417/4012345000009",
            "destinationList",
            "type=https://ref.gs1.org/cbv/SDT-owning_party",
            "destination=https://id.gs1.org/417/0614141000005",
            "readPoint",
            f"{NS}myField1=AB-12",
            f"{NS}userExt=CD-34",
        ],
    ),
}


def load(name: str) -> tuple[dict[str, Any], Any]:
    document = json.loads((EXAMPLES / name).read_text())
    events, context = document_events(document)
    return dict(events[0]), context


@pytest.mark.parametrize("name", sorted(WORKED))
def test_worked_examples_give_gs1_prehash_and_hash_id(name: str) -> None:
    event, context = load(name)
    expected_id, lines = WORKED[name]
    assert prehash_string(event, context) == "".join(lines)
    assert event_hash_id(event, context) == expected_id


def hash1(event: dict[str, Any]) -> str:
    return event_hash_id(event, {"example": "https://ns.example.com/epcis/"})


@pytest.fixture
def event1() -> dict[str, Any]:
    return load("reference_example1.jsonld")[0]


def reorder(value: Any) -> Any:
    """The same JSON with every object's keys and every list in reverse order."""
    if isinstance(value, dict):
        return {k: reorder(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [reorder(v) for v in reversed(value)]
    return value


def test_field_and_list_order_do_not_change_the_hash() -> None:
    for name in WORKED:
        event, context = load(name)
        assert event_hash_id(reorder(event), context) == WORKED[name][0]


def test_whitespace_around_values_does_not_change_the_hash(event1: dict[str, Any]) -> None:
    spaced = copy.deepcopy(event1)
    spaced["bizStep"] = "  departing\n"
    spaced["action"] = " OBSERVE "
    spaced["epcList"] = [f"\t{epc} " for epc in spaced["epcList"]]
    spaced["example:myField2"] = " 0 "
    assert hash1(spaced) == hash1(event1)
    # The serialisation's own whitespace is gone once parsed: a compact dump hashes the same.
    assert hash1(json.loads(json.dumps(event1, separators=(",", ":")))) == hash1(event1)


def test_urn_and_digital_link_forms_of_an_identifier_hash_the_same(event1: dict[str, Any]) -> None:
    linked = copy.deepcopy(event1)
    linked["epcList"] = [
        "https://id.gs1.org/00/040123450000001112",
        # A custom domain and a query string are not part of the identifier.
        "https://brand.example.com/00/040123450000002225?linkType=all",
        "urn:epc:id:sscc:4012345.0000000333",
    ]
    linked["readPoint"] = {"id": "https://example.org/some/path/414/4012345000115/254/987"}
    assert hash1(linked) == hash1(event1)


@pytest.mark.parametrize(
    "form",
    [
        "urn:epcglobal:cbv:bizstep:departing",
        "cbv:BizStep-departing",
        "https://ref.gs1.org/cbv/BizStep-departing",
    ],
)
def test_every_form_of_a_cbv_term_hashes_the_same(event1: dict[str, Any], form: str) -> None:
    assert hash1({**event1, "bizStep": form}) == hash1(event1)


def rename(value: Any, old: str, new: str) -> Any:
    if isinstance(value, dict):
        return {k.replace(old, new, 1): rename(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [rename(v, old, new) for v in value]
    return value


def test_the_namespace_prefix_chosen_does_not_change_the_hash(event1: dict[str, Any]) -> None:
    renamed = rename(event1, "example:", "ex:")
    assert event_hash_id(renamed, [{"ex": "https://ns.example.com/epcis/"}]) == hash1(event1)
    expanded = [{"ex": {"@id": "https://ns.example.com/epcis/", "@prefix": True}}]
    assert event_hash_id(renamed, expanded) == hash1(event1)
    # A prefix declared on the extension itself (as older JSON-LD examples do) is honoured too.
    inline = {**renamed, "ex:myField2": {"@xmlns:ex": "https://ns.example.com/epcis/", "#text": "0"}}
    assert event_hash_id(inline, [{"ex": "https://ns.example.com/epcis/"}]) == hash1(event1)
    # Without the context the names stay unresolved, which is a different event.
    assert event_hash_id(event1) != hash1(event1)


def test_the_same_instant_in_another_offset_hashes_the_same(event1: dict[str, Any]) -> None:
    for form in ("2020-03-04T10:00:30Z", "2020-03-04T05:00:30.0000-05:00", "2020-03-04T11:00:30.0002+01:00"):
        assert hash1({**event1, "eventTime": form}) == hash1(event1), form


def test_event_id_record_time_and_error_declaration_are_not_hashed(event1: dict[str, Any]) -> None:
    marked = {
        **event1,
        "eventID": "ni:///sha-256;00?ver=CBV2.0",
        "recordTime": "2030-01-01T00:00:00Z",
        "errorDeclaration": {"declarationTime": "2030-01-01T00:00:00Z", "reason": "incorrect_data"},
    }
    assert hash1(marked) == hash1(event1)
    assert hash1({k: v for k, v in event1.items() if k != "recordTime"}) == hash1(event1)


def test_empty_lists_and_objects_count_as_omitted(event1: dict[str, Any]) -> None:
    padded = {**event1, "ilmd": {}, "childEPCs": [], "bizLocation": {}, "sourceList": [], "disposition": None}
    assert hash1(padded) == hash1(event1)


@pytest.mark.parametrize(
    "change",
    [
        {"action": "ADD"},
        {"bizStep": "arriving"},
        {"eventTime": "2020-03-04T11:00:30.001+01:00"},
        {"eventTimeZoneOffset": "+02:00"},
        {"epcList": ["urn:epc:id:sscc:4012345.0000000111", "urn:epc:id:sscc:4012345.0000000222"]},
        {"readPoint": {"id": "urn:epc:id:sgln:4012345.00011.988"}},
        {"example:myField2": "1"},
        {"example:myField4": "new"},
        {"disposition": "in_transit"},
        {"type": "TransactionEvent"},
    ],
)
def test_a_changed_value_or_an_added_field_changes_the_hash(
    event1: dict[str, Any], change: dict[str, Any]
) -> None:
    assert hash1({**event1, **change}) != hash1(event1)


def test_quantities_ilmd_and_persistent_disposition() -> None:
    base = {
        "type": "ObjectEvent",
        "eventTime": "2021-05-01T10:00:00Z",
        "eventTimeZoneOffset": "+00:00",
        "action": "ADD",
        "quantityList": [
            {"epcClass": "urn:epc:class:lgtin:4054739.099914.20160711", "quantity": 600, "uom": "KGM"},
            {"epcClass": "urn:epc:class:lgtin:4012345.099988.2014-02-10", "quantity": 2030.0, "uom": "KGM"},
        ],
        "persistentDisposition": {"set": ["completeness_verified"], "unset": ["completeness_inferred"]},
        "ilmd": {"cbvmda:bestBeforeDate": "2019-10-21"},
    }
    assert prehash_string(base) == (
        "eventType=ObjectEventeventTime=2021-05-01T10:00:00.000ZeventTimeZoneOffset=+00:00"
        "quantityList"
        "quantityElementepcClass=https://id.gs1.org/01/04012345999884/10/2014-02-10quantity=2030uom=KGM"
        "quantityElementepcClass=https://id.gs1.org/01/04054739999148/10/20160711quantity=600uom=KGM"
        "action=ADD"
        "persistentDisposition"
        "set=https://ref.gs1.org/cbv/Disp-completeness_verified"
        "unset=https://ref.gs1.org/cbv/Disp-completeness_inferred"
        "ilmd{urn:epcglobal:cbv:mda}bestBeforeDate=2019-10-21"
    )
    # The standard context's cbvmda (urn:epcglobal:cbv:mda#) and a full URN key name the same.
    for context in ({"cbvmda": "urn:epcglobal:cbv:mda#"}, {"cbvmda": "urn:epcglobal:cbv:mda:"}):
        assert prehash_string(base, context) == prehash_string(base)
    full = {**base, "ilmd": {"urn:epcglobal:cbv:mda:bestBeforeDate": "2019-10-21"}}
    assert prehash_string(full) == prehash_string(base)


def test_an_event_without_type_or_time_is_refused(event1: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="eventType"):
        prehash_string({k: v for k, v in event1.items() if k != "type"})
    with pytest.raises(ValueError, match="eventTime"):
        prehash_string({k: v for k, v in event1.items() if k != "eventTime"})
    with pytest.raises(ValueError, match="timestamp"):
        prehash_string({**event1, "eventTime": "yesterday"})


@pytest.mark.parametrize(
    ("urn", "link"),
    [
        ("urn:epc:id:sgtin:0614141.107346.2017", "/01/10614141073464/21/2017"),
        ("urn:epc:id:sscc:4012345.0000000111", "/00/040123450000001112"),
        ("urn:epc:id:sgln:0614141.07346.1234", "/414/0614141073467/254/1234"),
        ("urn:epc:id:sgln:4012345.00005.0", "/414/4012345000054"),
        ("urn:epc:id:giai:4000001.111", "/8004/4000001111"),
        ("urn:epc:id:gdti:4012345.11111.123", "/253/4012345111118123"),
        ("urn:epc:id:pgln:4012345.00000", "/417/4012345000009"),
        ("urn:epc:class:lgtin:4012345.099988.2014-02-10", "/01/04012345999884/10/2014-02-10"),
        ("urn:epc:idpat:sgtin:4012345.011111.*", "/01/04012345111118"),
    ],
)
def test_epc_urns_become_canonical_digital_links(urn: str, link: str) -> None:
    assert epc_urn_to_dl(urn) == "https://id.gs1.org" + link


def test_digital_links_are_constrained_to_the_finest_key() -> None:
    assert constrain_dl("https://example.com/01/09520123456788/10/L1/21/S%2F1?x=1") == (
        "https://id.gs1.org/01/09520123456788/21/S%2F1"
    )
    assert constrain_dl("https://id.gs1.org/01/9520123456788/10/L1") == (
        "https://id.gs1.org/01/09520123456788/10/L1"
    )
    assert constrain_dl("https://www.ncbi.nlm.nih.gov/taxonomy/1126011") is None
    assert normalise_uri("geo:47.506694,11.104301", {}) == "geo:47.506694,11.104301"
    assert normalise_uri("urn:epcglobal:cbv:bt:4012345000009:ASN1099", {}) == (
        "urn:epcglobal:cbv:bt:4012345000009:ASN1099"
    )
    assert check_digit("401234500000") == "9"


def test_numbers_and_timestamps_are_canonical() -> None:
    assert [number(v) for v in (1.0, "1.50", 0.3434, 26, "1E+2", -0.0)] == [
        "1",
        "1.5",
        "0.3434",
        "26",
        "100",
        "0",
    ]
    assert timestamp("2023-01-18T11:04:03.1415Z") == "2023-01-18T11:04:03.142Z"
    assert timestamp("2020-12-31T23:30:00-01:00") == "2021-01-01T00:30:00.000Z"
