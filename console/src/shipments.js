// The shipment list: what GET /v1/shipments answers this person (a carrier's answer is its own
// shipments, redacted), paged with the API's cursors, filtered by status. Site and carrier
// names are read by the ids the shipments name (one batched list request per kind), through
// the same session: the page asks for nothing the shown shipments do not point at.

import { api } from "./api.js";
import { recordOf, reporter, startPage } from "./page.js";
import { timeElement } from "./time.js";

const body = document.querySelector("#shipments tbody");
const more = document.getElementById("more");
const empty = document.getElementById("empty");
const problem = document.getElementById("problem");
const filters = document.getElementById("filters");
const STATUS = {
  planned: "Planned",
  in_transit: "In transit",
  delivered: "Delivered",
  exception: "Exception",
  cancelled: "Cancelled",
};
let nextCursor = null;

function query(cursor) {
  const params = new URLSearchParams();
  for (const [key, value] of new FormData(filters)) if (value) params.set(key, value);
  if (cursor) params.set("cursor", cursor);
  return `/v1/shipments?${params}`;
}

/** The name of a site or organisation the person may read; null when the API does not say. */
function nameOf(kind, id) {
  return recordOf(kind, id).then((rec) =>
    !rec ? null : rec.code && rec.name ? `${rec.name} (${rec.code})` : rec.name || rec.code || null,
  );
}

function cell(row, content) {
  const td = document.createElement("td");
  td.append(content instanceof Node ? content : document.createTextNode(content ?? "—"));
  row.append(td);
  return td;
}

function named(row, kind, id) {
  const td = cell(row, id ? "…" : "—");
  if (id) nameOf(kind, id).then((name) => (td.textContent = name ?? "—"));
}

function render(shipment) {
  const row = document.createElement("tr");
  row.dataset.id = shipment.id;
  const link = document.createElement("a");
  link.href = `/console/shipment?id=${encodeURIComponent(shipment.id)}`;
  link.textContent = shipment.number;
  cell(row, link);
  const status = document.createElement("span");
  status.className = `status status-${shipment.status}`;
  status.textContent = STATUS[shipment.status] ?? shipment.status;
  cell(row, status);
  named(row, "sites", shipment.origin_site_id);
  named(row, "sites", shipment.destination_site_id);
  named(row, "organizations", shipment.carrier_organization_id);
  cell(row, timeElement(shipment.planned_departure_at));
  cell(row, timeElement(shipment.planned_arrival_at));
  return row;
}

const fail = reporter(problem);

async function load({ append = false } = {}) {
  problem.textContent = "";
  try {
    const page = await api(query(append ? nextCursor : null));
    if (!append) body.replaceChildren();
    body.append(...page.items.map(render));
    nextCursor = page.next_cursor;
    more.hidden = !nextCursor;
    empty.hidden = body.children.length > 0;
  } catch (error) {
    fail(error);
  }
}

filters.addEventListener("change", () => load());
more.addEventListener("click", () => load({ append: true }));

startPage(fail);
load();
