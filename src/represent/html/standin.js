// The browsable API's script: it talks to the API itself with fetch and JSON
// bodies. Every value it puts into the page goes through textContent (it
// never parses markup), so that records cannot inject any.
"use strict";

const JSON_HEADERS = { Accept: "application/json" };

function el(tag, text, attributes) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, value);
  return node;
}

async function readProblem(response) {
  try { return await response.json(); } catch (_) { return {}; }
}

function describe(response, problem) {
  const head = `${response.status} ${problem.title || response.statusText}`;
  // problem+json's detail, or the `message` of an OpenAPI document's own error shape.
  const detail = problem.detail || (typeof problem.message === "string" ? problem.message : "");
  return detail ? `${head}: ${detail}` : head;
}

// "View JSON": the same URL asked for as application/json.
function rawJson() {
  const button = document.querySelector("[data-raw-json]");
  const pre = document.getElementById("raw-json");
  if (!button || !pre) return;
  button.addEventListener("click", async () => {
    const open = button.getAttribute("aria-expanded") === "true";
    if (open) {
      pre.hidden = true;
      button.setAttribute("aria-expanded", "false");
      button.textContent = "View JSON";
      return;
    }
    // The admin page's JSON is its health.
    const admin = document.querySelector("[data-admin]");
    const href = admin ? `${admin.dataset.admin}/health` : location.href;
    const token = sessionStorage.getItem("standin-admin-token");
    const headers = admin && token ? { ...JSON_HEADERS, Authorization: `Bearer ${token}` } : JSON_HEADERS;
    const response = await fetch(href, { headers });
    const text = await response.text();
    let shown = text;
    try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch (_) { /* as sent */ }
    pre.textContent = `GET ${new URL(href, location.href).pathname}${admin ? "" : location.search}  →  ${response.status}\n${shown}`;
    pre.hidden = false;
    button.setAttribute("aria-expanded", "true");
    button.textContent = "Hide JSON";
  });
}

// The filter form leaves out empty fields (the API refuses empty values) and starts at page 1.
function filters() {
  const form = document.querySelector("form[data-standin-filters]");
  if (!form) return;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const query = new URLSearchParams();
    for (const [name, value] of new FormData(form)) {
      if (String(value).trim() !== "") query.append(name, String(value).trim());
    }
    const text = query.toString();
    location.assign(form.getAttribute("action") + (text ? `?${text}` : ""));
  });
}

// The JSON value of a control, converted by its data-type.
function valueOf(control) {
  const text = control.value.trim();
  if (text === "") return null;
  switch (control.dataset.type) {
    case "integer":
    case "number": {
      const number = Number(text);
      return Number.isFinite(number) ? number : text;
    }
    case "boolean": return text === "true";
    case "json": try { return JSON.parse(text); } catch (_) { return text; }
    default: return text;
  }
}

function changed(control) {
  if (control.tagName === "SELECT") {
    return Array.from(control.options).some((option) => option.selected !== option.defaultSelected);
  }
  return control.value !== control.defaultValue;
}

function clearErrors(form) {
  for (const node of form.querySelectorAll("[data-error-for]")) node.textContent = "";
  for (const node of form.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
}

function showProblem(form, response, problem) {
  const status = form.querySelector(".status");
  const general = form.querySelector('[data-error-for=""]');
  let first = null;
  for (const error of problem.errors || []) {
    const name = String(error.field || "").split("/")[0];
    const slot = Array.from(form.querySelectorAll("[data-error-for]"))
      .find((node) => node.dataset.errorFor === name && name !== "");
    const control = form.elements.namedItem(name);
    if (slot) {
      slot.textContent = slot.textContent ? `${slot.textContent}; ${error.message}` : String(error.message);
      if (control && control.setAttribute) control.setAttribute("aria-invalid", "true");
      first = first || control;
    } else {
      general.textContent += `${name ? name + " " : ""}${error.message}. `;
    }
  }
  if (response.status === 412) {
    general.textContent = "412 Precondition Failed: this record changed since the page was loaded. " +
      "Reload the page to see it, then edit again.";
  } else if (!problem.errors || problem.errors.length === 0) {
    general.textContent = describe(response, problem);
  }
  status.textContent = `Not saved (${response.status}).`;
  status.className = "status bad";
  if (first && first.focus) first.focus();
}

// Create (POST) and edit (PATCH with If-Match) forms.
function forms() {
  for (const form of document.querySelectorAll("form[data-standin-form]")) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(form);
      const method = form.dataset.standinForm;
      const body = {};
      for (const control of form.querySelectorAll("[name]")) {
        if (method === "PATCH") {
          if (changed(control)) body[control.name] = valueOf(control);
        } else if (control.value.trim() !== "") {
          body[control.name] = valueOf(control);
        }
      }
      const headers = { ...JSON_HEADERS, "Content-Type": "application/json" };
      if (method === "PATCH" && form.dataset.etag) headers["If-Match"] = form.dataset.etag;
      const status = form.querySelector(".status");
      status.textContent = "Saving…";
      status.className = "status";
      let response;
      try {
        response = await fetch(form.dataset.action, { method, headers, body: JSON.stringify(body) });
      } catch (error) {
        status.textContent = `Not sent: ${error}`;
        return;
      }
      if (!response.ok) {
        showProblem(form, response, await readProblem(response));
        return;
      }
      if (method === "PATCH") {
        sessionStorage.setItem("standin-flash", `Saved (${response.status}).`);
        location.reload();
        return;
      }
      const record = await response.json().catch(() => ({}));
      const location_ = response.headers.get("Location");
      const created = document.querySelector("[data-created]");
      created.replaceChildren();
      const message = el("p", `Created (${response.status}): `, { class: "ok", role: "status" });
      if (location_) message.append(el("a", location_, { href: location_ }));
      created.append(message, el("pre", JSON.stringify(record, null, 2)));
      created.hidden = false;
      status.textContent = "";
      form.reset();
    });
  }
}

// Delete, then show what a GET of the record answers now (410 or 404).
function deletion() {
  const button = document.querySelector("[data-standin-delete]");
  if (!button) return;
  button.addEventListener("click", async () => {
    if (!confirm("Delete this record?")) return;
    const href = button.dataset.standinDelete;
    const status = document.querySelector("[data-delete-status]");
    const response = await fetch(href, { method: "DELETE", headers: JSON_HEADERS });
    if (!response.ok) {
      status.textContent = describe(response, await readProblem(response));
      status.className = "bad";
      return;
    }
    const after = await fetch(href, { headers: JSON_HEADERS });
    const problem = await readProblem(after);
    status.textContent = `Deleted (${response.status}). GET now answers ${describe(after, problem)}`;
    status.className = "ok";
    button.disabled = true;
    for (const form of document.querySelectorAll("form[data-standin-form]")) {
      for (const control of form.elements) control.disabled = true;
    }
  });
}

// Take an action (POST to its URI), then show the record as it is now.
function actions() {
  const status = document.querySelector("[data-action-status]");
  for (const button of document.querySelectorAll("[data-standin-action]")) {
    button.addEventListener("click", async () => {
      const response = await fetch(button.dataset.standinAction, { method: "POST", headers: JSON_HEADERS });
      if (!response.ok) {
        status.textContent = describe(response, await readProblem(response));
        status.className = "bad";
        return;
      }
      sessionStorage.setItem("standin-flash", `${button.textContent}: done (${response.status})`);
      location.reload();
    });
  }
}

function flash() {
  const message = sessionStorage.getItem("standin-flash");
  if (!message) return;
  sessionStorage.removeItem("standin-flash");
  const status = document.querySelector("#edit-form .status");
  if (status) {
    status.textContent = message;
    status.className = "status ok";
  }
}

// The admin page: health, the journal refreshed every 2 seconds, reset.
function admin() {
  const root = document.querySelector("[data-admin]");
  if (!root) return;
  const base = root.dataset.admin;
  const token = document.getElementById("admin-token");
  token.value = sessionStorage.getItem("standin-admin-token") || "";
  token.addEventListener("change", () => { sessionStorage.setItem("standin-admin-token", token.value); refresh(); });
  const status = root.querySelector("[data-admin-status]");
  const headers = () => token.value ? { ...JSON_HEADERS, Authorization: `Bearer ${token.value}` } : JSON_HEADERS;
  async function call(path, method) {
    const response = await fetch(`${base}/${path}`, { method: method || "GET", headers: headers() });
    if (!response.ok) throw new Error(describe(response, await readProblem(response)));
    return response.status === 204 ? null : response.json();
  }
  async function refresh() {
    try {
      const health = await call("health");
      root.querySelector("[data-admin-health]").textContent = JSON.stringify(health, null, 2);
      const requests = await call("requests");
      const rows = requests.slice(-200).reverse().map((entry) => {
        const row = el("tr");
        const path = entry.query ? `${entry.path}?${entry.query}` : entry.path;
        row.append(el("td", String(entry.sequence)), el("td", entry.time), el("td", entry.method),
          el("td", path), el("td", String(entry.status), { class: "number" }),
          el("td", String(entry.duration_ms), { class: "number" }));
        return row;
      });
      root.querySelector("[data-admin-requests]").replaceChildren(...rows);
    } catch (error) {
      status.textContent = error.message;
      status.className = "bad";
    }
  }
  root.querySelector("[data-admin-reset]").addEventListener("click", async () => {
    try {
      const report = await call("reset", "POST");
      status.textContent = `Reset in ${report.took_ms} ms.`;
      status.className = "ok";
      refresh();
    } catch (error) {
      status.textContent = error.message;
      status.className = "bad";
    }
  });
  root.querySelector("[data-admin-clear]").addEventListener("click", async () => {
    await call("requests", "DELETE").catch((error) => { status.textContent = error.message; });
    refresh();
  });
  const live = root.querySelector("[data-admin-live]");
  setInterval(() => { if (live.checked) refresh(); }, 2000);
  refresh();
}

document.addEventListener("DOMContentLoaded", () => {
  rawJson();
  filters();
  forms();
  deletion();
  actions();
  flash();
  admin();
});
