// Book and work pages: the reading view of one juan with its approved annotations.
import { api } from "./common.js";
import { Reader } from "./reader.js";
import { AnnotationPopup } from "./popup.js";

const el = document.getElementById("reader");
const status = document.getElementById("reader-status");
const juan = el.dataset.juan;
const params = new URLSearchParams(location.search);
const highlights = (params.get("hl") || "").split(",").filter(Boolean).map((p) => p.split("-").map(Number)).filter((p) => p.length === 2);

const reader = new Reader(el);
window.gujiReader = reader; // for the browser tests and the curious

async function load() {
  status.textContent = "载入中… loading";
  const t0 = performance.now();
  const { data } = await api(`/api/reading?iri=${encodeURIComponent(juan)}`);
  const fetched = performance.now();
  const stats = reader.render(data, { spans: data.spans, highlights });
  await reader.display();
  stats.fetchMs = fetched - t0;
  stats.readyMs = performance.now(); // since the navigation started: page, data and render
  window.gujiRender = stats;
  status.textContent = `${stats.chars} 字 chars · ${stats.annotations} 标注 annotations · 渲染 render ${stats.renderMs.toFixed(0)} ms`;
  el.dataset.ready = "true";
  goToHash();
}

function goToHash() {
  const h = decodeURIComponent(location.hash.slice(1));
  if (/^o\d+$/.test(h)) reader.scrollTo(Number(h.slice(1)));
  else if (h.startsWith("f-")) document.getElementById(h)?.scrollIntoView({ block: "start" });
}

new AnnotationPopup(reader, document.getElementById("popup"), status);
document.getElementById("show-annotations")?.addEventListener("change", (ev) => el.classList.toggle("hide-ann", !ev.target.checked));
document.getElementById("vertical")?.addEventListener("change", (ev) => el.classList.toggle("vertical", ev.target.checked));
window.addEventListener("hashchange", goToHash);
load().catch((e) => { status.textContent = `载入失败 failed: ${e.message}`; el.dataset.ready = "error"; });
