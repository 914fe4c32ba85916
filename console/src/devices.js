// Devices and sites: the health of the person's devices (GET /v1/telemetry/health, a page of
// devices with when each was last heard from, its battery, clock skew, refused messages and
// credential age in one call per page, "Load more" on its cursor), filtered by site, kind and
// silence; and onboarding from a file (POST /v1/imports, JSON or a CSV of one section) with a
// progress bar through read, check, upload and import, then a report per section or per row.

import { ApiError, CSRF_COOKIE, api, cookie, toLogin } from "./api.js";
import { allItems, recordOf, reporter, startPage } from "./page.js";
import { duration, timeElement } from "./time.js";

const body = document.querySelector("#devices tbody");
const more = document.getElementById("more");
const empty = document.getElementById("empty");
const problem = document.getElementById("problem");
const note = document.getElementById("note");
const filters = document.getElementById("filters");
const siteSelect = document.getElementById("site");
const sites = new Map(); // site id -> Promise of its name (null when not readable)
const number = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });
const UNITS = { battery_v: "V", battery_pct: "%" };
const SKEW_WARN_S = 300; // the server's default SUPPLYLINE_CLOCK_SKEW_THRESHOLD_S
let nextCursor = null;

const fail = reporter(problem);

function siteLabel(site) {
  return site.code && site.name ? `${site.name} (${site.code})` : site.name || site.code;
}

function siteName(id) {
  if (!sites.has(id)) {
    sites.set(
      id,
      recordOf("sites", id).then((site) => (site ? site.name || site.code || null : null)),
    );
  }
  return sites.get(id);
}

function cell(row, content, className) {
  const td = document.createElement("td");
  if (className) td.className = className;
  td.append(content instanceof Node ? content : document.createTextNode(content ?? "—"));
  row.append(td);
  return td;
}

/** Seconds as an age a person reads at a glance: "40 s", "3 h 5 min", "12 days". */
function age(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  const days = Math.floor(seconds / 86400);
  if (days >= 2) return `${days} days`;
  return duration(seconds);
}

function health(device) {
  if (device.silent) return { text: "Silent", className: "status-bad" };
  if (device.last_seen_at === null) return { text: "Never seen", className: "status-muted" };
  return { text: "Reporting", className: "status-ok" };
}

function battery(reading) {
  if (!reading) return "—";
  const span = document.createElement("span");
  span.textContent = `${number.format(reading.value)} ${UNITS[reading.metric] ?? ""}`.trim();
  span.title = `${reading.metric} at ${new Date(reading.at_ms).toISOString().replace("T", " ").slice(0, 19)} UTC`;
  return span;
}

function skew(seconds) {
  if (seconds === null || seconds === undefined) return { text: "—" };
  if (Math.abs(seconds) < 2) return { text: "In sync" };
  const text = `${seconds > 0 ? "ahead" : "behind"} ${duration(Math.abs(seconds))}`;
  return { text, className: Math.abs(seconds) > SKEW_WARN_S ? "status-warn" : "" };
}

function refusals(device) {
  if (!device.rejected) return "0";
  const reasons = Object.entries(device.rejections)
    .sort((a, b) => b[1].count - a[1].count)
    .map(([reason, r]) => `${reason}: ${r.count}`)
    .join(", ");
  return lines(String(device.rejected), reasons);
}

function credential(device) {
  if (!("credentials" in device)) return "Not shown to you";
  const c = device.credentials;
  if (!c.active) return "None active";
  const text = `${age(c.newest_age_s)}${c.active > 1 ? ` (${c.active} active, rotating)` : ""}`;
  const span = document.createElement("span");
  span.textContent = text;
  span.title = `Issued ${new Date(c.newest_created_at).toISOString().replace("T", " ").slice(0, 19)} UTC`;
  return span;
}

function lines(first, second) {
  const frag = document.createDocumentFragment();
  frag.append(first instanceof Node ? first : document.createTextNode(first));
  if (second) {
    const small = document.createElement("span");
    small.className = "sub";
    small.textContent = second;
    frag.append(small);
  }
  return frag;
}

function render(device) {
  const row = document.createElement("tr");
  row.dataset.device = device.device;
  const code = document.createElement("span");
  code.className = "code";
  code.textContent = device.device;
  cell(row, lines(code, device.name));
  cell(row, device.kind);
  const place = cell(row, lines(device.site_id ? "…" : device.asset ? "no site" : "—", device.asset));
  if (device.site_id) {
    siteName(device.site_id).then((name) => (place.firstChild.textContent = name ?? "—"));
  }
  const status = health(device);
  cell(row, status.text, `status ${status.className}`);
  cell(row, timeElement(device.last_seen_at), "seen");
  cell(row, battery(device.battery), "num nowrap");
  const clock = skew(device.clock_skew_s);
  cell(row, clock.text, clock.className);
  cell(row, refusals(device), device.rejected ? "num status-warn" : "num");
  const late = cell(row, String(device.late ?? 0), device.late ? "num status-warn" : "num");
  late.title = "Readings received more than 10 minutes after their own time (a backlog)";
  cell(row, credential(device));
  return row;
}

function query(cursor) {
  const params = new URLSearchParams({ limit: "100" });
  for (const [key, value] of new FormData(filters)) if (value) params.set(key, value);
  if (cursor) params.set("cursor", cursor);
  return `/v1/telemetry/health?${params}`;
}

async function load({ append = false } = {}) {
  problem.textContent = "";
  more.disabled = true;
  try {
    const page = await api(query(append ? nextCursor : null));
    if (!append) body.replaceChildren();
    body.append(...page.items.map(render));
    nextCursor = page.next_cursor;
    more.hidden = !nextCursor;
    empty.hidden = body.children.length > 0;
    note.textContent = `${body.children.length} device${body.children.length === 1 ? "" : "s"} shown${nextCursor ? "; more to load" : ""}.`;
  } catch (error) {
    fail(error);
  } finally {
    more.disabled = false;
  }
}

async function loadSites() {
  try {
    const all = await allItems("/v1/sites");
    const chosen = siteSelect.value;
    siteSelect.replaceChildren(siteSelect.options[0]);
    for (const site of all) {
      sites.set(site.id, Promise.resolve(site.name || site.code));
      const option = document.createElement("option");
      option.value = site.id;
      option.textContent = siteLabel(site);
      siteSelect.append(option);
    }
    siteSelect.value = chosen;
    return all;
  } catch (error) {
    fail(error);
    return [];
  }
}

// ---- onboarding ---------------------------------------------------------------------------

const form = document.getElementById("onboard");
const fileInput = document.getElementById("file");
const fileError = document.getElementById("file-error");
const csvKind = document.getElementById("csv-kind");
const button = document.getElementById("import");
const progress = document.getElementById("progress");
const phase = document.getElementById("phase");
const report = document.getElementById("report");
// Where each phase ends on the bar: reading and checking are quick, uploading is measured,
// importing is one transaction on the server (the bar waits at its start until the answer).
const READ_END = 10;
const CHECK_END = 15;
const UPLOAD_END = 85;

function step(value, text) {
  progress.value = value;
  progress.textContent = `${Math.round(value)}%`;
  phase.textContent = text;
}

function readFile(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onprogress = (e) => {
      if (e.lengthComputable) step((e.loaded / e.total) * READ_END, `Reading ${file.name}…`);
    };
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(new Error(`${file.name} could not be read`));
    reader.readAsText(file);
  });
}

function isCsv(file) {
  return /\.csv$/i.test(file.name) || file.type === "text/csv";
}

/** POST the file with XMLHttpRequest: fetch cannot report upload progress. */
function upload(path, text, contentType) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    xhr.setRequestHeader("Content-Type", contentType);
    xhr.setRequestHeader("Accept", "application/json");
    const csrf = cookie(CSRF_COOKIE);
    if (csrf) xhr.setRequestHeader("X-CSRF-Token", csrf);
    xhr.setRequestHeader("Idempotency-Key", crypto.randomUUID());
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) {
        const share = e.loaded / e.total;
        step(CHECK_END + share * (UPLOAD_END - CHECK_END), `Uploading: ${Math.round(share * 100)}%`);
      }
    };
    xhr.upload.onload = () => step(UPLOAD_END, "Importing: the server checks every row and writes them in one transaction…");
    xhr.onload = () => {
      let data = {};
      try {
        data = xhr.responseText ? JSON.parse(xhr.responseText) : {};
      } catch {
        data = { title: xhr.responseText.slice(0, 200) };
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else reject(new ApiError(xhr.status, data && typeof data === "object" ? data : {}));
    };
    xhr.onerror = () => reject(new Error("the upload failed: no answer from the server"));
    xhr.send(text);
  });
}

/** "assets.17.site" -> { section: "assets", row: "row 18", field: "site" } (CSV: the line). */
function place(path, csv) {
  const parts = path.split(".");
  if (parts.length >= 2 && /^\d+$/.test(parts[1])) {
    const n = Number(parts[1]);
    return { section: parts[0], row: csv ? `line ${n}` : `row ${n + 1}`, field: parts.slice(2).join(".") || "—" };
  }
  if (/^\d+$/.test(parts[0])) return { section: "—", row: `line ${parts[0]}`, field: parts.slice(1).join(".") || "—" };
  return { section: parts[0] === "body" ? "—" : parts[0], row: "whole file", field: parts.slice(1).join(".") || "—" };
}

function table(caption, headings, rows) {
  const t = document.createElement("table");
  const cap = document.createElement("caption");
  cap.textContent = caption;
  const head = document.createElement("tr");
  for (const h of headings) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = h;
    head.append(th);
  }
  t.append(cap, document.createElement("thead"), document.createElement("tbody"));
  t.tHead.append(head);
  for (const values of rows) {
    const tr = document.createElement("tr");
    for (const v of values) {
      const td = document.createElement("td");
      td.textContent = String(v);
      tr.append(td);
    }
    t.tBodies[0].append(tr);
  }
  return t;
}

function heading(text, className) {
  const h = document.createElement("h3");
  h.textContent = text;
  if (className) h.className = className;
  return h;
}

function showCreated(file, answer) {
  const created = Object.entries(answer.created);
  const total = created.reduce((n, [, count]) => n + count, 0);
  report.className = "report report-ok";
  report.replaceChildren(
    heading(`Imported: ${total} row${total === 1 ? "" : "s"} from ${file.name}, in one transaction`),
    table(
      "Rows created per section",
      ["Section", "Rows created"],
      created.map(([section, count]) => [section, count]),
    ),
  );
}

function showRefused(file, error, csv) {
  const rows = error.fields.map((f) => {
    const at = place(f.field, csv);
    return [at.section, at.row, at.field, f.reason];
  });
  const p = document.createElement("p");
  p.textContent =
    "Nothing was imported: the file is written whole or not at all. Fix these rows and import the file again.";
  report.className = "report report-bad";
  report.replaceChildren(
    heading(`Refused: ${file.name} has ${rows.length || 1} problem${rows.length === 1 ? "" : "s"}`),
    p,
    rows.length
      ? table("Refused rows", ["Section", "Row", "Field", "Reason"], rows)
      : document.createTextNode(error.message),
  );
}

async function onboard(event) {
  event.preventDefault();
  const file = fileInput.files[0];
  fileInput.removeAttribute("aria-invalid");
  fileError.textContent = "";
  if (!file) {
    fileInput.setAttribute("aria-invalid", "true");
    fileError.textContent = "Choose a JSON or CSV file.";
    fileInput.focus();
    return;
  }
  button.disabled = true;
  report.hidden = true;
  const csv = isCsv(file);
  try {
    step(0, `Reading ${file.name}…`);
    const text = await readFile(file);
    step(READ_END, "Checking the file…");
    if (!csv) {
      try {
        JSON.parse(text);
      } catch (e) {
        throw new ApiError(422, { detail: `${file.name} is not valid JSON: ${e.message}`, errors: [] });
      }
    }
    step(CHECK_END, "Uploading…");
    const kind = csvKind.value;
    const path = csv && kind ? `/v1/imports?kind=${encodeURIComponent(kind)}` : "/v1/imports";
    const answer = await upload(path, text, csv ? "text/csv" : "application/json");
    step(100, "Done: every row was imported.");
    showCreated(file, answer);
    await loadSites();
    load();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return toLogin();
    step(100, "Done: the file was refused; nothing was imported.");
    if (error instanceof ApiError) showRefused(file, error, csv);
    else {
      report.className = "report report-bad";
      report.replaceChildren(heading(`Not imported: ${error.message}`));
    }
  } finally {
    button.disabled = false;
    report.hidden = false;
    report.focus();
  }
}

form.addEventListener("submit", onboard);
filters.addEventListener("change", () => load());
more.addEventListener("click", () => load({ append: true }));

startPage(fail);
loadSites();
load();
