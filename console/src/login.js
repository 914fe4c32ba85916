// The login form: posts to /console/login, which sets the HTTP-only session cookie and the
// readable CSRF cookie. Without JavaScript the same form still works as a plain POST.

import { api, ApiError } from "./api.js";

const FIELDS = ["tenant", "email", "password"];
const form = document.getElementById("login-form");
const banner = document.getElementById("login-error");

function showFieldErrors(errors) {
  for (const name of FIELDS) {
    const input = document.getElementById(name);
    const hint = document.getElementById(`${name}-error`);
    const error = errors.find((e) => e.field === name);
    hint.textContent = error ? `${input.labels[0].textContent} ${error.reason}.` : "";
    if (error) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }
}

/** Where to go after logging in: a same-site path from ?next=, else the console's start. */
function nextPage() {
  const next = new URLSearchParams(window.location.search).get("next");
  return next && next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/\\") ? next : "/";
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  banner.textContent = "";
  const values = Object.fromEntries(FIELDS.map((name) => [name, form.elements[name].value.trim()]));
  const missing = FIELDS.filter((name) => !values[name]).map((field) => ({ field, reason: "is required" }));
  showFieldErrors(missing);
  if (missing.length) {
    document.getElementById(missing[0].field).focus();
    return;
  }
  form.setAttribute("aria-busy", "true");
  try {
    await api("/console/login", { method: "POST", form: values });
    window.location.assign(nextPage());
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    showFieldErrors(error.fields);
    banner.textContent =
      error.status === 401 ? "Wrong tenant, e-mail or password." : error.message || "Could not log in.";
    document.getElementById(error.fields[0]?.field || "password").focus();
  } finally {
    form.removeAttribute("aria-busy");
  }
});
