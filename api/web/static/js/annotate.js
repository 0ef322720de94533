// The annotator: open a juan, see machine suggestions, select a span character by character
// (code points, no word segmentation), pick a category, search or create an authority record,
// save a draft (W3C Web Annotation, POST /annotations/), submit it for review, follow its history.
// Suggested relations (任职, 上下级 …) between suggested spans are listed beside the suggested
// entities; accepting one saves a relation annotation (motivation linking) between two entity
// annotations, creating entity drafts for ends not annotated yet. Both lists take the keyboard:
// ↑/↓ move, A or Enter accepts, R or Delete rejects (a rejected suggestion is hidden on this juan).

import { api, applyDisplay, esc, historyHtml, whoami } from "./common.js";
import { CATEGORY_LABELS, Reader } from "./reader.js";
import { AnnotationPopup } from "./popup.js";

const ANNO = "http://www.w3.org/ns/anno.jsonld";
const LD = 'application/ld+json; profile="http://www.w3.org/ns/anno.jsonld"';
const SUGGESTION_CATEGORY = { PER: "person", LOC: "place", OFI: "office", DATE: "era", BOOK: "book-title" };

const root = document.getElementById("annotator");
const juan = root.dataset.juan;
const el = document.getElementById("reader");
const status = document.getElementById("reader-status");
const form = document.getElementById("annotation-form");
const formStatus = document.getElementById("form-status");
const startInput = document.getElementById("sel-start");
const endInput = document.getElementById("sel-end");
const selText = document.getElementById("sel-text");
const authQ = document.getElementById("auth-q");
const authResults = document.getElementById("auth-results");
const authChosen = document.getElementById("auth-chosen");
const mineList = document.getElementById("mine");
const suggList = document.getElementById("suggestions");
const relList = document.getElementById("relations");
const relStatus = document.getElementById("rel-status");
const REJECTED_KEY = `guji-rejected-suggestions:${juan}`;

const reader = new Reader(el);
const state = { me: null, approved: [], mine: [], suggestions: [], relations: [], relSpans: [], sel: null, caret: 0, anchor: null, authority: null, authAuto: true };
window.gujiAnnotator = { reader, state };

// -- selection -----------------------------------------------------------------------------------

function setSelection(start, end, { fromInputs = false } = {}) {
  const n = reader.cps.length;
  start = Math.max(0, Math.min(start, n));
  end = Math.max(0, Math.min(end, n));
  if (end <= start) {
    state.sel = null;
    reader.mark(0, 0, "sel");
    selText.textContent = "";
    if (!fromInputs) { startInput.value = ""; endInput.value = ""; }
    return;
  }
  state.sel = { start, end };
  reader.mark(start, end, "sel");
  if (!fromInputs) { startInput.value = start; endInput.value = end; }
  const exact = reader.text(start, end);
  selText.innerHTML = `「<span class="zh" lang="zh-Hant">${esc(exact)}</span>」 <span class="small">${end - start} 字 chars · ${start}–${end}</span>`;
  applyDisplay(selText);
  if (state.authAuto) { authQ.value = exact; searchAuthorities(); }
  window.gujiRegion?.followSelection(start); // the page image of the folio the span is on
}

function setCaret(p) {
  const n = reader.cps.length;
  state.caret = Math.max(0, Math.min(p, n));
  for (const c of el.querySelectorAll(".caret, .caret-end")) c.classList.remove("caret", "caret-end");
  if (state.caret < n) reader.chars[state.caret]?.classList.add("caret");
  else if (n) reader.chars[n - 1].classList.add("caret-end");
  reader.chars[Math.min(state.caret, n - 1)]?.scrollIntoView({ block: "nearest", inline: "nearest" });
}

el.addEventListener("mouseup", () => {
  const s = window.getSelection();
  if (!s || s.isCollapsed || !s.rangeCount) return;
  const offsets = reader.rangeToOffsets(s.getRangeAt(0));
  if (!offsets) return;
  s.removeAllRanges();
  state.anchor = offsets[0];
  setSelection(offsets[0], offsets[1]);
  setCaret(offsets[1]);
});

el.addEventListener("keydown", (ev) => {
  if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
  const forward = ev.key === "ArrowRight" || ev.key === "ArrowDown";
  const back = ev.key === "ArrowLeft" || ev.key === "ArrowUp";
  if (forward || back) {
    ev.preventDefault();
    ev.stopImmediatePropagation();
    const p = state.caret + (forward ? 1 : -1);
    if (ev.shiftKey) {
      if (state.anchor === null || !state.sel) state.anchor = state.caret;
      setCaret(p);
      setSelection(Math.min(state.anchor, state.caret), Math.max(state.anchor, state.caret));
    } else {
      state.anchor = null;
      setCaret(p);
    }
  } else if (ev.key === "Enter" && state.sel) {
    ev.preventDefault();
    ev.stopImmediatePropagation();
    form.querySelector("input[name=category]:checked")?.focus();
  }
});

el.addEventListener("focus", () => setCaret(state.caret));

for (const input of [startInput, endInput]) {
  input.addEventListener("change", () => setSelection(Number(startInput.value), Number(endInput.value), { fromInputs: true }));
}

// -- authority records -----------------------------------------------------------------------------

let authTimer = null;
function category() { return form.querySelector("input[name=category]:checked")?.value || "person"; }

function searchAuthorities() {
  clearTimeout(authTimer);
  authTimer = setTimeout(async () => {
    const q = authQ.value.trim();
    if (!q) { authResults.innerHTML = ""; return; }
    let results = [];
    try {
      ({ data: { results } } = await api(`/api/authorities?q=${encodeURIComponent(q)}&category=${encodeURIComponent(category())}`));
    } catch (e) { formStatus.textContent = `检索权威记录失败 authority search failed: ${e.message}`; }
    const options = results.map((r) => `<li role="option" tabindex="-1" data-iri="${esc(r.iri)}" data-label="${esc(r.label)}">
        <span class="zh" lang="zh-Hant">${esc(r.label)}</span> ${r.category_label ? `<span class="cat k-${esc(r.category)}">${esc(r.category_label)}</span>` : ""}
        ${r.provisional ? '<span class="badge">临时 provisional</span>' : ""} <span class="small">${esc(r.iri.replace(/^https?:\/\//, ""))}</span></li>`);
    options.push(`<li role="option" tabindex="-1" data-create="1" data-label="${esc(q)}">＋ 新建权威记录「<span class="zh">${esc(q)}</span>」 <span lang="en">create a new record</span></li>`);
    options.push('<li role="option" tabindex="-1" data-none="1">不链接，只标类别 <span lang="en">category only</span></li>');
    authResults.innerHTML = options.join("");
    applyDisplay(authResults);
  }, 200);
}

function choose(li) {
  for (const o of authResults.children) o.setAttribute("aria-selected", o === li ? "true" : "false");
  if (li.dataset.none) state.authority = null;
  else if (li.dataset.create) state.authority = { create: true, label: li.dataset.label };
  else state.authority = { iri: li.dataset.iri, label: li.dataset.label };
  authChosen.innerHTML = state.authority === null ? "不链接权威记录 no authority record"
    : state.authority.create ? `将新建 will create「<span class="zh">${esc(state.authority.label)}</span>」`
      : `已选 chosen「<span class="zh">${esc(state.authority.label)}</span>」 <code>${esc(state.authority.iri)}</code>`;
}

authQ.addEventListener("input", () => { state.authAuto = !authQ.value; searchAuthorities(); });
authQ.addEventListener("keydown", (ev) => {
  if (ev.key === "ArrowDown" && authResults.firstElementChild) { ev.preventDefault(); authResults.firstElementChild.focus(); }
  if (ev.key === "Enter") { ev.preventDefault(); if (authResults.firstElementChild) choose(authResults.firstElementChild); }
});
authResults.addEventListener("click", (ev) => { const li = ev.target.closest("li"); if (li) choose(li); });
authResults.addEventListener("keydown", (ev) => {
  const li = ev.target.closest("li");
  if (!li) return;
  if (ev.key === "ArrowDown") { ev.preventDefault(); (li.nextElementSibling || li).focus(); }
  else if (ev.key === "ArrowUp") { ev.preventDefault(); (li.previousElementSibling || authQ).focus(); }
  else if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); choose(li); }
  else if (ev.key === "Escape") { authQ.focus(); }
});
for (const r of form.querySelectorAll("input[name=category]")) r.addEventListener("change", searchAuthorities);

// -- saving ----------------------------------------------------------------------------------------

function annotationDoc() {
  const { start, end } = state.sel;
  const cat = category();
  let reading;
  if (state.authority?.iri) reading = { type: "SpecificResource", purpose: "identifying", source: { id: state.authority.iri, label: state.authority.label }, "guji:category": cat };
  else if (state.authority?.create) reading = { type: "SpecificResource", purpose: "identifying", source: { label: state.authority.label }, "guji:category": cat };
  else reading = { type: "SpecificResource", purpose: "classifying", source: `https://w3id.org/guji/vocab/entity-category/${cat}`, "guji:category": cat };
  const note = document.getElementById("note").value.trim();
  const text = { type: "SpecificResource", source: juan, selector: [
    { type: "TextPositionSelector", start, end },
    { type: "TextQuoteSelector", exact: reader.text(start, end) }] };
  const region = window.gujiRegion?.target(); // a box drawn on the page image (region.js): a second target
  return {
    "@context": ANNO, type: "Annotation",
    target: region ? [text, region] : text,
    body: note ? [reading, { type: "TextualBody", value: note }] : reading,
    "guji:certainty": document.getElementById("uncertain").checked ? "uncertain" : "certain",
    // the project it is made in (organisations/): empty lets the server take the one covering this text
    ...(document.getElementById("project")?.value ? { "guji:project": document.getElementById("project").value } : {}),
  };
}

function resetForm() {
  state.editing = null;
  state.authority = null; state.authAuto = true; authChosen.textContent = ""; authResults.innerHTML = ""; authQ.value = "";
  document.getElementById("note").value = ""; document.getElementById("uncertain").checked = false;
  window.gujiRegion?.clear();
  document.getElementById("save").innerHTML = '保存草稿 <span lang="en">Save draft</span>';
  document.getElementById("cancel-edit").hidden = true;
  document.getElementById("form-heading").innerHTML = '新标注 <span lang="en">New annotation</span>';
  setSelection(0, 0);
}

/** Load one of my drafts or rejected annotations into the form; saving then replaces it (PUT). */
function startEdit(s) {
  state.editing = { id: s.id };
  const r = s.readings[0] || {};
  const radio = form.querySelector(`input[name=category][value="${r.category}"]`);
  if (radio) radio.checked = true;
  state.authAuto = false;
  setSelection(s.start, s.end);
  setCaret(s.end);
  reader.scrollTo(s.start);
  state.authority = r.authority ? { iri: r.authority, label: r.label || "" } : null;
  authQ.value = r.label || "";
  authChosen.innerHTML = state.authority ? `已选 chosen「<span class="zh">${esc(r.label || "")}</span>」 <code>${esc(r.authority)}</code>` : "";
  document.getElementById("note").value = s.note || "";
  document.getElementById("uncertain").checked = s.certainty === "uncertain";
  document.getElementById("save").innerHTML = '保存修改 <span lang="en">Save changes</span>';
  document.getElementById("cancel-edit").hidden = false;
  document.getElementById("form-heading").innerHTML = `修改标注 <span lang="en">Edit</span> <code>${esc(s.id)}</code>`;
  startInput.focus();
}

form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  if (!state.me) { formStatus.innerHTML = `请先 <a href="/login?next=${encodeURIComponent(location.pathname + location.search)}">登录</a> log in first`; return; }
  if (!state.sel) { formStatus.textContent = "请先在正文中选取文字 select a span first"; el.focus(); return; }
  const doc = annotationDoc();
  formStatus.textContent = "保存中… saving";
  try {
    let id;
    if (state.editing) {
      // replace the annotation: If-Match with the ETag just read, so nobody's change is overwritten
      id = state.editing.id;
      const { etag } = await api(`/annotations/${id}`, { accept: LD });
      await api(`/annotations/${id}`, { method: "PUT", json: doc, headers: { "Content-Type": LD, "If-Match": etag }, accept: LD });
      formStatus.textContent = `已保存修改 saved: 「${[doc.target].flat()[0].selector[1].exact}」 ${id}`;
    } else {
      const { data } = await api("/annotations/", { method: "POST", json: doc, headers: { "Content-Type": LD }, accept: LD });
      id = data.id.split("/").pop();
      formStatus.textContent = `已保存草稿 saved as a draft: 「${[doc.target].flat()[0].selector[1].exact}」 ${id}`;
    }
    resetForm();
    await loadMine();
  } catch (e) {
    formStatus.textContent = `保存失败 not saved: ${e.message}`;
  }
});

document.getElementById("cancel-edit").addEventListener("click", () => { resetForm(); formStatus.textContent = ""; });

// -- my annotations ------------------------------------------------------------------------------------

function toSpan(doc) {
  if (doc.motivation === "linking") return toRelation(doc);
  const t = Array.isArray(doc.target) ? doc.target[0] : doc.target;
  const pos = t.selector.find((s) => s.type === "TextPositionSelector");
  const quote = t.selector.find((s) => s.type === "TextQuoteSelector");
  const bodies = Array.isArray(doc.body) ? doc.body : [doc.body];
  const note = bodies.find((b) => b.type === "TextualBody")?.value;
  const readings = [];
  for (const b of bodies) {
    for (const r of b.type === "Choice" ? b.items : [b]) {
      if (r.type === "TextualBody") continue;
      const cat = String(r["guji:category"] || "").split("/").pop();
      const src = typeof r.source === "object" ? r.source : null;
      readings.push({ category: cat, authority: src?.id || null, label: src?.label || r.label || null });
    }
  }
  return { id: doc.id.split("/").pop(), start: pos.start, end: pos.end, exact: quote?.exact, readings,
           certainty: doc["guji:certainty"], status: doc["guji:status"], review: doc["guji:review"], note };
}

function toRelation(doc) {
  const [head, tail] = doc.target;
  const pos = (t) => t.selector.find((x) => x.type === "TextPositionSelector");
  const quote = (t) => t.selector.find((x) => x.type === "TextQuoteSelector")?.exact;
  const body = Array.isArray(doc.body) ? doc.body[0] : doc.body;
  return { id: doc.id.split("/").pop(), relation: true, type: body.label, start: pos(head).start, end: pos(head).end,
           head: { id: head["guji:annotation"].split("/").pop(), exact: quote(head), start: pos(head).start, end: pos(head).end },
           tail: { id: tail["guji:annotation"].split("/").pop(), exact: quote(tail), start: pos(tail).start, end: pos(tail).end },
           readings: [], status: doc["guji:status"], review: doc["guji:review"] };
}

async function loadMine() {
  if (!state.me) { state.mine = []; return refreshSpans(); }
  const q = new URLSearchParams({ target: juan, creator: state.me.name, page: "0", limit: "1000" });
  const { data } = await api(`/annotations/?${q}`, { accept: LD });
  state.mine = (data.items || []).map(toSpan);
  document.getElementById("mine-count").textContent = state.mine.length;
  mineList.innerHTML = state.mine.map((s) => {
    const r = s.readings[0] || {};
    const reason = s.review?.["guji:reason"] ? ` <span class="small">理由 reason: ${esc(s.review["guji:reason"])}</span>` : "";
    const canSubmit = s.status === "draft" || s.status === "rejected";
    if (s.relation) {
      return `<li data-id="${esc(s.id)}" data-status="${esc(s.status)}" class="relation-item"><a href="#o${s.head.start}" data-go="${s.head.start}" class="zh" lang="zh-Hant">「${esc(s.head.exact)}」</a>
      <span class="rel zh">${esc(s.type)}</span> → <a href="#o${s.tail.start}" data-go="${s.tail.start}" class="zh" lang="zh-Hant">「${esc(s.tail.exact)}」</a>
      <span class="st st-${esc(s.status)}">${esc(s.status)}</span>${reason}
      <span class="item-actions">${canSubmit ? `<button type="button" class="submit" data-id="${esc(s.id)}">提交 Submit</button>` : ""}
      <button type="button" class="secondary history-btn" data-id="${esc(s.id)}" aria-expanded="false">历史 History</button></span>
      <ol class="history" hidden></ol></li>`;
    }
    return `<li data-id="${esc(s.id)}" data-status="${esc(s.status)}"><a href="#o${s.start}" data-go="${s.start}" class="zh" lang="zh-Hant">「${esc(s.exact)}」</a>
      <span class="cat k-${esc(r.category)}">${esc(CATEGORY_LABELS[r.category] || r.category)}</span> <span class="zh">${esc(r.label || "")}</span>
      <span class="st st-${esc(s.status)}">${esc(s.status)}</span>${reason}
      <span class="item-actions">${canSubmit ? `<button type="button" class="submit" data-id="${esc(s.id)}">提交 Submit</button>
        <button type="button" class="secondary edit" data-id="${esc(s.id)}">修改 Edit</button>` : ""}
      <button type="button" class="secondary history-btn" data-id="${esc(s.id)}" aria-expanded="false">历史 History</button></span>
      <ol class="history" hidden></ol></li>`;
  }).join("");
  applyDisplay(mineList);
  refreshSpans();
}

mineList.addEventListener("click", async (ev) => {
  const go = ev.target.closest("[data-go]");
  if (go) { ev.preventDefault(); const o = Number(go.dataset.go); reader.scrollTo(o); const s = state.mine.find((m) => !m.relation && m.start === o); if (s) setSelection(s.start, s.end); return; }
  const btn = ev.target.closest("button");
  if (!btn) return;
  const id = btn.dataset.id;
  if (btn.classList.contains("edit")) {
    startEdit(state.mine.find((m) => m.id === id));
  } else if (btn.classList.contains("submit")) {
    btn.disabled = true;
    try {
      await api(`/annotations/${id}/submit`, { method: "POST", accept: LD });
      formStatus.textContent = `已提交审校 submitted for review: ${id}`;
      await loadMine();
    } catch (e) { formStatus.textContent = `提交失败 not submitted: ${e.message}`; btn.disabled = false; }
  } else if (btn.classList.contains("history-btn")) {
    const list = btn.closest("li").querySelector(".history");
    const open = btn.getAttribute("aria-expanded") === "true";
    btn.setAttribute("aria-expanded", String(!open));
    list.hidden = open;
    if (!open) list.innerHTML = await historyHtml(id);
  }
});

function refreshSpans() {
  const mineIds = new Set(state.mine.map((s) => s.id));
  const spans = [...state.approved.filter((s) => !mineIds.has(s.id)), ...state.mine.filter((s) => s.status !== "deleted" && !s.relation)];
  reader.update({ spans });
}

// -- suggestions -----------------------------------------------------------------------------------

function rejected() {
  try { return new Set(JSON.parse(localStorage.getItem(REJECTED_KEY) || "[]")); } catch { return new Set(); }
}
function remember(key) {
  const keys = rejected();
  keys.add(key);
  try { localStorage.setItem(REJECTED_KEY, JSON.stringify([...keys].slice(-5000))); } catch { /* private mode: this session only */ }
}
const spanKey = (s) => `${s.start}-${s.end}:${s.label}`;
const relationKey = (r) => `${spanKey(state.relSpans[r.head])}>${spanKey(state.relSpans[r.tail])}:${r.type}`;

/** A list whose items take the keyboard: one item in the tab order, ↑/↓ move, A/Enter accept, R/Delete reject. */
function keyboardList(list, accept, reject) {
  list.addEventListener("keydown", (ev) => {
    const li = ev.target.closest("li[data-i]");
    if (!li || ev.altKey || ev.ctrlKey || ev.metaKey) return;
    const items = [...list.querySelectorAll("li[data-i]")];
    const at = items.indexOf(li);
    const go = (k) => { const next = items[Math.max(0, Math.min(items.length - 1, k))]; if (next) focusItem(list, next); };
    if (ev.key === "ArrowDown") { ev.preventDefault(); go(at + 1); }
    else if (ev.key === "ArrowUp") { ev.preventDefault(); go(at - 1); }
    else if (ev.key === "Home") { ev.preventDefault(); go(0); }
    else if (ev.key === "End") { ev.preventDefault(); go(items.length - 1); }
    else if ((ev.key === "Enter" || ev.key === "a" || ev.key === "A") && ev.target === li) { ev.preventDefault(); accept(Number(li.dataset.i), li); }
    else if (ev.key === "r" || ev.key === "R" || ev.key === "Delete") { ev.preventDefault(); reject(Number(li.dataset.i), li, items[at + 1] || items[at - 1]); }
  });
}

function focusItem(list, li) {
  for (const o of list.querySelectorAll("li[data-i]")) o.tabIndex = o === li ? 0 : -1;
  li.focus();
}

function rejectItem(list, li, next, key, count) {
  remember(key);
  li.remove();
  if (next) focusItem(list, next);
  else list.closest("section").querySelector("h2").focus?.();
  const c = document.getElementById(count);
  c.textContent = list.querySelectorAll("li[data-i]").length;
}

async function loadSuggestions() {
  document.getElementById("sugg-mode").textContent = "计算中… computing";
  try {
    const { data } = await api("/api/suggest", { method: "POST", json: { source: juan } });
    state.suggestions = data.spans;
    const hidden = rejected();
    const shown = data.spans.map((s, i) => [s, i]).filter(([s]) => !hidden.has(spanKey(s))).slice(0, 1000);
    document.getElementById("sugg-count").textContent = shown.length;
    document.getElementById("sugg-mode").textContent = `模式 mode: ${data.mode}${data.notes?.length ? ` · ${data.notes.join("; ")}` : ""}`;
    suggList.innerHTML = shown.map(([s, i], k) => {
      const cat = SUGGESTION_CATEGORY[s.label] || "event";
      const date = s.dates?.length ? ` <span class="small">${esc(s.dates.map((d) => [d.regime, d.era, d.year].filter((x) => x !== undefined && x !== null).join(" ")).join(" / "))}</span>` : "";
      return `<li data-i="${i}" tabindex="${k ? -1 : 0}" aria-label="${esc(s.text)} ${esc(CATEGORY_LABELS[cat])}"><button type="button" class="secondary accept" data-i="${i}" tabindex="-1" aria-label="采纳 accept ${esc(s.text)}">采纳 Accept</button>
        <button type="button" class="secondary reject" data-i="${i}" tabindex="-1" aria-label="拒绝 reject ${esc(s.text)}">拒绝 Reject</button>
        「<span class="zh" lang="zh-Hant">${esc(s.text)}</span>」 <span class="cat k-${cat}">${esc(CATEGORY_LABELS[cat])}</span>
        <span class="small">${s.start}–${s.end} · ${esc(s.source || "")}</span>${date}</li>`;
    }).join("");
    applyDisplay(suggList);
    reader.update({ suggestions: state.suggestions });
    loadRelations();
  } catch (e) {
    document.getElementById("sugg-mode").textContent = `机器建议不可用 suggestions unavailable: ${e.message}`;
  }
}

// the relation model may need a minute to build on first use (the server builds it in the
// background and says so): asked for after the spans are shown, and again until it is there
let relationTries = 0;
async function loadRelations() {
  const mode = document.getElementById("rel-mode");
  mode.textContent = "计算中… computing";
  try {
    const { data } = await api("/api/suggest", { method: "POST", json: { source: juan, relations: true } });
    if (!data.relations) {
      const why = (data.notes || []).filter((n) => n.startsWith("relations:")).join("; ");
      mode.textContent = `关系建议暂不可用 relation suggestions not available: ${why}`;
      if (why.includes("being built") && relationTries++ < 40) setTimeout(loadRelations, 15000); // ask again when built
      return;
    }
    state.relSpans = data.spans; // the spans this answer's relations index
    const hidden = rejected();
    state.relations = data.relations || [];
    const shown = state.relations.map((r, i) => [r, i]).filter(([r]) => !hidden.has(relationKey(r))).slice(0, 1000);
    document.getElementById("rel-count").textContent = shown.length;
    mode.textContent = shown.length ? "" : "没有建议的关系 no relation suggested";
    relList.innerHTML = shown.map(([r, i], k) => {
      const h = state.relSpans[r.head], t = state.relSpans[r.tail];
      return `<li data-i="${i}" tabindex="${k ? -1 : 0}" aria-label="${esc(h.text)} ${esc(r.type)} ${esc(t.text)}">
        <button type="button" class="secondary accept" data-i="${i}" tabindex="-1" aria-label="采纳 accept ${esc(h.text)} ${esc(r.type)} ${esc(t.text)}">采纳 Accept</button>
        <button type="button" class="secondary reject" data-i="${i}" tabindex="-1" aria-label="拒绝 reject ${esc(h.text)} ${esc(r.type)} ${esc(t.text)}">拒绝 Reject</button>
        「<span class="zh" lang="zh-Hant">${esc(h.text)}</span>」 <span class="rel zh">${esc(r.type)}</span> → 「<span class="zh" lang="zh-Hant">${esc(t.text)}</span>」
        <span class="small">${h.start}–${h.end} · ${t.start}–${t.end}</span></li>`;
    }).join("");
    applyDisplay(relList);
  } catch (e) {
    mode.textContent = `关系建议不可用 relation suggestions unavailable: ${e.message}`;
  }
}

/** The entity annotation of mine or approved one on exactly this span, or a new draft for it. */
async function entityFor(s) {
  const found = [...state.mine.filter((m) => !m.relation && (m.status === "draft" || m.status === "submitted" || m.status === "approved")),
                 ...state.approved].find((m) => m.start === s.start && m.end === s.end);
  if (found) return found.id;
  const cat = SUGGESTION_CATEGORY[s.label] || "event";
  // an authority record with exactly this name, else a new one created on the spot
  let results = [];
  try { ({ data: { results } } = await api(`/api/authorities?q=${encodeURIComponent(s.text)}&category=${encodeURIComponent(cat)}`)); } catch { /* none */ }
  const same = results.find((r) => r.label === s.text);
  const source = same ? { id: same.iri, label: same.label } : { label: s.text };
  const doc = { "@context": ANNO, type: "Annotation",
    body: { type: "SpecificResource", purpose: "identifying", source, "guji:category": cat },
    target: { type: "SpecificResource", source: juan, selector: [
      { type: "TextPositionSelector", start: s.start, end: s.end }, { type: "TextQuoteSelector", exact: s.text }] } };
  const { data } = await api("/annotations/", { method: "POST", json: doc, headers: { "Content-Type": LD }, accept: LD });
  return data.id.split("/").pop();
}

async function acceptRelation(i, li) {
  if (!state.me) { relStatus.innerHTML = `请先 <a href="/login?next=${encodeURIComponent(location.pathname + location.search)}">登录</a> log in first`; return; }
  const r = state.relations[i];
  const h = state.relSpans[r.head], t = state.relSpans[r.tail];
  relStatus.textContent = "保存中… saving";
  li.setAttribute("aria-busy", "true");
  try {
    const head = await entityFor(h);
    const tail = await entityFor(t);
    const doc = { "@context": ANNO, type: "Annotation", motivation: "linking",
      body: { type: "SpecificResource", purpose: "classifying", source: r.type },
      target: [{ type: "SpecificResource", source: juan, "guji:role": "head", "guji:annotation": head },
               { type: "SpecificResource", source: juan, "guji:role": "tail", "guji:annotation": tail }] };
    const { data } = await api("/annotations/", { method: "POST", json: doc, headers: { "Content-Type": LD }, accept: LD });
    const id = data.id.split("/").pop();
    relStatus.textContent = `已存为关系草稿 relation saved as a draft: 「${h.text}」${r.type}「${t.text}」 ${id}`;
    const next = li.nextElementSibling || li.previousElementSibling;
    li.remove();
    document.getElementById("rel-count").textContent = relList.querySelectorAll("li[data-i]").length;
    if (next) focusItem(relList, next);
    await loadMine();
  } catch (e) {
    li.removeAttribute("aria-busy");
    relStatus.textContent = `未保存 not saved: ${e.message}`;
  }
}

function acceptSuggestion(i) {
  const s = state.suggestions[i];
  const cat = SUGGESTION_CATEGORY[s.label] || "event";
  const radio = form.querySelector(`input[name=category][value="${cat}"]`);
  if (radio) radio.checked = true;
  state.authAuto = true;
  state.anchor = s.start;
  setSelection(s.start, s.end);
  setCaret(s.end);
  reader.scrollTo(s.start);
  authQ.focus();
}

suggList.addEventListener("click", (ev) => {
  const btn = ev.target.closest("button");
  if (!btn) return;
  const li = btn.closest("li");
  if (btn.classList.contains("accept")) acceptSuggestion(Number(btn.dataset.i));
  else if (btn.classList.contains("reject")) {
    rejectItem(suggList, li, li.nextElementSibling || li.previousElementSibling, spanKey(state.suggestions[Number(btn.dataset.i)]), "sugg-count");
  }
});
keyboardList(suggList, (i) => acceptSuggestion(i),
  (i, li, next) => rejectItem(suggList, li, next, spanKey(state.suggestions[i]), "sugg-count"));
relList.addEventListener("click", (ev) => {
  const btn = ev.target.closest("button");
  if (!btn) return;
  const li = btn.closest("li");
  if (btn.classList.contains("accept")) acceptRelation(Number(btn.dataset.i), li);
  else if (btn.classList.contains("reject")) {
    rejectItem(relList, li, li.nextElementSibling || li.previousElementSibling, relationKey(state.relations[Number(btn.dataset.i)]), "rel-count");
  }
});
keyboardList(relList, (i, li) => acceptRelation(i, li),
  (i, li, next) => rejectItem(relList, li, next, relationKey(state.relations[i]), "rel-count"));
document.getElementById("show-suggestions").addEventListener("change", (ev) => el.classList.toggle("hide-sg", !ev.target.checked));
document.getElementById("vertical").addEventListener("change", (ev) => el.classList.toggle("vertical", ev.target.checked));

// -- start -----------------------------------------------------------------------------------------

async function load() {
  state.me = await whoami();
  if (!state.me) formStatus.innerHTML = `浏览模式：保存前请 <a href="/login?next=${encodeURIComponent(location.pathname + location.search)}">登录</a>。<span lang="en">Log in to save.</span>`;
  else if (!["annotator", "reviewer", "admin"].includes(state.me.role)) formStatus.textContent = `${state.me.name} (${state.me.role}) 无标引权限 cannot annotate`;
  if (state.me?.projects?.length) {  // member of annotation projects: say which one (or let the server choose)
    const sel = document.getElementById("project");
    for (const p of state.me.projects) sel.insertAdjacentHTML("beforeend", `<option value="${esc(p.project)}">${esc(p.project.split("/").pop())} (${esc(p.role)})</option>`);
    document.getElementById("project-choice").hidden = false;
  }
  status.textContent = "载入中… loading";
  const t0 = performance.now();
  const { data } = await api(`/api/reading?iri=${encodeURIComponent(juan)}`);
  const fetched = performance.now();
  document.getElementById("text-title").textContent = juan.split("/").slice(-3).join(" / ");
  state.approved = data.spans;
  const stats = reader.render(data, { spans: state.approved });
  stats.fetchMs = fetched - t0;
  window.gujiRender = stats;
  status.textContent = `${stats.chars} 字 chars · ${stats.annotations} 已审标注 approved · 渲染 render ${stats.renderMs.toFixed(0)} ms`;
  await reader.display();
  await loadMine();
  el.dataset.ready = "true";
  loadSuggestions();
}

new AnnotationPopup(reader, document.getElementById("popup"), status);
load().catch((e) => { status.textContent = `载入失败 failed: ${e.message}`; el.dataset.ready = "error"; });
