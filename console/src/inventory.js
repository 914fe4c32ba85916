// Inventory and holds: the positions GET /v1/inventory-positions answers this person (per
// site, product and lot: on hand, held, allocated, sellable), filtered by site, with "Place
// hold" on a lot (POST /v1/holds) and "Release" on a held one (POST /v1/holds/{id}/release).
// Both ask for a reason; after either, every shown position of the lot is read again, so
// held and sellable are the API's at once. Release is offered to everyone: whether the person
// may approve it is the API's answer (403), shown as it says, never guessed here.

import { api, ApiError, toLogin } from "./api.js";
import { recordOf, reporter, startPage } from "./page.js";

const body = document.querySelector("#positions tbody");
const more = document.getElementById("more");
const empty = document.getElementById("empty");
const problem = document.getElementById("problem");
const note = document.getElementById("note");
const filters = document.getElementById("filters");
const siteSelect = document.getElementById("site");
const dialog = document.getElementById("reason-dialog");
const form = document.getElementById("reason-form");
const reason = document.getElementById("reason");
const reasonError = document.getElementById("reason-error");
const dialogProblem = document.getElementById("dialog-problem");
const submit = document.getElementById("reason-submit");
const number = new Intl.NumberFormat(undefined, { maximumFractionDigits: 3 });
let nextCursor = null;
let pending = null; // { mode: "hold" | "release", position, hold, opener }

const fail = reporter(problem);

function label(kind, rec) {
  if (kind === "lots") return rec.lot_code;
  if (kind === "products") return rec.sku && rec.name ? `${rec.name} (${rec.sku})` : rec.name || rec.sku;
  return rec.code && rec.name ? `${rec.name} (${rec.code})` : rec.name || rec.code;
}

function nameOf(kind, id) {
  return recordOf(kind, id).then((rec) => (rec ? label(kind, rec) || null : null));
}

function cell(row, content, className) {
  const td = document.createElement("td");
  if (className) td.className = className;
  td.append(content instanceof Node ? content : document.createTextNode(content ?? "—"));
  row.append(td);
  return td;
}

function named(row, kind, id) {
  const td = cell(row, id ? "…" : "—");
  if (id) nameOf(kind, id).then((name) => (td.textContent = name ?? "—"));
  return td;
}

function quantity(value, unit) {
  return `${number.format(value)} ${unit}`;
}

/** The active hold of each lot among these positions (one per lot), by lot id: one request
 * for up to 100 lots (a lot has at most one active hold). */
async function activeHolds(positions) {
  const lots = [...new Set(positions.filter((p) => p.lot_id && p.held > 0).map((p) => p.lot_id))];
  const found = new Map();
  for (let i = 0; i < lots.length; i += 100) {
    const chunk = lots.slice(i, i + 100);
    const params = new URLSearchParams([["status", "active"], ...chunk.map((lot) => ["lot_id", lot]), ["limit", "100"]]);
    const page = await api(`/v1/holds?${params}`);
    for (const hold of page.items) found.set(hold.lot_id, hold);
  }
  return found;
}

function actionButton(text, name, onClick) {
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = text;
  button.setAttribute("aria-label", name);
  button.addEventListener("click", () => onClick(button));
  return button;
}

function render(position, hold) {
  const row = document.createElement("tr");
  row.dataset.id = position.id;
  if (position.lot_id) row.dataset.lot = position.lot_id;
  named(row, "sites", position.site_id);
  named(row, "products", position.product_id);
  const lotCell = named(row, "lots", position.lot_id);
  cell(row, quantity(position.on_hand, position.unit), "num");
  cell(row, quantity(position.held, position.unit), "num held");
  cell(row, quantity(position.allocated, position.unit), "num");
  cell(row, quantity(position.sellable, position.unit), "num sellable");
  const actions = cell(row, "");
  if (position.lot_id) {
    nameOf("lots", position.lot_id).then((code) => {
      const lot = code ?? "this lot";
      const button = hold
        ? actionButton("Release", `Release hold on lot ${lot}`, (b) => ask("release", position, hold, lot, b))
        : actionButton("Place hold", `Place hold on lot ${lot}`, (b) => ask("hold", position, null, lot, b));
      actions.replaceChildren(button);
    });
  } else {
    lotCell.textContent = "no lot";
  }
  if (hold) row.classList.add("on-hold");
  return row;
}

async function renderAll(positions) {
  const holds = await activeHolds(positions);
  return positions.map((p) => render(p, holds.get(p.lot_id)));
}

function query(cursor) {
  const params = new URLSearchParams();
  for (const [key, value] of new FormData(filters)) if (value) params.set(key, value);
  if (cursor) params.set("cursor", cursor);
  return `/v1/inventory-positions?${params}`;
}

async function load({ append = false } = {}) {
  problem.textContent = "";
  try {
    const page = await api(query(append ? nextCursor : null));
    const rows = await renderAll(page.items);
    if (!append) body.replaceChildren();
    body.append(...rows);
    nextCursor = page.next_cursor;
    more.hidden = !nextCursor;
    empty.hidden = body.children.length > 0;
  } catch (error) {
    fail(error);
  }
}

/** Read again every shown position of a lot: a hold counts all of the lot's stock as held. */
async function refreshLot(lotId) {
  const rows = [...body.querySelectorAll("tr[data-lot]")].filter((r) => r.dataset.lot === lotId);
  const positions = await Promise.all(rows.map((r) => api(`/v1/inventory-positions/${r.dataset.id}`)));
  const fresh = await renderAll(positions);
  rows.forEach((row, i) => row.replaceWith(fresh[i]));
  return fresh;
}

function ask(mode, position, hold, lot, opener) {
  pending = { mode, position, hold, opener };
  const verb = mode === "hold" ? "Place hold" : "Release hold";
  document.getElementById("reason-title").textContent = `${verb} on lot ${lot}`;
  document.getElementById("reason-lot").textContent =
    mode === "hold"
      ? "All of the lot's stock counts as held, at every site, until the hold is released."
      : "The lot returns to sellable stock. Releasing needs a role that approves hold releases.";
  submit.textContent = verb;
  reason.value = "";
  reason.removeAttribute("aria-invalid");
  reasonError.textContent = "";
  dialogProblem.textContent = "";
  dialog.showModal();
  reason.focus();
}

function close() {
  dialog.close();
  const opener = pending?.opener;
  pending = null;
  if (opener?.isConnected) opener.focus();
}

async function send(event) {
  event.preventDefault();
  if (!pending) return;
  const text = reason.value.trim();
  if (!text) {
    reason.setAttribute("aria-invalid", "true");
    reasonError.textContent = "A reason is required.";
    reason.focus();
    return;
  }
  const { mode, position, hold } = pending;
  submit.disabled = true;
  dialogProblem.textContent = "";
  try {
    if (mode === "hold") {
      await api("/v1/holds", { method: "POST", body: { lot_id: position.lot_id, reason: text } });
    } else {
      await api(`/v1/holds/${hold.id}/release`, { method: "POST", body: { reason: text } });
    }
    dialog.close();
    pending = null;
    const fresh = await refreshLot(position.lot_id);
    note.textContent = mode === "hold" ? "Hold placed: the lot's stock is held." : "Hold released: the lot is sellable again.";
    fresh.find((r) => r.dataset.id === position.id)?.querySelector("button")?.focus();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return toLogin();
    const field = error.fields.find((f) => f.field === "reason");
    if (field) {
      reason.setAttribute("aria-invalid", "true");
      reasonError.textContent = `Reason ${field.reason}.`;
    } else if (error instanceof ApiError && error.status === 403) {
      const what = mode === "hold" ? "placed" : "released";
      dialogProblem.textContent = `Not ${what}: you may not ${mode === "hold" ? "hold lots" : "approve hold releases"} (${error.message}).`;
    } else {
      dialogProblem.textContent = error.message;
    }
  } finally {
    submit.disabled = false;
  }
}

async function loadSites() {
  try {
    const page = await api("/v1/sites?limit=200");
    for (const site of page.items) {
      const option = document.createElement("option");
      option.value = site.id;
      option.textContent = label("sites", site);
      siteSelect.append(option);
    }
  } catch (error) {
    fail(error);
  }
}

form.addEventListener("submit", send);
document.getElementById("reason-cancel").addEventListener("click", close);
dialog.addEventListener("cancel", () => (pending = null));
filters.addEventListener("change", () => load());
more.addEventListener("click", () => load({ append: true }));

startPage(fail);
loadSites();
load();
