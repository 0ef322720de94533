// Shared by every page: the JSON API with the logged-in user's token, HTML escaping, and the
// simplified/traditional display toggle (display only: stored text and offsets never change).

const TOKEN = "guji.token";
const USER = "guji.user";
const SCRIPT = "guji.script";

export function esc(s) {
  return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

export const auth = {
  get token() { return sessionStorage.getItem(TOKEN); },
  get user() { try { return JSON.parse(sessionStorage.getItem(USER) || "null"); } catch { return null; } },
  set(token, user) { sessionStorage.setItem(TOKEN, token); sessionStorage.setItem(USER, JSON.stringify(user)); },
  clear() { sessionStorage.removeItem(TOKEN); sessionStorage.removeItem(USER); },
};

export class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `HTTP ${status}`);
    this.status = status; this.code = e.code; this.details = e.details;
  }
}

/** fetch() against the site's own API; JSON in and out; throws ApiError with the server's message. */
export async function api(path, { method = "GET", json, body, headers = {}, accept = "application/json", raw = false } = {}) {
  const h = { Accept: accept, ...headers };
  if (auth.token) h.Authorization = `Bearer ${auth.token}`;
  if (json !== undefined) { h["Content-Type"] = h["Content-Type"] || "application/json"; body = JSON.stringify(json); }
  const res = await fetch(path, { method, headers: h, body });
  if (raw) return res;
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  if (!res.ok) throw new ApiError(res.status, data);
  return { data, etag: res.headers.get("ETag"), status: res.status, headers: res.headers };
}

export async function whoami() {
  if (!auth.token) return null;
  try {
    const { data } = await api("/auth/me");
    auth.set(auth.token, data);
    return data;
  } catch (e) {
    if (e.status === 401) auth.clear();
    return null;
  }
}

/** An annotation's history (GET /annotations/{id}/history) as <li> items. */
export async function historyHtml(id) {
  try {
    const { data } = await api(`/annotations/${id}/history`);
    return data.history.map((h) => `<li>${esc(h.at.replace("T", " ").replace(/(\.\d+)?Z$/, ""))} · ${esc(h.agent_name)} · ${esc(h.action)}${h.reason ? `（${esc(h.reason)}）` : ""}</li>`).join("");
  } catch (e) { return `<li>${esc(e.message)}</li>`; }
}

function showWho(me) {
  const el = document.getElementById("who");
  if (!el) return;
  const next = encodeURIComponent(location.pathname + location.search);
  el.innerHTML = me
    ? `${esc(me.name)}（${esc(me.role)}） <a href="/login?next=${next}">退出 log out</a>`
    : `<a href="/login?next=${next}">登录 <span lang="en">Log in</span></a>`;
}

// -- simplified / traditional display --------------------------------------------------------------

const originals = new WeakMap(); // text node → its original characters
const maps = { hans: {}, hant: {} };
let mode = localStorage.getItem(SCRIPT) || "orig";

export function displayMode() { return mode; }

function textNodes(root) {
  const out = [];
  const roots = root.matches?.(".zh") ? [root] : [...root.querySelectorAll(".zh")];
  for (const r of roots) {
    const walker = document.createTreeWalker(r, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) out.push(n);
  }
  return out;
}

/** Show the characters under `root` (elements with class "zh") in the current mode. */
export async function applyDisplay(root = document.body) {
  const nodes = textNodes(root);
  if (mode !== "orig") {
    const map = maps[mode];
    const missing = new Set();
    for (const n of nodes) {
      for (const c of originals.get(n) ?? n.nodeValue) if (!(c in map)) missing.add(c);
    }
    if (missing.size) {
      const chars = [...missing];
      for (let i = 0; i < chars.length; i += 4000) {
        const { data } = await api("/api/display", { method: "POST", json: { to: mode, chars: chars.slice(i, i + 4000).join("") } });
        for (const c of chars.slice(i, i + 4000)) map[c] = data.map[c] ?? c;
      }
    }
  }
  for (const n of nodes) {
    let orig = originals.get(n);
    if (orig === undefined) { orig = n.nodeValue; originals.set(n, orig); }
    const shown = mode === "orig" ? orig : Array.from(orig, (c) => maps[mode][c] ?? c).join("");
    if (n.nodeValue !== shown) n.nodeValue = shown;
  }
  document.documentElement.dataset.script = mode;
}

export async function setDisplayMode(m) {
  mode = m;
  localStorage.setItem(SCRIPT, m);
  await applyDisplay(document.body);
  document.dispatchEvent(new CustomEvent("guji:display", { detail: { mode } }));
}

function initToggle() {
  const box = document.getElementById("script-toggle");
  if (!box) return;
  for (const input of box.querySelectorAll("input[name=script]")) {
    input.checked = input.value === mode;
    input.addEventListener("change", () => { if (input.checked) setDisplayMode(input.value); });
  }
  if (mode !== "orig") applyDisplay(document.body);
}

initToggle();
whoami().then(showWho);
