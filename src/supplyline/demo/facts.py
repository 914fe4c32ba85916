"""The demo's facts, each written once: whose tenant it is, what the story is about, and what
the demo keeps in the data dir. The seed data, the story, the loop and the CLI read them here;
a test that seeds the tenant and watches the story holds them together."""

from __future__ import annotations

TENANT_SLUG = "demo"
TENANT_NAME = "Alpine Pharma Distribution"
ACTOR = "demo"  # who the audit trail says seeded the tenant and made its keys

# The story: the compressor of the reefer carrying SHIPMENT fails, its tracker reads above
# LIMIT_C and RULE holds the shipment's lots.
SHIPMENT = "SHP-1001"
ORDER = "SO-1001"  # the sales order SHIPMENT delivers
REEFER = "TRL-101"  # the trailer carrying SHIPMENT
TRACKER = "ct200-001"  # the tracker on REEFER, assigned to SHIPMENT
RULE = "cold-chain-max"
LIMIT_C = 8  # the 2-8 C goods' upper limit: RULE raises above it ...
CLEAR_C = 7  # ... and clears below this
CARRIER = "FFL"  # the code of the carrier organisation hauling SHIPMENT
SPEED = 60.0  # simulated seconds per wall second: a simulated minute per second

# The console's demo people: (the demo's name for the role, e-mail, the access model's role).
# Quality approves hold releases and runs recalls. The carrier's person belongs to CARRIER and
# sees its shipments only.
DEMO_LOGINS = (
    ("operator", "operator@demo.example", "site_operator"),
    ("quality", "quality@demo.example", "quality"),
    ("planner", "planner@demo.example", "planner"),
    ("carrier", "carrier@demo.example", "partner_viewer"),
)

# In the data dir.
CREDENTIALS_FILE = "demo-credentials.json"  # the tenant's admin key, for re-runs and `simulate`
ERP_STATE_FILE = "mock-erp.json"
SERVER_LOG = "demo-server.log"
ERP_LOG = "demo-mock-erp.log"
