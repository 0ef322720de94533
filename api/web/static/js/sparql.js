// The SPARQL console: Yasgui (@zazuko/yasgui from npm, served by guji) against this site's own
// /sparql endpoint, with the example queries; a plain editor and result table when the npm bundle
// is not installed. Nothing is fetched from elsewhere: no endpoint catalogue, no LOV look-ups.
import { esc } from "./common.js";

const box = document.getElementById("console");
const examples = JSON.parse(document.getElementById("examples-data").textContent);
const endpoint = new URL(box.dataset.endpoint, location.href).href;
let run;

if (box.dataset.editor === "yasgui" && window.Yasgui) {
  const Y = window.Yasgui;
  const yasgui = new Y(box, {
    requestConfig: { endpoint, method: "POST", acceptHeaderSelect: "application/sparql-results+json" },
    copyEndpointOnNewTab: false,
    endpointCatalogueOptions: { getData: () => [{ endpoint }], keys: [] },
    populateFromUrl: false,
    persistenceId: "guji-sparql",
    yasqe: { autocompleters: ["prefixes", "variables"], resizeable: true, editorHeight: "320px" },
    yasr: { defaultPlugin: "table" },
  });
  window.gujiYasgui = yasgui;
  const tab = yasgui.getTab();
  tab.setEndpoint?.(endpoint);
  run = (query) => {
    const t = yasgui.getTab();
    t.setEndpoint?.(endpoint);
    t.setQuery(query);
    return t.query();
  };
  yasgui.on("queryResponse", () => { box.dataset.state = "done"; });
  if (!tab.getQuery()?.trim() || /dbpedia|wikidata/i.test(tab.getQuery())) tab.setQuery(examples[0].query);
} else {
  const area = document.getElementById("plain-query");
  const statusEl = document.getElementById("plain-status");
  const out = document.getElementById("plain-results");
  area.value = examples[0].query;
  run = async (query) => {
    if (query !== undefined) area.value = query;
    statusEl.textContent = "查询中… running";
    box.dataset.state = "running";
    const t0 = performance.now();
    const res = await fetch(endpoint, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/sparql-results+json" },
      body: new URLSearchParams({ query: area.value }) });
    const data = await res.json().catch(() => null);
    if (!res.ok) {
      statusEl.textContent = `错误 error: ${data?.error?.message || res.status}`;
      out.innerHTML = "";
      box.dataset.state = "error";
      return;
    }
    if ("boolean" in data) { out.innerHTML = `<p>${data.boolean}</p>`; }
    else {
      const vars = data.head.vars;
      const rows = data.results.bindings;
      out.innerHTML = `<table><thead><tr>${vars.map((v) => `<th scope="col">${esc(v)}</th>`).join("")}</tr></thead><tbody>${
        rows.map((r) => `<tr>${vars.map((v) => `<td>${r[v] ? (r[v].type === "uri" ? `<a href="/entity?iri=${encodeURIComponent(r[v].value)}">${esc(r[v].value)}</a>` : esc(r[v].value)) : ""}</td>`).join("")}</tr>`).join("")
      }</tbody></table>`;
      statusEl.textContent = `${rows.length} 行 rows · ${(performance.now() - t0).toFixed(0)} ms`;
    }
    box.dataset.state = "done";
  };
  document.getElementById("plain-run").addEventListener("click", () => run());
  area.addEventListener("keydown", (ev) => { if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); run(); } });
}

for (const b of document.querySelectorAll("button.example")) {
  b.addEventListener("click", () => {
    const ex = examples.find((e) => e.id === b.dataset.example);
    box.dataset.state = "running";
    box.dataset.example = ex.id;
    // Yasgui shows a failed query (syntax error, time limit) in its result pane; nothing to add here
    Promise.resolve(run(ex.query)).catch(() => { box.dataset.state = "error"; });
  });
}
