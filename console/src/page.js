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
