// The planning view of one product at one site: the latest forecast with its 80% and 95%
// bands and how it was made, the planner's overrides beside it, and a replenishment
// recommendation with its reasons (held stock, lead-time risk). Everything comes from /v1:
// GET /v1/forecasts, /v1/demand, /v1/forecast-overrides; POST /v1/forecasts/runs and
// /v1/replenishment/recommendations.

import uPlot from "/console/static/vendor/uplot/uPlot.esm.js";
import { api } from "./api.js";
import { allItems, reporter, startPage } from "./page.js";
import { timeElement } from "./time.js";

const form = document.getElementById("series");
const product = document.getElementById("product");
const site = document.getElementById("site");
const grain = document.getElementById("grain");
const problem = document.getElementById("problem");
const status = document.getElementById("status");
const chartBox = document.getElementById("chart");
const fail = reporter(problem);
const HISTORY_PERIODS = 90;
const number = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
let chart = null;

function option(value, text) {
  const el = document.createElement("option");
  el.value = value;
  el.textContent = text;
  return el;
}

function fact(list, term, value) {
  const dt = document.createElement("dt");
  dt.textContent = term;
  const dd = document.createElement("dd");
  dd.append(value instanceof Node ? value : document.createTextNode(value ?? "—"));
  list.append(dt, dd);
}

function cells(row, values) {
  for (const value of values) {
    const td = document.createElement("td");
    td.append(value instanceof Node ? value : document.createTextNode(value ?? "—"));
    row.append(td);
  }
}

function selected() {
  return { product: product.value, site: site.value, grain: grain.value };
}

/** Keep the choice in the address, so a view can be linked and reloaded. */
function remember() {
  const params = new URLSearchParams(selected());
  history.replaceState(null, "", `${window.location.pathname}?${params}`);
}

async function pickers() {
  const wanted = new URLSearchParams(window.location.search);
  const [products, sites] = await Promise.all([allItems("/v1/products"), allItems("/v1/sites")]);
  product.replaceChildren(...products.map((p) => option(p.id, `${p.sku} · ${p.name}`)));
  site.replaceChildren(...sites.map((s) => option(s.id, `${s.code} · ${s.name}`)));
  if (wanted.get("product")) product.value = wanted.get("product");
  if (wanted.get("site")) site.value = wanted.get("site");
  if (wanted.get("grain")) grain.value = wanted.get("grain");
  return products.length > 0 && sites.length > 0;
}

function days(iso) {
  return Date.parse(`${iso}T00:00:00Z`) / 1000;
}

function showProvenance(run) {
  const list = document.getElementById("provenance");
  list.replaceChildren();
  const cls = run.adi === null ? run.demand_class : `${run.demand_class} (ADI ${number.format(run.adi)}, CV² ${number.format(run.cv2 ?? 0)})`;
  fact(list, "Model", `${run.model} · ${run.library}`);
  fact(list, "Demand class", cls);
  fact(list, "Bands", `${run.levels.join("% and ")}% · ${run.band_method}`);
  fact(list, "Input", `${run.input.points} ${run.grain === "week" ? "weeks" : "days"} ${run.input.start ?? "—"} … ${run.input.end ?? "—"}`);
  const fingerprint = document.createElement("code");
  fingerprint.textContent = run.input.fingerprint.slice(0, 16);
  fingerprint.title = `sha256 ${run.input.fingerprint}`;
  fact(list, "Input fingerprint", fingerprint);
  fact(list, "Triggered by", run.trigger);
  const when = document.createElement("span");
  when.append(timeElement(run.started_at), ` · ${number.format(run.duration_ms)} ms`);
  fact(list, "Run", when);
}

function showPoints(points) {
  const body = document.querySelector("#points tbody");
  body.replaceChildren(
    ...points.map((p) => {
      const row = document.createElement("tr");
      const f = p.final ?? p;
      cells(row, [
        p.ds,
        number.format(p.mean),
        number.format(f.mean),
        `${number.format(f.lo80)} – ${number.format(f.hi80)}`,
        `${number.format(f.lo95)} – ${number.format(f.hi95)}`,
        (p.reason_codes ?? []).join(", ") || "—",
      ]);
      return row;
    }),
  );
}

function draw(history, points) {
  const seen = history.points.filter((p) => !points.length || p.ds < points[0].ds);
  const xs = [...seen.map((p) => days(p.ds)), ...points.map((p) => days(p.ds))];
  const gap = (n) => Array(n).fill(null);
  const final = (key) => points.map((p) => (p.final ?? p)[key]);
  const data = [
    xs,
    [...seen.map((p) => p.y), ...gap(points.length)],
    [...gap(seen.length), ...points.map((p) => p.mean)],
    [...gap(seen.length), ...final("mean")],
    [...gap(seen.length), ...final("hi95")],
    [...gap(seen.length), ...final("lo95")],
    [...gap(seen.length), ...final("hi80")],
    [...gap(seen.length), ...final("lo80")],
  ];
  const band = (label, colour) => ({ label, stroke: colour, width: 1 });
  const options = {
    width: Math.max(320, chartBox.clientWidth || 700),
    height: 288,
    scales: { x: { time: true } },
    series: [
      {},
      { label: "Demand", stroke: "#1a1a1a", width: 2 },
      { label: "Statistical", stroke: "#0b5394", width: 2 },
      { label: "Final", stroke: "#b45309", width: 2, dash: [6, 4] },
      band("95% high", "rgba(11, 83, 148, 0.35)"),
      band("95% low", "rgba(11, 83, 148, 0.35)"),
      band("80% high", "rgba(11, 83, 148, 0.6)"),
      band("80% low", "rgba(11, 83, 148, 0.6)"),
    ],
    bands: [
      { series: [4, 5], fill: "rgba(11, 83, 148, 0.12)" },
      { series: [6, 7], fill: "rgba(11, 83, 148, 0.22)" },
    ],
    axes: [{}, { label: history.unit ?? "" }],
  };
  chart?.destroy();
  chartBox.replaceChildren();
  chart = new uPlot(options, data, chartBox);
  chartBox.setAttribute("role", "img");
  const last = points.at(-1);
  chartBox.setAttribute(
    "aria-label",
    points.length
      ? `Forecast chart: ${seen.length} periods of demand seen, ${points.length} forecast up to ${last.ds}; the values are in the table below.`
      : `Demand chart: ${seen.length} periods seen, no forecast.`,
  );
}

async function showForecast() {
  const { product: p, site: s, grain: g } = selected();
  let forecast = null;
  try {
    forecast = await api(`/v1/forecasts?${new URLSearchParams({ product: p, site: s, grain: g })}`);
  } catch (error) {
    if (error.status !== 404) throw error;
  }
  document.getElementById("no-forecast").hidden = forecast !== null;
  document.getElementById("provenance").replaceChildren();
  const points = forecast?.points ?? [];
  if (forecast) showProvenance(forecast.run);
  showPoints(points);
  const end = points.length ? points[0].ds : new Date().toISOString().slice(0, 10);
  const span = g === "week" ? 7 * 26 : HISTORY_PERIODS;
  const start = new Date(Date.parse(`${end}T00:00:00Z`) - span * 86400000).toISOString().slice(0, 10);
  const history = await api(`/v1/demand?${new URLSearchParams({ product: p, site: s, grain: g, start, end })}`);
  draw(history, points);
}

function change(o) {
  const sign = o.value >= 0 ? "+" : "";
  if (o.kind === "set") return `set to ${number.format(o.value)}`;
  if (o.kind === "percent") return `${sign}${number.format(o.value)}%`;
  return `${sign}${number.format(o.value)}`;
}

async function showOverrides() {
  const { product: p, site: s } = selected();
  const page = await api(`/v1/forecast-overrides?${new URLSearchParams({ product: p, site: s, limit: "50" })}`);
  const body = document.querySelector("#overrides tbody");
  body.replaceChildren(
    ...page.items.map((o) => {
      const row = document.createElement("tr");
      cells(row, [`${o.starts_on} … ${o.ends_on}`, change(o), o.reason_code, o.note, o.status, o.created_by]);
      return row;
    }),
  );
  document.getElementById("no-overrides").hidden = page.items.length > 0;
}

async function recommend(event) {
  event?.preventDefault();
  problem.textContent = "";
  const { product: p, site: s } = selected();
  const body = {
    product_id: p,
    site_id: s,
    cycle_service_level: Number(document.getElementById("csl").value),
    horizon_days: Number(document.getElementById("horizon").value),
  };
  try {
    const r = await api("/v1/replenishment/recommendations", { method: "POST", body });
    const total = r.orders.reduce((sum, o) => sum + o.quantity, 0);
    document.getElementById("order").textContent = r.orders.length
      ? `Order ${number.format(total)} ${r.unit} on ${r.orders[0].order_date} (arrives ${r.orders[0].expected_arrival})`
      : "No order needed now";
    const stock = document.getElementById("stock");
    stock.replaceChildren();
    fact(stock, "Sellable", `${number.format(r.sellable)} ${r.unit}`);
    fact(stock, "Held", `${number.format(r.held)} ${r.unit}`);
    fact(stock, "Allocated", `${number.format(r.allocated)} ${r.unit}`);
    fact(stock, "On order", `${number.format(r.on_order)} ${r.unit}`);
    fact(stock, "Safety stock", `${number.format(r.safety_stock)} ${r.unit}`);
    fact(stock, "Reorder point", `${number.format(r.reorder_point)} ${r.unit}`);
    fact(stock, "Expected service", `cycle ${(r.expected_cycle_service_level * 100).toFixed(1)}% · fill rate ${(r.expected_fill_rate * 100).toFixed(1)}%`);
    fact(stock, "Lead time", `${number.format(r.lead_time.mean_days)} ± ${number.format(r.lead_time.sd_days)} days (${r.lead_time.source})`);
    const reasons = document.getElementById("reasons");
    reasons.replaceChildren(
      ...r.reasons.map((text) => {
        const li = document.createElement("li");
        li.textContent = text;
        if (text.startsWith("held stock")) li.className = "held";
        return li;
      }),
    );
    document.getElementById("recommendation").hidden = false;
    status.textContent = "Recommendation updated.";
  } catch (error) {
    fail(error);
  }
}

async function forecastNow() {
  const button = document.getElementById("run");
  button.disabled = true;
  problem.textContent = "";
  status.textContent = "Forecasting…";
  try {
    const { product: p, site: s, grain: g } = selected();
    await api("/v1/forecasts/runs", { method: "POST", body: { product_id: p, site_id: s, grain: g } });
    await showForecast();
    status.textContent = "Forecast updated.";
  } catch (error) {
    status.textContent = "";
    fail(error);
  } finally {
    button.disabled = false;
  }
}

async function refresh() {
  problem.textContent = "";
  remember();
  try {
    await Promise.all([showForecast(), showOverrides()]);
    if (!document.getElementById("recommendation").hidden) await recommend();
  } catch (error) {
    fail(error);
  }
}

async function main() {
  await startPage(fail);
  try {
    if (!(await pickers())) {
      status.textContent = "No product or site in your reach.";
      return;
    }
  } catch (error) {
    fail(error);
    return;
  }
  form.addEventListener("change", refresh);
  document.getElementById("run").addEventListener("click", forecastNow);
  document.getElementById("recommend").addEventListener("submit", recommend);
  await refresh();
}

main();
