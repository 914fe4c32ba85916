// Every call the console makes goes through here: same-origin cookies, JSON, the CSRF token
// on changes, and one shape for errors so a page can name the field a problem is about.

export const CSRF_COOKIE = "sl_csrf";
export const LOGIN_PAGE = "/console/login";

/** The value of a cookie the page may read (the CSRF cookie is readable on purpose). */
export function cookie(name) {
  for (const part of document.cookie.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return null;
}

/** A failed call: the HTTP status, the problem+json title and its per-field errors. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
    this.fields = Array.isArray(problem.errors) ? problem.errors : [];
  }
}

/**
 * Call the API. GETs carry only the session cookie; any other method also carries
 * X-CSRF-Token (the server refuses a cookie-session change without it) and an
 * Idempotency-Key, so a retried click does not act twice.
 */
export async function api(path, { method = "GET", body, form } = {}) {
  const headers = { Accept: "application/json" };
  let payload;
  if (form !== undefined) {
    headers["Content-Type"] = "application/x-www-form-urlencoded";
    payload = new URLSearchParams(form).toString();
  } else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  if (method !== "GET" && method !== "HEAD") {
    const csrf = cookie(CSRF_COOKIE);
    if (csrf) headers["X-CSRF-Token"] = csrf;
    if (path.startsWith("/v1/")) headers["Idempotency-Key"] = crypto.randomUUID();
  }
  const response = await fetch(path, { method, headers, body: payload, credentials: "same-origin" });
  const text = await response.text();
  const data = text ? parseJson(text) : null;
  if (!response.ok) throw new ApiError(response.status, data && typeof data === "object" ? data : {});
  return data;
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return { title: text.slice(0, 200) };
  }
}

/** Send a person to the login page when their session has ended (401). */
export function toLogin() {
  const here = window.location.pathname + window.location.search;
  window.location.assign(`${LOGIN_PAGE}?next=${encodeURIComponent(here)}`);
}
