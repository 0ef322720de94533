// The annotator: open a juan, see machine suggestions, select a span character by character
// (code points, no word segmentation), pick a category, search or create an authority record,
// save a draft (W3C Web Annotation, POST /annotations/), submit it for review, follow its history.

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

const reader = new Reader(el);
const state = { me: null, approved: [], mine: [], suggestions: [], sel: null, caret: 0, anchor: null, authority: null, authAuto: true };
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
  if (go) { ev.preventDefault(); const o = Number(go.dataset.go); reader.scrollTo(o); const s = state.mine.find((m) => m.start === o); if (s) setSelection(s.start, s.end); return; }
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
  const spans = [...state.approved.filter((s) => !mineIds.has(s.id)), ...state.mine.filter((s) => s.status !== "deleted")];
  reader.update({ spans });
}

// -- suggestions -----------------------------------------------------------------------------------

async function loadSuggestions() {
  document.getElementById("sugg-mode").textContent = "计算中… computing";
  try {
    const { data } = await api("/api/suggest", { method: "POST", json: { source: juan } });
    state.suggestions = data.spans;
    document.getElementById("sugg-count").textContent = data.spans.length;
    document.getElementById("sugg-mode").textContent = `模式 mode: ${data.mode}${data.notes?.length ? ` · ${data.notes.join("; ")}` : ""}`;
    suggList.innerHTML = data.spans.slice(0, 1000).map((s, i) => {
      const cat = SUGGESTION_CATEGORY[s.label] || "event";
      const date = s.dates?.length ? ` <span class="small">${esc(s.dates.map((d) => [d.regime, d.era, d.year].filter((x) => x !== undefined && x !== null).join(" ")).join(" / "))}</span>` : "";
      return `<li><button type="button" class="secondary accept" data-i="${i}" aria-label="采纳 accept ${esc(s.text)}">采纳 Accept</button>
        「<span class="zh" lang="zh-Hant">${esc(s.text)}</span>」 <span class="cat k-${cat}">${esc(CATEGORY_LABELS[cat])}</span>
        <span class="small">${s.start}–${s.end} · ${esc(s.source || "")}</span>${date}</li>`;
    }).join("");
    applyDisplay(suggList);
    reader.update({ suggestions: state.suggestions });
  } catch (e) {
    document.getElementById("sugg-mode").textContent = `机器建议不可用 suggestions unavailable: ${e.message}`;
  }
}

suggList.addEventListener("click", (ev) => {
  const btn = ev.target.closest("button.accept");
  if (!btn) return;
  const s = state.suggestions[Number(btn.dataset.i)];
  const cat = SUGGESTION_CATEGORY[s.label] || "event";
  const radio = form.querySelector(`input[name=category][value="${cat}"]`);
  if (radio) radio.checked = true;
  state.authAuto = true;
  state.anchor = s.start;
  setSelection(s.start, s.end);
  setCaret(s.end);
  reader.scrollTo(s.start);
  authQ.focus();
});
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
