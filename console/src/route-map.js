// A shipment's route on a plain equirectangular projection of the box around its sites and
// its trackers' positions, with a graticule for orientation and scale: no map tiles, so it
// works offline. The places are also a list, the map's text alternative. ``label`` names a site.

import { timeElement } from "./time.js";

const SVG = "http://www.w3.org/2000/svg";
const number = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });

/** A label's place beside a mark: to its right, or to its left in the right part of the map
 * (so it is not cut at the edge). */
function beside(px, width) {
  return px > width * 0.6 ? { x: px - 10, "text-anchor": "end" } : { x: px + 10 };
}

function svg(name, attributes, text) {
  const el = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) el.setAttribute(key, String(value));
  if (text !== undefined) el.textContent = text;
  return el;
}

function tracks(telemetry) {
  if (telemetry.error) return [];
  const byDevice = new Map();
  for (const s of telemetry.value.series) {
    if (s.metric !== "lat" && s.metric !== "lon") continue;
    const entry = byDevice.get(s.device_id) ?? { device: s.device ?? s.device_id, lat: new Map(), lon: new Map() };
    for (const [t, v] of s.points ?? []) entry[s.metric].set(t, v);
    byDevice.set(s.device_id, entry);
  }
  return [...byDevice.values()]
    .map((d) => ({
      device: d.device,
      points: [...d.lat.keys()]
        .filter((t) => d.lon.has(t))
        .sort((a, b) => a - b)
        .map((t) => ({ t, lat: d.lat.get(t), lon: d.lon.get(t) })),
    }))
    .filter((d) => d.points.length);
}

export function showMap(sites, telemetry, label) {
  const map = document.getElementById("map");
  const places = document.getElementById("places");
  const caption = document.getElementById("map-caption");
  map.replaceChildren();
  places.replaceChildren();
  const located = sites.filter((s) => s.site && typeof s.site.latitude === "number" && typeof s.site.longitude === "number");
  const paths = tracks(telemetry);
  const all = [...located.map((s) => ({ lat: s.site.latitude, lon: s.site.longitude })), ...paths.flatMap((p) => p.points)];
  for (const s of sites) {
    const li = document.createElement("li");
    const where = s.site && typeof s.site.latitude === "number"
      ? `${number.format(s.site.latitude)}, ${number.format(s.site.longitude)}`
      : "no coordinates";
    li.textContent = `${s.role}: ${label(s.site) ?? "not readable"} (${where})`;
    places.append(li);
  }
  for (const p of paths) {
    const last = p.points.at(-1);
    const li = document.createElement("li");
    li.append(`Last position of ${p.device}: ${number.format(last.lat)}, ${number.format(last.lon)} at `, timeElement(new Date(last.t).toISOString()));
    places.append(li);
  }
  if (!all.length) {
    caption.textContent = "No positions or site coordinates to draw.";
    map.append(svg("text", { x: 320, y: 180, "text-anchor": "middle", class: "map-empty" }, "No positions yet"));
    return;
  }
  const W = 640;
  const H = 360;
  const PAD = 36;
  let [south, north] = [Math.min(...all.map((p) => p.lat)), Math.max(...all.map((p) => p.lat))];
  let [west, east] = [Math.min(...all.map((p) => p.lon)), Math.max(...all.map((p) => p.lon))];
  const k = Math.cos((((south + north) / 2) * Math.PI) / 180) || 1; // a degree of longitude, in degrees of latitude
  const minSpan = 0.05;
  if (north - south < minSpan) [south, north] = [(south + north) / 2 - minSpan / 2, (south + north) / 2 + minSpan / 2];
  if ((east - west) * k < minSpan) [west, east] = [(west + east) / 2 - minSpan / (2 * k), (west + east) / 2 + minSpan / (2 * k)];
  const scale = Math.min((W - 2 * PAD) / ((east - west) * k), (H - 2 * PAD) / (north - south));
  const cx = (west + east) / 2;
  const cy = (south + north) / 2;
  const x = (lon) => W / 2 + (lon - cx) * k * scale;
  const y = (lat) => H / 2 - (lat - cy) * scale;
  map.append(svg("rect", { x: 0, y: 0, width: W, height: H, class: "map-bg" }));
  // A graticule at round steps: orientation and scale without any tiles.
  const STEPS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 30];
  const stepFor = (span) => STEPS.find((s) => span / s <= 6) ?? 45;
  const latSpan = H / scale;
  const lonSpan = W / (k * scale);
  const latStep = stepFor(latSpan);
  const lonStep = stepFor(lonSpan);
  for (let i = Math.ceil((cy - latSpan / 2) / latStep); i * latStep <= cy + latSpan / 2; i += 1) {
    const lat = i * latStep;
    map.append(svg("line", { x1: 0, x2: W, y1: y(lat), y2: y(lat), class: "graticule" }));
    map.append(svg("text", { x: 4, y: y(lat) - 3, class: "graticule-label" }, `${number.format(lat)}°`));
  }
  for (let i = Math.ceil((cx - lonSpan / 2) / lonStep); i * lonStep <= cx + lonSpan / 2; i += 1) {
    const lon = i * lonStep;
    map.append(svg("line", { x1: x(lon), x2: x(lon), y1: 0, y2: H, class: "graticule" }));
    map.append(svg("text", { x: x(lon) + 3, y: H - 4, class: "graticule-label" }, `${number.format(lon)}°`));
  }
  for (const p of paths) {
    map.append(svg("polyline", { points: p.points.map((q) => `${x(q.lon).toFixed(1)},${y(q.lat).toFixed(1)}`).join(" "), class: "track" }));
    const last = p.points.at(-1);
    map.append(svg("circle", { cx: x(last.lon), cy: y(last.lat), r: 7, class: "last" }));
    map.append(svg("text", { ...beside(x(last.lon), W), y: y(last.lat) + 4, class: "map-label" }, `${p.device} (last)`));
  }
  for (const s of located) {
    const px = x(s.site.longitude);
    const py = y(s.site.latitude);
    map.append(svg("rect", { x: px - 6, y: py - 6, width: 12, height: 12, class: `site site-${s.key}` }));
    map.append(svg("text", { ...beside(px, W), y: py - 8, class: "map-label" }, `${s.role}: ${s.site.code ?? s.site.name}`));
  }
  const count = paths.reduce((n, p) => n + p.points.length, 0);
  caption.textContent = `Plain projection, no map tiles: ${located.length} of ${sites.length} sites with coordinates and ${count} positions; the places are listed below.`;
}

