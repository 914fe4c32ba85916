// One shipment: what it carries and where it goes, its temperature and humidity against the
// allowed band of its products (excursions shaded, time out of range summed), its positions
// on a plain projection (no tile server: the map works offline), and one timeline of its
// custody events, alarms, holds and the trail's checkpoints.
//
// Everything is read through /v1 with the person's session. A part this person may not read
// (a carrier has no ledger, say) says so in place; the rest of the page still shows.

import uPlot from "/console/static/vendor/uplot/uPlot.esm.js";
import { api, ApiError } from "./api.js";
import { allItems, allows, recordOf, reporter, startPage } from "./page.js";
import { showMap } from "./route-map.js";
import { duration, timeElement } from "./time.js";

const RAW_LIMIT = 20000; // readings per device and metric: days of one-minute readings
const STATUS = {
  planned: "Planned",
  in_transit: "In transit",
  delivered: "Delivered",
  exception: "Exception",
  cancelled: "Cancelled",
};
const number = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });
const problem = document.getElementById("problem");
const note = document.getElementById("note");
const fail = reporter(problem);
const shipmentId = new URLSearchParams(window.location.search).get("id");
const charts = [];

/** A call whose refusal is shown in its own part of the page rather than stopping the rest. */
async function soft(promise) {
  try {
    return { value: await promise };
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) fail(error);
    return { error };
  }
}

class NotGranted extends Error {}

function why(error) {
  if (error instanceof NotGranted) return "not shown: your role may not read them";
  if (error instanceof ApiError && (error.status === 403 || error.status === 404)) {
    return "not shown: your role may not read it";
  }
  return `not shown: ${error instanceof Error ? error.message : String(error)}`;
}

function fact(list, term, value) {
  const dt = document.createElement("dt");
  dt.textContent = term;
  const dd = document.createElement("dd");
  dd.append(value instanceof Node ? value : document.createTextNode(value ?? "—"));
  list.append(dt, dd);
}

function label(record) {
  if (!record) return null;
  if (record.code && record.name) return `${record.name} (${record.code})`;
  return record.name || record.code || record.number || record.lot_code || null;
}


/** The band every carried product allows: the highest minimum and the lowest maximum. */
async function allowedBand(lots) {
  const found = await Promise.all(lots.map((line) => recordOf("lots", line.lot_id)));
  lots.forEach((line, i) => (line.code = found[i]?.lot_code));
  const productIds = [...new Set(found.map((lot) => lot?.product_id).filter(Boolean))];
  const products = (await Promise.all(productIds.map((id) => recordOf("products", id)))).filter(Boolean);
  const mins = products.map((p) => p.storage_min_c).filter((v) => v !== null && v !== undefined);
  const maxs = products.map((p) => p.storage_max_c).filter((v) => v !== null && v !== undefined);
  return {
    lo: mins.length ? Math.max(...mins) : null,
    hi: maxs.length ? Math.min(...maxs) : null,
    products,
  };
}

function bandText(band) {
  const names = band.products.map((p) => p.name).join(", ");
  if (band.lo === null && band.hi === null) {
    return band.products.length
      ? `No allowed temperature band is set for ${names}.`
      : "The carried products are not readable: no allowed band to compare with.";
  }
  const lo = band.lo === null ? "no minimum" : `${number.format(band.lo)} °C`;
  const hi = band.hi === null ? "no maximum" : `${number.format(band.hi)} °C`;
  return `Allowed band: ${lo} to ${hi} (${names}).`;
}

/** Runs of readings outside the band. A reading outside counts until the next reading of the
 * same device back inside (what a data logger reports); one that never came back counts to the
 * device's last reading and is marked ongoing. Times in milliseconds. */
export function excursionsOf(points, lo, hi) {
  const out = [];
  let current = null;
  for (const [t, v] of points) {
    if (v === null || v === undefined) continue;
    const high = hi !== null && v > hi;
    const low = lo !== null && v < lo;
    if (high || low) {
      if (!current) current = { start: t, end: null, extreme: v, high };
      else if (high ? v > current.extreme : v < current.extreme) current.extreme = v;
    } else if (current) {
      current.end = t;
      out.push(current);
      current = null;
    }
  }
  if (current) {
    current.end = points.at(-1)[0];
    current.ongoing = true;
    out.push(current);
  }
  return out;
}

/** Milliseconds covered by the union of [start, end] spans (two trackers in one excursion
 * count it once). */
export function coveredMs(spans) {
  let total = 0;
  let reach = -Infinity;
  for (const { start, end } of [...spans].sort((a, b) => a.start - b.start)) {
    const from = Math.max(start, reach);
    if (end > from) {
      total += end - from;
      reach = end;
    }
  }
  return total;
}

function seriesOf(telemetry, metric) {
  return telemetry.series.filter((s) => s.metric === metric && s.points && s.points.length);
}

/** uPlot's columns: one time axis (seconds) and a column per device, aligned. */
function columns(series) {
  const times = [...new Set(series.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
  const index = new Map(times.map((t, i) => [t, i]));
  const data = [times.map((t) => t / 1000)];
  for (const s of series) {
    const column = Array(times.length).fill(null);
    for (const [t, v] of s.points) column[index.get(t)] = v;
    data.push(column);
  }
  return data;
}

const PALETTE = ["#0b5394", "#1a1a1a", "#7a4d00", "#5b2a86"];

/** Shaded spans and the allowed band drawn as boxes over the plot (positioned on each draw),
 * so they follow zoom and resize and can be found in the page like any element. */
function overlays(spans, band) {
  return (u) => {
    const over = u.over;
    over.querySelectorAll(".band-box, .excursion").forEach((el) => el.remove());
    if (band && (band.lo !== null || band.hi !== null)) {
      const box = document.createElement("div");
      box.className = "band-box";
      box.setAttribute("aria-hidden", "true");
      const top = band.hi === null ? 0 : Math.max(0, u.valToPos(band.hi, "y"));
      const bottom = band.lo === null ? over.clientHeight : Math.min(over.clientHeight, u.valToPos(band.lo, "y"));
      box.style.top = `${top}px`;
      box.style.height = `${Math.max(0, bottom - top)}px`;
      over.append(box);
    }
    for (const span of spans) {
      const left = Math.max(0, u.valToPos(span.start / 1000, "x"));
      const right = Math.min(over.clientWidth, u.valToPos(span.end / 1000, "x"));
      const shade = document.createElement("div");
      shade.className = span.high ? "excursion excursion-high" : "excursion excursion-low";
      shade.title = `${span.high ? "Above" : "Below"} the band for ${duration((span.end - span.start) / 1000)}`;
      shade.style.left = `${left}px`;
      shade.style.width = `${Math.max(2, right - left)}px`;
      over.append(shade);
    }
  };
}

function chart(box, series, unit, band, spans) {
  const data = columns(series);
  const width = Math.max(320, box.clientWidth || 700);
  const range = (u, min, max) => {
    const lo = Math.min(min ?? 0, band?.lo ?? Infinity);
    const hi = Math.max(max ?? 1, band?.hi ?? -Infinity);
    const pad = Math.max(0.5, (hi - lo) * 0.1);
    return [lo - pad, hi + pad];
  };
  const options = {
    width,
    height: 260,
    scales: { x: { time: true }, y: { range } },
    series: [
      {},
      ...series.map((s, i) => ({
        label: s.device ?? s.device_id.slice(0, 8),
        stroke: PALETTE[i % PALETTE.length],
        width: 2,
        spanGaps: true,
        value: (u, v) => (v === null ? "—" : `${number.format(v)} ${unit}`),
      })),
    ],
    axes: [{ space: 90 }, { label: unit }],
    hooks: { draw: [overlays(spans, band)] },
  };
  box.replaceChildren();
  charts.push(new uPlot(options, data, box));
}

function excursionRow(excursion) {
  const row = document.createElement("tr");
  row.className = excursion.high ? "high" : "low";
  const cells = [
    excursion.device,
    timeElement(new Date(excursion.start).toISOString()),
    excursion.ongoing ? "not yet (last reading still outside)" : timeElement(new Date(excursion.end).toISOString()),
    duration((excursion.end - excursion.start) / 1000),
    `${excursion.high ? "max" : "min"} ${number.format(excursion.extreme)} °C`,
  ];
  for (const value of cells) {
    const td = document.createElement("td");
    td.append(value instanceof Node ? value : document.createTextNode(value));
    row.append(td);
  }
  return row;
}

function showCondition(telemetry, band) {
  document.getElementById("band").textContent = bandText(band);
  const box = document.getElementById("temperature-chart");
  const caption = document.getElementById("temperature-caption");
  const tbody = document.querySelector("#excursions tbody");
  const total = document.getElementById("out-of-range");
  if (telemetry.error) {
    box.replaceChildren();
    caption.textContent = `Readings ${why(telemetry.error)}.`;
    total.textContent = "";
    return;
  }
  const temperature = seriesOf(telemetry.value, "temperature_c");
  const excursions = temperature.flatMap((s) =>
    excursionsOf(s.points, band.lo, band.hi).map((e) => ({ ...e, device: s.device ?? s.device_id })),
  );
  tbody.replaceChildren(...excursions.map(excursionRow));
  document.getElementById("no-excursions").hidden = excursions.length > 0 || !temperature.length;
  const outside = coveredMs(excursions);
  total.textContent = temperature.length
    ? `Cumulative time out of range: ${duration(outside / 1000)} in ${excursions.length} ${excursions.length === 1 ? "excursion" : "excursions"}.`
    : "";
  total.classList.toggle("bad", outside > 0);
  const count = temperature.reduce((n, s) => n + s.points.length, 0);
  const cut = temperature.some((s) => s.truncated) ? ` (the first ${RAW_LIMIT} per device)` : "";
  if (temperature.length) {
    chart(box, temperature, "°C", band, excursions);
    caption.textContent = `${count} temperature readings from ${temperature.length} ${temperature.length === 1 ? "device" : "devices"}${cut}; the allowed band is the green area, excursions are shaded red and listed below.`;
  } else {
    box.replaceChildren();
    caption.textContent = "No temperature readings from this shipment's devices yet.";
  }
  const humidity = seriesOf(telemetry.value, "humidity_pct");
  document.getElementById("humidity-block").hidden = !humidity.length;
  if (humidity.length) {
    chart(document.getElementById("humidity-chart"), humidity, "%", null, []);
    const n = humidity.reduce((m, s) => m + s.points.length, 0);
    document.getElementById("humidity-caption").textContent =
      `${n} humidity readings; the carried products set no humidity band.`;
  }
}

// --- The timeline ---

function shortType(type) {
  return type.replace(/^supplyline\./, "").replace(/\.v\d+$/, "");
}

function eventItem(event) {
  const name = shortType(event.type);
  const d = event.data ?? {};
  if (name === "shipment.created") return { at: event.time, kind: "custody", text: `Shipment created (${STATUS[d.status] ?? d.status ?? "no status"})` };
  if (name === "shipment.updated") return { at: event.time, kind: "custody", text: `Shipment updated: ${STATUS[d.status] ?? d.status ?? "changed"}` };
  if (name === "shipment.temperature_exceeded") {
    return {
      at: d.at ?? event.time,
      kind: "exception",
      text: `Temperature exceeded: ${number.format(d.value)} °C on ${d.device ?? "a device"} (rule ${d.rule_code ?? "?"}, ${d.severity ?? ""})`,
    };
  }
  if (name === "shipment.condition_breached") {
    return { at: d.at ?? event.time, kind: "exception", text: `Condition breached: ${d.metric ?? ""} ${d.value ?? ""} (rule ${d.rule_code ?? "?"})` };
  }
  return { at: event.time, kind: "custody", text: name };
}

function timelineItems({ shipment, events, alarms, holds, checkpoints, sites, devices }) {
  const items = [];
  const site = (key) => label(sites.find((s) => s.key === key)?.site) ?? "—";
  if (shipment.actual_departure_at) items.push({ at: shipment.actual_departure_at, kind: "custody", text: `Departed ${site("origin")}` });
  if (shipment.actual_arrival_at) items.push({ at: shipment.actual_arrival_at, kind: "custody", text: `Arrived at ${site("destination")}` });
  for (const d of shipment.devices ?? []) {
    const code = devices.get(d.device_id) ?? d.device_id.slice(0, 8);
    items.push({ at: d.assigned_at, kind: "custody", text: `Device ${code} assigned` });
    if (d.unassigned_at) items.push({ at: d.unassigned_at, kind: "custody", text: `Device ${code} unassigned` });
  }
  for (const e of events.value ?? []) items.push(eventItem(e));
  for (const a of alarms.value ?? []) {
    items.push({ at: a.raised_at, kind: "alarm", text: `Alarm raised: ${a.type} (${a.severity}) on ${a.originator}` });
    if (a.acknowledged_at) items.push({ at: a.acknowledged_at, kind: "alarm", text: `Alarm ${a.type} acknowledged${a.acknowledged_by ? ` by ${a.acknowledged_by}` : ""}` });
    if (a.cleared_at) items.push({ at: a.cleared_at, kind: "alarm", text: `Alarm ${a.type} cleared` });
  }
  const lotCode = (id) => shipment.lots.find((l) => l.lot_id === id)?.code ?? id.slice(0, 8);
  for (const h of holds.value ?? []) {
    items.push({ at: h.created_at, kind: "hold", text: `Lot ${lotCode(h.lot_id)} held: ${h.reason}` });
    if (h.released_at) items.push({ at: h.released_at, kind: "hold", text: `Lot ${lotCode(h.lot_id)} released by ${h.released_by ?? "?"}: ${h.release_reason ?? ""}` });
  }
  for (const c of checkpoints.value ?? []) {
    items.push({
      at: c.recorded_at,
      kind: "checkpoint",
      text: `Checkpoint ${c.seq} signed: ${shortType(c.event_type)}`,
      hash: c.hash,
    });
  }
  return items.filter((i) => i.at).sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}

const KIND = { custody: "Custody", exception: "Exception", alarm: "Alarm", hold: "Hold", checkpoint: "Checkpoint" };

function showTimeline(parts) {
  const list = document.getElementById("timeline");
  const items = timelineItems(parts);
  list.replaceChildren(
    ...items.map((item) => {
      const li = document.createElement("li");
      li.className = `kind-${item.kind}`;
      const tag = document.createElement("span");
      tag.className = "kind";
      tag.textContent = KIND[item.kind];
      const text = document.createElement("span");
      text.className = "what";
      text.textContent = item.text;
      li.append(timeElement(item.at), " ", tag, " ", text);
      if (item.hash) {
        const code = document.createElement("code");
        code.textContent = item.hash.slice(0, 12);
        code.title = `sha256 ${item.hash}`;
        li.append(" ", code);
      }
      return li;
    }),
  );
  document.getElementById("no-timeline").hidden = items.length > 0;
  const gaps = [
    ["custody events", parts.events],
    ["alarms", parts.alarms],
    ["holds", parts.holds],
    ["trail checkpoints", parts.checkpoints],
  ]
    .filter(([, part]) => part.error)
    .map(([name, part]) => `The ${name} are ${why(part.error)}.`);
  document.getElementById("timeline-gaps").textContent = gaps.join(" ");
}

function showSummary(shipment, sites, carrier, devices) {
  const list = document.getElementById("summary");
  list.replaceChildren();
  const status = document.createElement("span");
  status.className = `status status-${shipment.status}`;
  status.textContent = STATUS[shipment.status] ?? shipment.status;
  fact(list, "Status", status);
  for (const s of sites) fact(list, s.role, label(s.site) ?? "—");
  fact(list, "Carrier", carrier ?? "—");
  fact(list, "Planned departure", timeElement(shipment.planned_departure_at));
  fact(list, "Departed", timeElement(shipment.actual_departure_at));
  fact(list, "Planned arrival", timeElement(shipment.planned_arrival_at));
  fact(list, "Arrived", timeElement(shipment.actual_arrival_at));
  const lots = document.createElement("span");
  shipment.lots.forEach((l, i) => {
    const link = document.createElement("a");
    link.href = `/console/lineage?lot=${encodeURIComponent(l.lot_id)}`;
    link.textContent = l.code ?? l.lot_id.slice(0, 8);
    link.title = "The lot's lineage and recall";
    lots.append(i ? ", " : "", link, `: ${number.format(l.quantity)} ${l.unit}`);
  });
  fact(list, "Lots", shipment.lots.length ? lots : "—");
  const trackers = (shipment.devices ?? []).map((d) => devices.get(d.device_id) ?? d.device_id.slice(0, 8));
  fact(list, "Devices", trackers.join(", ") || "—");
}

let me = null;

async function load() {
  const shipment = await api(`/v1/shipments/${encodeURIComponent(shipmentId)}`);
  document.title = `Shipment ${shipment.number} · supplyline console`;
  document.getElementById("title").textContent = `Shipment ${shipment.number}`;
  const id = shipment.id;
  const subjects = new URLSearchParams([["subject", `shipments/${id}`], ...shipment.lots.map((l) => ["subject", `lots/${l.lot_id}`])]);
  const metrics = new URLSearchParams([
    ["shipment", id],
    ...["temperature_c", "humidity_pct", "lat", "lon"].map((m) => ["metric", m]),
    ["limit", String(RAW_LIMIT)],
  ]);
  const sitesOf = [
    ["origin", "Origin", shipment.origin_site_id],
    ["destination", "Destination", shipment.destination_site_id],
  ];
  const [sites, carrier, band, telemetry, events, alarms, holds, checkpoints] = await Promise.all([
    Promise.all(sitesOf.map(async ([key, role, siteId]) => ({ key, role, site: siteId ? await recordOf("sites", siteId) : null }))),
    shipment.carrier_organization_id ? recordOf("organizations", shipment.carrier_organization_id).then(label) : null,
    allowedBand(shipment.lots),
    soft(api(`/v1/telemetry?${metrics}`)),
    soft(allItems(`/v1/events?${new URLSearchParams({ subject: `shipments/${id}` })}`)),
    soft(allItems(`/v1/alarms?${new URLSearchParams({ shipment_id: id })}`)),
    soft(allItems(`/v1/holds?${new URLSearchParams({ shipment_id: id })}`)),
    allows(me, "ledger", "read", { wholeTenant: true })
      ? soft(allItems(`/v1/ledger/checkpoints?${subjects}`))
      : { error: new NotGranted() },
  ]);
  const devices = new Map();
  for (const s of telemetry.value?.series ?? []) if (s.device) devices.set(s.device_id, s.device);
  await Promise.all(
    (shipment.devices ?? [])
      .filter((d) => !devices.has(d.device_id))
      .map(async (d) => {
        const device = await recordOf("devices", d.device_id);
        if (device?.code) devices.set(d.device_id, device.code);
      }),
  );
  for (const c of charts.splice(0)) c.destroy();
  showSummary(shipment, sites, carrier, devices);
  showCondition(telemetry, band);
  showMap(sites, telemetry, label);
  showTimeline({ shipment, events, alarms, holds, checkpoints, sites, devices });
  return shipment;
}

/** Live: an alarm, hold or shipment event naming this shipment or its lots reloads the page's
 * data (the stream carries only what this person may read). */
function subscribe(shipment) {
  if (!("EventSource" in window)) return;
  const ids = [shipment.id, ...shipment.lots.map((l) => l.lot_id)];
  const stream = new EventSource("/v1/stream?types=alarm.*,lot.*,shipment.*", { withCredentials: true });
  let pending = null;
  stream.onopen = () => (note.textContent = "Live: alarms, holds and custody events appear without reloading.");
  stream.onerror = () => {
    note.textContent = stream.readyState === EventSource.CLOSED ? "Live updates stopped." : "Live updates interrupted; reconnecting…";
  };
  stream.onmessage = (message) => {
    if (!ids.some((id) => message.data.includes(id))) return;
    clearTimeout(pending);
    pending = setTimeout(() => load().catch(fail), 500);
  };
}

async function main() {
  me = await startPage(fail);
  if (!shipmentId) {
    problem.textContent = "No shipment chosen: open one from the shipment list.";
    return;
  }
  try {
    subscribe(await load());
  } catch (error) {
    fail(error);
  }
}

main();
