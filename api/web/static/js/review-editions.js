// The review page's "from other editions" queue: approved annotations proposed at the aligned place
// of the work's other editions (GET /api/editions/proposals), accepted or rejected one by one or
// in bulk (POST /api/editions/proposals/accept|reject). Offsets shown are code points of the other
// edition's juan; the quote is that edition's own characters.
import { api, applyDisplay, esc, whoami } from "./common.js";
import { CATEGORY_LABELS } from "./reader.js";

const PAGE = 20;
const list = document.getElementById("editions-list");
const pager = document.getElementById("editions-pager");
const line = document.getElementById("editions-status-line");
const form = document.getElementById("editions-filter");
const all = document.getElementById("editions-all");
let page = 0;

const KIND = { identical: "字同 identical", variant: "异体 variant forms", substituted: "异文 variant reading" };

function itemHtml(p) {
  const o = p.origin_annotation || {};
  const readings = (o.readings || []).map((r) => `<span class="cat k-${esc(r.category)}">${esc(CATEGORY_LABELS[r.category] || r.category)}</span>${r.label ? ` <span class="zh" lang="zh-Hant">${esc(r.label)}</span>` : ""}`).join(" ｜ ");
  const pending = p.status === "proposed";
  return `<li data-id="${esc(p.id)}">
    <p>${pending ? `<input type="checkbox" class="pick" value="${esc(p.id)}" aria-label="选择 select ${esc(p.id)}"> ` : ""}
      <span class="badge">${esc(p.from_edition)} → ${esc(p.to_edition)}</span> ${readings}
      <span class="small">${esc(KIND[p.alignment] || p.alignment)}</span></p>
    <p class="quote"><span class="ctx zh">${esc(p.prefix)}</span><mark class="zh">${esc(p.exact)}</mark><span class="ctx zh">${esc(p.suffix)}</span></p>
    <p class="meta">原标注 origin: <a href="/annotations/${esc(p.origin)}">${esc(o.exact || p.origin)}</a> (${esc(p.from_edition)}, ${esc(o.creator || "")}) ·
      <a href="/read?iri=${encodeURIComponent(p.source)}#o${p.start}">在 ${esc(p.to_edition)} 文中 in the text</a> ${p.start}–${p.end} ·
      <span class="st st-${esc(p.status)}">${esc(p.status)}</span>${p.decided_by_name ? ` · ${esc(p.decided_by_name)}` : ""}${p.reason ? `：${esc(p.reason)}` : ""}
      ${p.copy ? ` · <a href="/annotations/${esc(p.copy)}">副本 copy</a>` : ""}</p>
    ${pending ? `<div class="decide">
      <button type="button" class="accept" data-id="${esc(p.id)}">接受 <span lang="en">Accept</span></button>
      <label>理由 <span lang="en">Reason</span> <input class="reason" size="24"></label>
      <button type="button" class="secondary reject" data-id="${esc(p.id)}">拒绝 <span lang="en">Reject</span></button></div>` : ""}
  </li>`;
}

function filters() {
  const q = new URLSearchParams({ offset: String(page * PAGE), limit: String(PAGE) });
  for (const k of ["work", "edition", "status"]) {
    const v = form.elements[k].value.trim();
    if (v) q.set(k, v);
  }
  return q;
}

async function load(message = "") {
  line.textContent = message || "载入中… loading";
  all.checked = false;
  try {
    const { data } = await api(`/api/editions/proposals?${filters()}`);
    list.innerHTML = data.items.map(itemHtml).join("") || '<li class="none">没有提议 <span lang="en">No proposals.</span></li>';
    if (form.elements.status.value === "proposed") document.getElementById("count-editions").textContent = data.total;
    const last = Math.max(0, Math.ceil(data.total / PAGE) - 1);
    pager.innerHTML = last ? `${page > 0 ? '<button type="button" class="secondary" data-page="prev">上一页 Prev</button>' : ""}
      <span>${page + 1} / ${last + 1}</span>${page < last ? '<button type="button" class="secondary" data-page="next">下一页 Next</button>' : ""}` : "";
    line.textContent = `${message ? `${message} · ` : ""}${data.total} 条 items`;
    applyDisplay(list);
  } catch (e) {
    list.innerHTML = "";
    line.textContent = `载入失败 failed: ${e.message}`;
  }
}

async function decide(action, ids, reason = null) {
  if (!ids.length) { line.textContent = "未选择 nothing selected"; return; }
  try {
    const json = action === "reject" ? { ids, reason } : { ids };
    const { data } = await api(`/api/editions/proposals/${action}`, { method: "POST", json });
    page = 0;
    await load(`${action === "accept" ? "已接受 accepted" : "已拒绝 rejected"}: ${data.items.length}`);
  } catch (e) {
    line.textContent = `操作失败 failed: ${e.message}`;
  }
}

list.addEventListener("click", (ev) => {
  const btn = ev.target.closest("button");
  if (!btn) return;
  btn.disabled = true;
  if (btn.classList.contains("accept")) decide("accept", [btn.dataset.id]).finally(() => { btn.disabled = false; });
  else if (btn.classList.contains("reject")) {
    const reason = btn.closest("li").querySelector(".reason")?.value.trim() || null;
    decide("reject", [btn.dataset.id], reason).finally(() => { btn.disabled = false; });
  } else btn.disabled = false;
});

const picked = () => [...list.querySelectorAll(".pick:checked")].map((c) => c.value);
all.addEventListener("change", () => { for (const c of list.querySelectorAll(".pick")) c.checked = all.checked; });
document.getElementById("editions-accept-selected").addEventListener("click", () => decide("accept", picked()));
document.getElementById("editions-reject-selected").addEventListener("click", () => decide("reject", picked()));
form.addEventListener("submit", (ev) => { ev.preventDefault(); page = 0; load(); });
pager.addEventListener("click", (ev) => {
  const b = ev.target.closest("button");
  if (!b) return;
  page += b.dataset.page === "next" ? 1 : -1;
  load();
});

whoami().then((me) => {
  if (me && ["reviewer", "admin"].includes(me.role)) load();
  else document.getElementById("editions").hidden = true;
});
