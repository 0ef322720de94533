// The entity page's neighbourhood graph: the resource in the middle, what it links to and what
// links to it around it (read with the page, ReadModel.links), each node a link to its own page;
// the same links as a list for keyboard and screen-reader use.
import { applyDisplay, esc } from "./common.js";

const article = document.querySelector("article.entity");
const svg = document.getElementById("graph");
const listEl = document.getElementById("graph-list");
const NS = "http://www.w3.org/2000/svg";

function local(iri) { return decodeURIComponent(String(iri).replace(/[/#]$/, "").split(/[/#]/).pop() || iri); }
function short(s, n = 10) { s = String(s); return s.length > n ? `${s.slice(0, n)}…` : s; }
function node(tag, attrs, parent) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  parent.appendChild(e);
  return e;
}

async function draw() {
  const iri = article.dataset.iri;
  const all = JSON.parse(document.getElementById("links-data").textContent);
  const data = { edges: all, label: article.dataset.name };
  const edges = data.edges.slice(0, 24);
  const R = 165;
  edges.forEach((e, i) => {
    const a = (2 * Math.PI * i) / Math.max(1, edges.length) - Math.PI / 2;
    e.x = Math.round(R * Math.cos(a)); e.y = Math.round(R * Math.sin(a) * 0.9);
  });
  for (const e of edges) {
    node("line", { x1: 0, y1: 0, x2: e.x, y2: e.y, class: "gedge" }, svg);
    const t = node("text", { x: e.x / 2, y: e.y / 2 - 3, class: "glabel", "text-anchor": "middle" }, svg);
    t.textContent = `${e.out ? "" : "← "}${local(e.predicate)}${e.count ? ` ×${e.count}` : ""}${e.out ? " →" : ""}`;
  }
  const center = node("g", { class: "gnode center" }, svg);
  node("circle", { cx: 0, cy: 0, r: 30 }, center);
  const ct = node("text", { x: 0, y: 4, "text-anchor": "middle", class: "zh" }, center);
  ct.textContent = short(data.label || local(iri), 6);
  for (const e of edges) {
    const a = node("a", { href: e.url || `/entity?iri=${encodeURIComponent(e.iri)}` }, svg);
    const g = node("g", { class: "gnode" }, a);
    node("circle", { cx: e.x, cy: e.y, r: 20 }, g);
    const t = node("text", { x: e.x, y: e.y + 34, "text-anchor": "middle", class: "zh" }, g);
    t.textContent = short(e.label || local(e.iri));
    const title = node("title", {}, a);
    title.textContent = `${e.label || ""} ${e.iri}`;
  }
  listEl.innerHTML = edges.map((e) => `<li>${e.out ? "" : "← "}<code>${esc(local(e.predicate))}</code>${e.out ? " →" : ""}
    <a href="${esc(e.url || `/entity?iri=${encodeURIComponent(e.iri)}`)}" class="zh">${esc(e.label || local(e.iri))}</a>${e.count ? ` ×${e.count}` : ""}</li>`).join("")
    + (data.edges.length > edges.length ? `<li class="small">… ${data.edges.length - edges.length} more</li>` : "");
  svg.dataset.nodes = String(edges.length + 1);
  applyDisplay(article);
}

draw();
