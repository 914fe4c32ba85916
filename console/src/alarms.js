// The alarm list: newest first, paged with the API's cursors, refreshed as alarm events arrive
// on the server-sent event stream, with acknowledge on each unacknowledged alarm.

import { api } from "./api.js";
import { reporter, startPage } from "./page.js";
import { duration, timeElement } from "./time.js";

const body = document.querySelector("#alarms tbody");
const more = document.getElementById("more");
const empty = document.getElementById("empty");
const problem = document.getElementById("problem");
const live = document.getElementById("live");
const filters = document.getElementById("filters");
let nextCursor = null;

function query(cursor) {
  const params = new URLSearchParams();
  for (const [key, value] of new FormData(filters)) {
    if (key === "status" && value === "active") params.set("active", "true");
    else if (value) params.set(key, value);
  }
  if (cursor) params.set("cursor", cursor);
  return `/v1/alarms?${params}`;
}

function cell(row, content, className) {
  const td = document.createElement("td");
  if (className) td.className = className;
  td.append(content instanceof Node ? content : document.createTextNode(content ?? "—"));
  row.append(td);
  return td;
}

function statusText(alarm) {
  const [active, ack] = alarm.status.split("_");
  return `${active === "active" ? "Active" : "Cleared"}, ${ack === "ack" ? "acknowledged" : "not acknowledged"}`;
}

function slaText(sla) {
  if (!sla || sla.remaining_s === null) return "—";
  return sla.breached ? duration(sla.remaining_s) : `${duration(sla.remaining_s)} left`;
}

function ackButton(alarm) {
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = "Acknowledge";
  button.setAttribute("aria-label", `Acknowledge ${alarm.type} on ${alarm.originator}`);
  button.addEventListener("click", () => acknowledge(alarm, button));
  return button;
}

function shipmentLink(alarm) {
  const link = document.createElement("a");
  link.href = `/console/shipment?id=${encodeURIComponent(alarm.shipment_id)}`;
  link.textContent = "Open shipment";
  link.setAttribute("aria-label", `Open the shipment of ${alarm.type} on ${alarm.originator}`);
  return link;
}

function render(alarm) {
  const row = document.createElement("tr");
  row.dataset.id = alarm.id;
  const severity = document.createElement("span");
  severity.className = `severity severity-${alarm.severity}`;
  severity.textContent = alarm.severity;
  cell(row, severity);
  cell(row, alarm.type);
  cell(row, alarm.originator);
  cell(row, alarm.shipment_id ? shipmentLink(alarm) : "—");
  cell(row, statusText(alarm));
  cell(row, alarm.assignee || "unassigned");
  cell(row, slaText(alarm.sla), alarm.sla?.breached ? "breached" : "");
  cell(row, alarm.escalation_level ? `level ${alarm.escalation_level}` : "—");
  cell(row, timeElement(alarm.raised_at));
  const actions = cell(row, alarm.status.endsWith("_unack") ? ackButton(alarm) : "", "actions");
  actions.append(manageButton(alarm));
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

function manageButton(alarm) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "secondary";
  button.textContent = "Manage";
  button.setAttribute("aria-label", `Manage ${alarm.type} on ${alarm.originator}`);
  button.addEventListener("click", () => openManage(alarm.id));
  return button;
}

// --- Assign, comment and clear, in a dialog over the list ---

const manage = document.getElementById("manage");
const manageProblem = document.getElementById("manage-problem");
const manageFail = reporter(manageProblem);
let managed = null; // the alarm the dialog is about

function showManaged(alarm) {
  managed = alarm;
  document.getElementById("manage-title").textContent = `${alarm.type} on ${alarm.originator}`;
  document.getElementById("manage-state").textContent =
    `${statusText(alarm)} · owner ${alarm.assignee || "unassigned"} · ${alarm.severity}`;
  document.getElementById("assignee").value = alarm.assignee ?? "";
  document.getElementById("clear").disabled = !alarm.active;
  const list = document.getElementById("comments");
  list.replaceChildren(
    ...(alarm.comments ?? []).map((c) => {
      const li = document.createElement("li");
      li.append(timeElement(c.created_at), ` ${c.author ?? ""}: ${c.text}`);
      return li;
    }),
  );
  document.getElementById("no-comments").hidden = list.children.length > 0;
  body.querySelector(`tr[data-id="${alarm.id}"]`)?.replaceWith(render(alarm));
}

async function openManage(id) {
  manageProblem.textContent = "";
  try {
    showManaged(await api(`/v1/alarms/${id}`));
    manage.showModal();
  } catch (error) {
    fail(error);
  }
}

async function change(path, body, done) {
  manageProblem.textContent = "";
  try {
    await api(`/v1/alarms/${managed.id}/${path}`, { method: "POST", body });
    showManaged(await api(`/v1/alarms/${managed.id}`));
    live.textContent = done;
  } catch (error) {
    manageFail(error);
  }
}

document.getElementById("assign-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const assignee = document.getElementById("assignee").value.trim() || null;
  change("assign", { assignee }, assignee ? `Assigned to ${assignee}.` : "Unassigned.");
});
document.getElementById("unassign").addEventListener("click", () => change("assign", { assignee: null }, "Unassigned."));
document.getElementById("comment-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = document.getElementById("comment");
  if (!text.value.trim()) {
    manageProblem.textContent = "Write a comment first.";
    return text.focus();
  }
  await change("comments", { text: text.value }, "Comment added.");
  if (!manageProblem.textContent) text.value = "";
});
document.getElementById("clear-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const reason = document.getElementById("clear-reason").value.trim() || null;
  change("clear", { reason }, "Alarm cleared.");
});

async function acknowledge(alarm, button) {
  button.disabled = true;
  try {
    const updated = await api(`/v1/alarms/${alarm.id}/acknowledge`, { method: "POST" });
    const row = body.querySelector(`tr[data-id="${alarm.id}"]`);
    row?.replaceWith(render(updated));
    live.textContent = `Acknowledged ${alarm.type} on ${alarm.originator}.`;
  } catch (error) {
    button.disabled = false;
    fail(error);
  }
}

/** Live updates: any alarm event reloads the first page (the browser resumes the stream from
 * the last event id by itself after a reconnect). A refused reconnect (the session ended)
 * closes the stream for good; asking who we are then sends the person to the login page. */
function subscribe() {
  if (!("EventSource" in window)) return;
  const stream = new EventSource("/v1/stream?types=alarm.*", { withCredentials: true });
  let pending = null;
  stream.onopen = () => (live.textContent = "Live: new alarms appear without reloading.");
  stream.onerror = () => {
    if (stream.readyState === EventSource.CLOSED) {
      live.textContent = "Live updates stopped.";
      api("/v1/auth/me").catch(fail); // an ended session: the login page
    } else {
      live.textContent = "Live updates interrupted; reconnecting…";
    }
  };
  stream.onmessage = () => {
    clearTimeout(pending);
    pending = setTimeout(() => load(), 300);
  };
}

filters.addEventListener("change", () => load());
more.addEventListener("click", () => load({ append: true }));

startPage(fail);
load();
subscribe();
