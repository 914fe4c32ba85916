// What every signed-in view does the same way: say who is logged in, log out, and turn a
// failed call into a message (or, for an ended session, the login page).

import { api, ApiError, toLogin } from "./api.js";

/** Show the error in the page's alert region; a 401 (session ended) goes to the login page. */
export function reporter(region) {
  return (error) => {
    if (error instanceof ApiError && error.status === 401) return toLogin();
    region.textContent = error instanceof ApiError ? error.message : String(error);
  };
}

/** Fill in who is logged in and wire the logout button of the page's bar. */
export async function startPage(fail) {
  document.getElementById("logout").addEventListener("click", async () => {
    try {
      await api("/console/logout", { method: "POST" });
    } finally {
      toLogin();
    }
  });
  try {
    const me = await api("/v1/auth/me");
    document.getElementById("who").textContent = me.principal;
    return me;
  } catch (error) {
    fail(error);
    return null;
  }
}

/** Every item of a list, following the API's cursors (bounded: a picker is not an export). */
export async function allItems(path, { pages = 10, limit = 100 } = {}) {
  const items = [];
  let cursor = null;
  for (let i = 0; i < pages; i += 1) {
    const params = new URLSearchParams({ limit: String(limit) });
    if (cursor) params.set("cursor", cursor);
    const sep = path.includes("?") ? "&" : "?";
    const page = await api(`${path}${sep}${params}`);
    items.push(...page.items);
    cursor = page.next_cursor;
    if (!cursor) break;
  }
  return items;
}

// The API's own rule for a grant (supplyline.kernel.scope.Grant.allows), so a view can leave
// out a part the person may not read instead of asking and being refused. The API still
// decides every call; this only spares a refused request.
const SENSITIVE = new Set(["access", "audit", "commercial", "governance", "integrations", "quotas"]);

/** Whether any of this person's grants allows the action on the resource (tenant-wide only,
 * for reads the API allows only over the whole tenant, like the ledger). */
export function allows(me, resource, action = "read", { wholeTenant = false } = {}) {
  return (me?.grants ?? []).some((g) => {
    if (wholeTenant && g.reach?.kind !== "tenant") return false;
    const p = new Set(g.permissions);
    if (p.has(`${resource}:${action}`) || p.has(`${resource}:*`)) return true;
    return !SENSITIVE.has(resource) && (p.has(`*:${action}`) || p.has("*:*"));
  });
}

// Records named by id, read in batches: the ids a view asks for in one turn of the event loop
// go out as one GET /v1/<kind>?id=…&id=… (at most 100 a request) instead of one request each.
// A record the person may not read is null (the list leaves it out), never an error.
const BATCH = 100;
const known = new Map(); // "kind/id" -> Promise<record | null>
const waiting = new Map(); // kind -> Map(id -> resolve)

async function flush(kind) {
  const asked = waiting.get(kind);
  waiting.delete(kind);
  const ids = [...asked.keys()];
  for (let i = 0; i < ids.length; i += BATCH) {
    const chunk = ids.slice(i, i + BATCH);
    const params = new URLSearchParams([...chunk.map((id) => ["id", id]), ["limit", String(BATCH)], ["include_archived", "true"]]);
    let found = new Map();
    try {
      const page = await api(`/v1/${kind}?${params}`);
      found = new Map(page.items.map((rec) => [rec.id, rec]));
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) toLogin();
    }
    for (const id of chunk) asked.get(id)(found.get(id) ?? null);
  }
}

/** The record of this kind and id, or null when the person may not read it. */
export function recordOf(kind, id) {
  const key = `${kind}/${id}`;
  if (!known.has(key)) {
    known.set(
      key,
      new Promise((resolve) => {
        if (!waiting.has(kind)) {
          waiting.set(kind, new Map());
          setTimeout(() => flush(kind), 0);
        }
        waiting.get(kind).set(id, resolve);
      }),
    );
  }
  return known.get(key);
}
