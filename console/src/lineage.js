// Lineage and recall of one lot (?lot=<platform lot id or identifier>&depth=<hops>): its graph
// upstream and downstream (GET /v1/traceability/lots/{lot}, backward and forward) drawn as an
// SVG in layers, with the edges and their events as a table; a recall (POST
// /v1/traceability/recalls, a dry run or with hold) listing what is exposed; and the ledger
// entries of the lineage's events and of the lot's holds, each proved in this page against the
// signed tree head (proof.js). What the person may not do or read is the API's 403, shown.

import { api, ApiError, toLogin } from "./api.js";
import { allItems, recordOf, reporter, startPage } from "./page.js";
import { timeElement } from "./time.js";
import { bytesToHex, checkInclusion, openSignedHead, ProofError } from "./proof.js";

const SVG = "http://www.w3.org/2000/svg";
const BOX = { w: 180, h: 46, gapX: 80, gapY: 18, pad: 12 };
const MAX_PROOFS = 60; // a page checks this many entries; the CLI checks a whole log
const number = new Intl.NumberFormat(undefined, { maximumFractionDigits: 3 });
const params = new URLSearchParams(window.location.search);
const lotParam = (params.get("lot") || "").trim();
const depth = ["2", "5", "10", "50"].includes(params.get("depth")) ? params.get("depth") : "5";

const $ = (id) => document.getElementById(id);
const problem = $("problem");
const note = $("note");
const fail = reporter(problem);

function named(rec) {
  if (!rec) return null;
  return rec.code && rec.name ? `${rec.name} (${rec.code})` : rec.name || rec.code || null;
}

function lineageHref(ref) {
  return `/console/lineage?${new URLSearchParams({ lot: ref, depth })}`;
}

/** A short name for an identifier: the lot, serial or SSCC of a GS1 Digital Link, else its end. */
function shortId(id) {
  const m = /^https:\/\/id\.gs1\.org\/(.*)$/.exec(id);
  if (m) {
    const parts = m[1].split("/");
    const ai = new Map();
    for (let i = 0; i + 1 < parts.length; i += 2) ai.set(parts[i], decodeURIComponent(parts[i + 1]));
    if (ai.has("10")) return `lot ${ai.get("10")}`;
    if (ai.has("21")) return `serial ${ai.get("21")}`;
    if (ai.has("00")) return `SSCC ${ai.get("00")}`;
    if (ai.has("417")) return `party ${ai.get("417")}`;
    if (ai.has("414")) return `location ${ai.get("414")}`;
    return parts.slice(-2).join(" ");
  }
  return id.split(/[:/]/).filter(Boolean).pop() || id;
}

function cell(row, content, className) {
  const td = document.createElement("td");
  if (className) td.className = className;
  td.append(content instanceof Node ? content : document.createTextNode(content ?? "—"));
  row.append(td);
  return td;
}

function link(text, href) {
  const a = document.createElement("a");
  a.href = href;
  a.textContent = text;
  return a;
}

function amount(value, unit) {
  return value === null || value === undefined ? "—" : `${number.format(value)}${unit ? ` ${unit}` : ""}`;
}

/* ---------- the lot picker ---------- */

async function loadPicker() {
  const select = $("lot");
  $("depth").value = depth;
  try {
    const [lots, products] = await Promise.all([allItems("/v1/lots"), allItems("/v1/products")]);
    const names = new Map(products.map((p) => [p.id, p.name || p.sku]));
    lots.sort((a, b) => a.lot_code.localeCompare(b.lot_code));
    for (const lot of lots) {
      const option = document.createElement("option");
      option.value = lot.id;
      const product = names.get(lot.product_id);
      option.textContent = product ? `${lot.lot_code} · ${product}` : lot.lot_code;
      select.append(option);
    }
  } catch (error) {
    fail(error);
  }
  if (lotParam && ![...select.options].some((o) => o.value === lotParam)) {
    const option = document.createElement("option");
    option.value = lotParam;
    option.textContent = shortId(lotParam);
    select.append(option);
  }
  select.value = lotParam;
}

$("picker").addEventListener("submit", (event) => {
  event.preventDefault();
  const lot = $("lot").value;
  if (!lot) {
    problem.textContent = "Choose a lot to show its lineage.";
    $("lot").focus();
    return;
  }
  window.location.assign(`/console/lineage?${new URLSearchParams({ lot, depth: $("depth").value })}`);
});

/* ---------- the lineage graph ---------- */

/** The nodes of both traces, placed in columns: upstream negative, the lot 0, downstream positive. */
function placeNodes(up, down) {
  const nodes = new Map();
  for (const [trace, sign, side] of [
    [up, -1, "upstream"],
    [down, 1, "downstream"],
  ]) {
    for (const n of trace.nodes) {
      if (nodes.has(n.id)) continue;
      const seed = n.hops === 0;
      nodes.set(n.id, { ...n, col: seed ? 0 : sign * n.hops, side: seed ? "this lot" : side });
    }
  }
  return nodes;
}

function allEdges(up, down) {
  const edges = new Map();
  for (const [trace, side] of [
    [up, "upstream"],
    [down, "downstream"],
  ]) {
    for (const e of trace.edges) {
      const key = `${e.from}\n${e.to}\n${e.kind}`;
      if (!edges.has(key)) edges.set(key, { ...e, side });
    }
  }
  return [...edges.values()];
}

async function labels(nodes) {
  const out = new Map();
  await Promise.all(
    [...nodes.values()].map(async (n) => {
      const lot = n.lot_id ? await recordOf("lots", n.lot_id) : null;
      const product = lot ? await recordOf("products", lot.product_id) : null;
      out.set(n.id, {
        title: lot ? `lot ${lot.lot_code}` : shortId(n.id),
        detail: product?.name || (n.role === "carrier" ? "container" : amount(n.quantity, n.uom)),
      });
    }),
  );
  return out;
}

function svg(name, attrs = {}, text) {
  const el = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

function clip(text, max = 24) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function drawGraph(nodes, edges, names) {
  const columns = new Map();
  for (const n of [...nodes.values()].sort((a, b) => a.id.localeCompare(b.id))) {
    if (!columns.has(n.col)) columns.set(n.col, []);
    columns.get(n.col).push(n);
  }
  const cols = [...columns.keys()].sort((a, b) => a - b);
  const rows = Math.max(...[...columns.values()].map((c) => c.length));
  const width = BOX.pad * 2 + cols.length * BOX.w + (cols.length - 1) * BOX.gapX;
  const height = BOX.pad * 2 + rows * BOX.h + (rows - 1) * BOX.gapY;
  const at = new Map();
  cols.forEach((col, i) => {
    const list = columns.get(col);
    const offset = ((rows - list.length) * (BOX.h + BOX.gapY)) / 2;
    list.forEach((n, j) => {
      at.set(n.id, { x: BOX.pad + i * (BOX.w + BOX.gapX), y: BOX.pad + offset + j * (BOX.h + BOX.gapY) });
    });
  });
  const root = svg("svg", {
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: "group",
    "aria-label": "Lineage graph",
  });
  const defs = svg("defs");
  const marker = svg("marker", {
    id: "arrow",
    viewBox: "0 0 10 10",
    refX: 10,
    refY: 5,
    markerWidth: 8,
    markerHeight: 8,
    orient: "auto-start-reverse",
  });
  marker.append(svg("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "arrow-head" }));
  defs.append(marker);
  root.append(defs);
  for (const e of edges) {
    const a = at.get(e.from);
    const b = at.get(e.to);
    if (!a || !b) continue;
    const forward = b.x >= a.x;
    const x1 = forward ? a.x + BOX.w : a.x;
    const x2 = forward ? b.x : b.x + BOX.w;
    const y1 = a.y + BOX.h / 2;
    const y2 = b.y + BOX.h / 2;
    const bend = (x2 - x1) / 2;
    const path = svg("path", {
      d: `M ${x1} ${y1} C ${x1 + bend} ${y1}, ${x2 - bend} ${y2}, ${x2} ${y2}`,
      class: `edge edge-${e.kind}`,
      "marker-end": "url(#arrow)",
    });
    path.append(svg("title", {}, `${names.get(e.from).title} → ${names.get(e.to).title}: ${e.kind}`));
    root.append(path);
    root.append(
      svg("text", { x: (x1 + x2) / 2, y: (y1 + y2) / 2 - 4, class: "edge-label", "text-anchor": "middle" }, e.kind),
    );
  }
  for (const n of nodes.values()) {
    const { x, y } = at.get(n.id);
    const name = names.get(n.id);
    const seed = n.col === 0;
    const group = seed
      ? svg("g", { class: "node seed" })
      : svg("a", { href: lineageHref(n.lot_id || n.id), class: `node ${n.role}` });
    // The link is named by its visible text; the full identifier is the box's tooltip.
    const box = svg("rect", { x, y, width: BOX.w, height: BOX.h, rx: 5 });
    box.append(svg("title", {}, n.id));
    group.append(box);
    group.append(svg("text", { x: x + 10, y: y + 19, class: "node-title" }, clip(name.title)));
    group.append(svg("text", { x: x + 10, y: y + 37, class: "node-detail" }, clip(name.detail || "")));
    root.append(group);
  }
  $("graph").replaceChildren(root);
}

function eventList(events) {
  const ul = document.createElement("ul");
  ul.className = "events";
  for (const ev of events) {
    const li = document.createElement("li");
    const step = ev.biz_step ? ` · ${shortId(ev.biz_step).replace(/^BizStep-/, "")}` : "";
    li.append(`${ev.event_type}${step} · `, timeElement(ev.event_time));
    const code = document.createElement("code");
    code.textContent = ev.event_id;
    li.append(" ", code);
    ul.append(li);
  }
  return ul;
}

function drawEdges(edges, nodes, names) {
  const body = $("edges").querySelector("tbody");
  body.replaceChildren();
  const order = { upstream: 0, downstream: 1 };
  edges.sort((a, b) => order[a.side] - order[b.side] || nodes.get(a.from).col - nodes.get(b.from).col);
  for (const e of edges) {
    const row = document.createElement("tr");
    cell(row, e.side);
    for (const id of [e.from, e.to]) {
      const n = nodes.get(id);
      const text = names.get(id).title;
      cell(row, n && n.col !== 0 ? link(text, lineageHref(n.lot_id || id)) : `${text} (this lot)`).title = id;
    }
    cell(row, e.kind);
    cell(row, amount(e.quantity, e.uom), "num");
    cell(row, eventList(e.events));
    body.append(row);
  }
  $("no-edges").hidden = edges.length > 0;
}

async function trace(direction) {
  const ref = encodeURIComponent(lotParam);
  return api(`/v1/traceability/lots/${ref}?direction=${direction}&depth=${depth}`);
}

async function loadLineage() {
  const [up, down] = await Promise.all([trace("backward"), trace("forward")]);
  const nodes = placeNodes(up, down);
  const edges = allEdges(up, down);
  const names = await labels(nodes);
  const seed = [...nodes.values()].find((n) => n.col === 0 && n.lot_id) || [...nodes.values()][0];
  const title = names.get(seed.id).title;
  $("title").textContent = `Lineage and recall of ${title}`;
  document.title = `Lineage of ${title} · supplyline console`;
  const upstream = [...nodes.values()].filter((n) => n.col < 0).length;
  const downstream = [...nodes.values()].filter((n) => n.col > 0).length;
  const cut = up.complete && down.complete ? "" : ` The trace goes on beyond ${depth} hops: choose more hops to see it.`;
  $("lineage-summary").textContent =
    `${upstream} upstream and ${downstream} downstream within ${depth} hops, ${edges.length} edges.${cut}`;
  drawGraph(nodes, edges, names);
  drawEdges(edges, nodes, names);
  $("lineage").hidden = false;
  return { up, down, nodes, names };
}

/* ---------- the recall ---------- */

function fillTable(id, items, render) {
  const body = $(id).querySelector("tbody");
  body.replaceChildren();
  for (const item of items) {
    const row = document.createElement("tr");
    render(row, item);
    body.append(row);
  }
  if (!items.length) {
    const row = document.createElement("tr");
    const td = cell(row, "None.");
    td.colSpan = $(id).querySelectorAll("thead th").length;
    td.className = "empty";
    body.append(row);
  }
}

function lotCell(row, lotId) {
  const td = cell(row, lotId ? "…" : "—");
  if (lotId) {
    recordOf("lots", lotId).then((lot) => td.replaceChildren(lot ? link(lot.lot_code, lineageHref(lotId)) : "—"));
  }
}

function namedCell(row, kind, id) {
  const td = cell(row, "…");
  recordOf(kind, id).then((rec) => (td.textContent = named(rec) ?? "—"));
}

function lotsOf(entries, unitKey) {
  const ul = document.createElement("ul");
  ul.className = "plain";
  for (const entry of entries) {
    const li = document.createElement("li");
    li.textContent = "…";
    recordOf("lots", entry.lot_id).then((lot) => {
      li.textContent = `${lot ? lot.lot_code : "—"}: ${amount(entry.quantity, entry[unitKey])}`;
    });
    ul.append(li);
  }
  return ul;
}

function showExposure(exposure, hold) {
  $("held").closest(".table-wrap").hidden = !hold;
  fillTable("held", exposure.holds, (row, h) => {
    lotCell(row, h.lot_id);
    cell(row, h.created ? "placed now" : "already on hold", h.created ? "held-new" : "");
  });
  fillTable("exposed-lots", exposure.lots, (row, lot) => {
    cell(row, lot.identifier ? shortId(lot.identifier) : "—").title = lot.identifier || "";
    lotCell(row, lot.lot_id);
    cell(row, amount(lot.quantity, lot.uom), "num");
    cell(row, String(lot.hops), "num");
  });
  fillTable("exposed-shipments", exposure.shipments, (row, s) => {
    cell(row, link(s.number || s.shipment_id, `/console/shipment?id=${encodeURIComponent(s.shipment_id)}`));
    cell(row, s.lots.length ? lotsOf(s.lots, "unit") : "named by a shipping event");
  });
  fillTable("exposed-orders", exposure.orders, (row, o) => {
    cell(row, o.number || o.order_id);
    cell(row, o.kind);
    cell(row, o.lines.length ? lotsOf(o.lines, "unit") : "named by an event");
  });
  fillTable("exposed-sites", exposure.sites, (row, id) => namedCell(row, "sites", id));
  const customers = [
    ...exposure.customers.map((id) => ({ id })),
    ...exposure.parties.map((party) => ({ party })),
  ];
  fillTable("exposed-customers", customers, (row, c) => {
    if (c.id) {
      namedCell(row, "organizations", c.id);
      cell(row, "customer of a sales order");
    } else {
      cell(row, shortId(c.party)).title = c.party;
      cell(row, "owning party of a shipping destination");
    }
  });
  fillTable("exposed-shipping", exposure.shipping_events, (row, e) => {
    cell(row, timeElement(e.event_time));
    cell(row, e.ids.map(shortId).join(", "));
    cell(row, e.destinations.map((d) => shortId(d.destination)).join(", ") || "—");
    const code = document.createElement("code");
    code.textContent = e.event_id;
    cell(row, code);
  });
  $("exposure-result").hidden = false;
}

async function runRecall(event) {
  event.preventDefault();
  const hold = event.submitter?.value === "hold";
  const reason = $("recall-reason");
  const reasonError = $("recall-reason-error");
  const recallProblem = $("recall-problem");
  const text = reason.value.trim();
  recallProblem.textContent = "";
  $("recall-note").textContent = "";
  if (!text) {
    reason.setAttribute("aria-invalid", "true");
    reasonError.textContent = "A reason is required: it is recorded on the recall and on each hold.";
    reason.focus();
    return;
  }
  reason.removeAttribute("aria-invalid");
  reasonError.textContent = "";
  const buttons = [$("exposure"), $("hold")];
  buttons.forEach((b) => (b.disabled = true));
  try {
    const exposure = await api("/v1/traceability/recalls", {
      method: "POST",
      body: { lots: [lotParam], hold, reason: text },
    });
    showExposure(exposure, hold);
    const lots = exposure.lots.filter((l) => l.lot_id).length;
    if (hold) {
      const made = exposure.holds.filter((h) => h.created).length;
      $("recall-note").textContent =
        `${exposure.holds.length} exposed lots held (${made} placed now, ${exposure.holds.length - made} already on hold).`;
    } else {
      $("recall-note").textContent =
        `Exposed: ${lots} lots, ${exposure.shipments.length} shipments, ${exposure.orders.length} orders, ` +
        `${exposure.customers.length + exposure.parties.length} customers. Nothing was held.`;
    }
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return toLogin();
    if (error instanceof ApiError && error.status === 403) {
      recallProblem.textContent = `Not allowed: ${error.message}`;
    } else {
      const field = error instanceof ApiError && error.fields.find((f) => f.field === "reason");
      recallProblem.textContent = field ? `Reason ${field.reason}.` : error.message;
    }
  } finally {
    buttons.forEach((b) => (b.disabled = false));
  }
}

/* ---------- the ledger proofs ---------- */

/** The ledger entries this lineage names: its EPCIS events, and the checkpoints of its lots. */
async function entriesOf({ up, down, nodes, names }) {
  const entries = new Map();
  for (const t of [up, down]) {
    const events = [...t.edges.flatMap((e) => e.events), ...t.nodes.flatMap((n) => n.custody)];
    for (const ev of events) {
      if (!ev.hash_id || entries.has(ev.hash_id)) continue;
      const step = ev.biz_step ? ` · ${shortId(ev.biz_step).replace(/^BizStep-/, "")}` : "";
      entries.set(ev.hash_id, {
        what: `EPCIS ${ev.event_type}${step}`,
        when: ev.event_time,
        data: ev.hash_id,
        query: `hash_id=${encodeURIComponent(ev.hash_id)}`,
        index: null,
      });
    }
  }
  const lots = [...nodes.values()].filter((n) => n.lot_id);
  const bySubject = new Map(lots.map((n) => [`lots/${n.lot_id}`, n]));
  const subjects = [...bySubject.keys()];
  const found = [];
  for (let i = 0; i < subjects.length; i += 50) {
    // The checkpoints of up to 50 lots in one walk (the ledger's subject filter is repeatable).
    const params = new URLSearchParams(subjects.slice(i, i + 50).map((subject) => ["subject", subject]));
    found.push(...(await allItems(`/v1/ledger/checkpoints?${params}`, { pages: 2 })));
  }
  for (const c of found) {
    const n = bySubject.get(c.subject);
    if (!n) continue;
    entries.set(`seq:${c.seq}`, {
      what: `${c.event_type} of ${names.get(n.id).title}`,
      when: c.recorded_at,
      data: c.leaf ?? `ni:///sha-256;${c.event_hash}`,
      query: `seq=${c.seq}`,
      index: c.seq - 1,
    });
  }
  return [...entries.values()].sort((a, b) => a.when.localeCompare(b.when));
}

async function verifyHead() {
  const [key, signed] = await Promise.all([api("/v1/ledger/public-key"), api("/v1/ledger/tree-head")]);
  const keyId = key.verifier_key.split("+")[1];
  try {
    const head = await openSignedHead(signed.checkpoint, key.verifier_key);
    if (head.size !== signed.tree_size || bytesToHex(head.root) !== signed.root_hash) {
      throw new ProofError("the signed checkpoint says another size or root than the answer around it");
    }
    $("head").textContent =
      `Signed tree head: ${head.size} entries, root ${bytesToHex(head.root).slice(0, 16)}…, ` +
      `signed by ${key.key_name} (key ${keyId}): Verified.`;
    return head;
  } catch (error) {
    // A ProofError says what does not hold; anything else (a browser without Ed25519) is named too.
    $("head").textContent = `Signed tree head: Not verified: ${error.message}.`;
    return { error };
  }
}

async function proveEntry(entry, head, result) {
  try {
    if (head.error) throw new ProofError(`the tree head is not verified (${head.error.message})`);
    const proof = await api(`/v1/ledger/proofs/inclusion?${entry.query}&tree_size=${head.size}`);
    entry.seq = proof.seq;
    await checkInclusion(entry.data, proof, head, entry.index);
    result.textContent = "Verified";
    result.className = "verified";
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return toLogin();
    result.textContent = `Not verified: ${error.message}`;
    result.className = "not-verified";
  }
  return entry;
}

async function loadProofs(lineage) {
  const body = $("checkpoints").querySelector("tbody");
  const proofsProblem = $("proofs-problem");
  body.replaceChildren();
  proofsProblem.textContent = "";
  $("proofs").hidden = false;
  let head;
  let entries;
  try {
    [head, entries] = await Promise.all([verifyHead(), entriesOf(lineage)]);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return toLogin();
    proofsProblem.textContent = `The ledger cannot be read: ${error.message}`;
    $("head").textContent = "";
    return;
  }
  const shown = entries.slice(0, MAX_PROOFS);
  $("no-checkpoints").hidden = entries.length > 0;
  const jobs = shown.map((entry) => {
    const row = document.createElement("tr");
    const seq = cell(row, "…");
    cell(row, entry.what);
    cell(row, timeElement(entry.when));
    const result = document.createElement("span");
    result.textContent = "Checking…";
    cell(row, result);
    body.append(row);
    return proveEntry(entry, head, result).then((e) => (seq.textContent = e?.seq ? `#${e.seq}` : "—"));
  });
  await Promise.all(jobs);
  if (entries.length > shown.length) {
    $("note").textContent = `The first ${shown.length} of ${entries.length} ledger entries were checked.`;
  }
}

$("recall-form").addEventListener("submit", runRecall);
let current = null; // the lineage shown, for "Check again"
$("recheck").addEventListener("click", () => current && loadProofs(current));

async function main() {
  startPage(fail);
  await loadPicker();
  if (!lotParam) {
    note.textContent = "Choose a lot to see where it came from, where it went, and to recall it.";
    return;
  }
  let lineage;
  try {
    lineage = await loadLineage();
  } catch (error) {
    fail(error);
    return;
  }
  $("recall").hidden = false;
  current = lineage;
  await loadProofs(lineage);
}

main();
