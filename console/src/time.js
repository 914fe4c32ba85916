// Times are shown in the viewer's own zone; the UTC instant is on hover (and in datetime=).

const local = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** A <time> element for an ISO instant, or a dash for none. */
export function timeElement(iso) {
  if (!iso) return document.createTextNode("—");
  const at = new Date(iso);
  const el = document.createElement("time");
  el.dateTime = at.toISOString();
  el.title = `${at.toISOString().replace("T", " ").slice(0, 19)} UTC`;
  el.textContent = local.format(at);
  return el;
}

/** Seconds as a short duration: "12 min", "3 h 5 min", "overdue 4 min". */
export function duration(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  const s = Math.abs(Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const text = h ? `${h} h ${m} min` : m ? `${m} min` : `${s % 60} s`;
  return seconds < 0 ? `overdue ${text}` : text;
}
