"""FSMA 204 as data: which EPCIS event is which critical tracking event (CTE), which key data
elements (KDEs) the rule requires of each, and the spreadsheet's column names.

The CTEs and their KDEs are those of 21 CFR Part 1 Subpart S: harvesting and cooling
(1.1325), initial packing (1.1330), first land-based receiving (1.1335), shipping (1.1340),
receiving (1.1345), transformation (1.1350). The EPCIS side follows the GS1 US guideline
"EPCIS Recommendations for FSMA 204 Critical Tracking Events": shipping and receiving are the
CBV ``shipping`` / ``receiving`` steps, a transformation is a TransformationEvent (or the CBV
``transforming`` step), initial packing is the ObjectEvent ADD that commissions or packs a
new lot with its ILMD, and the steps CBV 2.0 has no term for (harvesting, cooling, initial
packing, first land-based receiving) are bizSteps of the capturer's own namespace whose last
segment names them (``https://example.com/bizstep/harvesting``, ``gs1us:cooling``). The first
rule that matches an event decides; a new mapping is a new rule here, nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass

HARVESTING = "Harvesting"
COOLING = "Cooling"
INITIAL_PACKING = "Initial Packing"
FIRST_LAND_BASED_RECEIVING = "First Land-Based Receiving"
SHIPPING = "Shipping"
RECEIVING = "Receiving"
TRANSFORMATION = "Transformation"
CTES = (
    HARVESTING,
    COOLING,
    INITIAL_PACKING,
    FIRST_LAND_BASED_RECEIVING,
    SHIPPING,
    RECEIVING,
    TRANSFORMATION,
)
# CTEs at which a traceability lot code is assigned (1.1320): where it happens is its source.
ASSIGNS_TLC = frozenset({INITIAL_PACKING, FIRST_LAND_BASED_RECEIVING, TRANSFORMATION})


@dataclass(frozen=True)
class CteRule:
    """An event is this CTE when its bizStep's last segment is one of ``steps`` (any step when
    empty) and, where given, its type, action and the presence of an ILMD agree."""

    cte: str
    steps: frozenset[str] = frozenset()
    event_type: str | None = None
    action: str | None = None
    needs_ilmd: bool = False


def _s(*names: str) -> frozenset[str]:
    return frozenset(n.lower() for n in names)


CTE_RULES: tuple[CteRule, ...] = (
    CteRule(HARVESTING, _s("harvesting", "harvest")),
    CteRule(COOLING, _s("cooling", "cool")),
    CteRule(
        FIRST_LAND_BASED_RECEIVING, _s("first_land_based_receiving", "firstLandBasedReceiving", "landing")
    ),
    CteRule(INITIAL_PACKING, _s("initial_packing", "initialPacking")),
    CteRule(INITIAL_PACKING, _s("packing", "commissioning"), "ObjectEvent", "ADD", needs_ilmd=True),
    CteRule(TRANSFORMATION, event_type="TransformationEvent"),
    CteRule(TRANSFORMATION, _s("transforming", "creating_class_instance")),
    CteRule(SHIPPING, _s("shipping", "departing")),
    CteRule(RECEIVING, _s("receiving", "arriving")),
)

# The columns of the sortable spreadsheet, in order: internal KDE name -> column header.
COLUMNS: dict[str, str] = {
    "tlc": "Traceability Lot Code (TLC)",
    "cte": "Critical Tracking Event",
    "date": "Event Date",
    "time": "Event Time (UTC)",
    "product": "Product Description",
    "gtin": "GTIN",
    "quantity": "Quantity",
    "uom": "Unit of Measure",
    "location": "Location Description",
    "location_id": "Location Identifier",
    "ship_from": "Ship-From Location",
    "ship_to": "Ship-To Location / Immediate Subsequent Recipient",
    "previous_source": "Immediate Previous Source",
    "tlc_source": "TLC Source Location",
    "tlc_source_reference": "TLC Source Reference",
    "input_tlcs": "Input TLCs",
    "harvest_location": "Harvest Location (Farm)",
    "field_name": "Field or Container Name",
    "harvest_date": "Harvest Date",
    "cooling_location": "Cooling Location",
    "cooling_date": "Cooling Date",
    "packing_date": "Initial Packing Date",
    "landing_date": "Landing Date",
    "reference_document_type": "Reference Document Type",
    "reference_document_number": "Reference Document Number",
    "event_id": "Event ID",
}

# What the rule requires at each CTE ("TLC source" is met by a location or a reference). A lot
# code is assigned at initial packing, so harvest and cooling records need none.
_DOCS = ("reference_document_type", "reference_document_number")
_FOOD = ("product", "quantity", "uom")
_LOT = ("tlc", "date", *_FOOD, *_DOCS)
REQUIRED: dict[str, tuple[str, ...]] = {
    HARVESTING: (
        "date",
        *_FOOD,
        *_DOCS,
        "location",
        "harvest_location",
        "field_name",
        "harvest_date",
        "ship_to",
    ),
    COOLING: ("date", *_FOOD, *_DOCS, "location", "cooling_date", "harvest_location", "ship_to"),
    INITIAL_PACKING: (*_LOT, "location", "harvest_location", "harvest_date", "packing_date", "tlc_source"),
    FIRST_LAND_BASED_RECEIVING: (*_LOT, "location", "landing_date", "harvest_date", "tlc_source"),
    SHIPPING: (*_LOT, "ship_from", "ship_to", "tlc_source"),
    RECEIVING: (*_LOT, "location", "previous_source", "tlc_source"),
    TRANSFORMATION: (*_LOT, "location", "input_tlcs", "tlc_source"),
}

# ILMD (and user extension) fields by their local name, case-insensitive, for each KDE.
ILMD_FIELDS: dict[str, frozenset[str]] = {
    "product": _s("productDescription", "tradeItemDescription", "descriptionShort", "commodity", "species"),
    "variety": _s("variety", "commodityVariety"),
    "harvest_date": _s("harvestDate", "harvestStartDate", "harvestEndDate", "harvestDateRange"),
    "harvest_location": _s("harvestLocation", "farm", "farmName", "farmLocation", "growerLocation"),
    "field_name": _s("fieldName", "field", "growingArea", "containerName", "fieldOrContainerName"),
    "cooling_date": _s("coolingDate", "coolDate"),
    "cooling_location": _s("coolingLocation", "coolerLocation"),
    "packing_date": _s("packingDate", "packDate", "initialPackingDate"),
    "landing_date": _s("landingDate", "dateOfLanding"),
    "tlc_source": _s("tlcSource", "traceabilityLotCodeSource"),
    "tlc_source_reference": _s("tlcSourceReference", "traceabilityLotCodeSourceReference"),
}

# CBV business transaction types (BTT-) as a person reads them.
DOCUMENT_TYPES: dict[str, str] = {
    "bol": "Bill of Lading",
    "cert": "Certificate",
    "desadv": "Despatch Advice",
    "inv": "Invoice",
    "pedigree": "Pedigree",
    "po": "Purchase Order",
    "poc": "Purchase Order Confirmation",
    "prodorder": "Production Order",
    "recadv": "Receiving Advice",
    "rma": "Return Merchandise Authorisation",
    "testprd": "Test Procedure",
    "testres": "Test Result",
    "upevt": "Upstream EPCIS Event",
}


def local_name(term: str) -> str:
    """The last segment of a term (URI path, CURIE or CBV ``BizStep-x``), lower-cased."""
    for sep in ("#", "/", ":"):
        term = term.rsplit(sep, 1)[-1]
    return term.removeprefix("BizStep-").lower()


def cte_of(event_type: str, action: str | None, biz_step: str | None, has_ilmd: bool) -> str | None:
    """The CTE an event records, by the first rule of ``CTE_RULES`` it matches; None: no CTE."""
    step = local_name(biz_step) if biz_step else ""
    for rule in CTE_RULES:
        if rule.steps and step not in rule.steps:
            continue
        if rule.event_type is not None and rule.event_type != event_type:
            continue
        if rule.action is not None and rule.action != action:
            continue
        if rule.needs_ilmd and not has_ilmd:
            continue
        return rule.cte
    return None
