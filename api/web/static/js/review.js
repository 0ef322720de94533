// The reviewer queue: submitted annotations with their quote in context, approve or reject with a
// reason, and the history of each; tabs for what was approved or rejected.
import { api, applyDisplay, esc, historyHtml, whoami } from "./common.js";
import { CATEGORY_LABELS } from "./reader.js";

const LD = 'application/ld+json; profile="http://www.w3.org/ns/anno.jsonld"';
const PAGE = 20;
const list = document.getElementById("queue-list");
const pager = document.getElementById("queue-pager");
const status = document.getElementById("review-status");
let current = "submitted";
let page = 0;

function readingHtml(r) {
  const cat = String(r["guji:category"] || "").split("/").pop();
  const src = typeof r.source === "object" ? r.source : null;
  const name = src?.label || r.label || "";
  const link = src?.id ? ` <a href="/entity?iri=${encodeURIComponent(src.id)}">${src["guji:provisional"] ? "新建 new " : ""}实体 entity</a>` : "";
  return `<span class="cat k-${esc(cat)}">${esc(CATEGORY_LABELS[cat] || cat)}</span> <span class="zh" lang="zh-Hant">${esc(name)}</span>${link}`;
}

/** A relation annotation (motivation linking): 「head」 type 「tail」, each end linking its annotation. */
function relationHtml(doc) {
  const [head, tail] = doc.target;
  const quote = (t) => (t.selector || []).find((s) => s.type === "TextQuoteSelector")?.exact || "";
  const end = (t) => `「<span class="zh" lang="zh-Hant">${esc(quote(t))}</span>」${t["guji:entity"] ? ` <a href="/entity?iri=${encodeURIComponent(t["guji:entity"])}">实体 entity</a>` : ""}`;
  const body = Array.isArray(doc.body) ? doc.body[0] : doc.body;
  return `<p class="relation">关系 <span lang="en">relation</span>: ${end(head)} <span class="rel zh">${esc(body.label || "")}</span> → ${end(tail)}
    <span class="small">(${esc(String(body.source).split("#").pop())})</span></p>`;
}

function itemHtml(doc) {
  const id = doc.id.split("/").pop();
  if (doc.motivation === "linking") return relationItemHtml(doc, id);
  const t = Array.isArray(doc.target) ? doc.target[0] : doc.target;
  const q = t.selector.find((s) => s.type === "TextQuoteSelector") || {};
  const p = t.selector.find((s) => s.type === "TextPositionSelector") || {};
  const bodies = Array.isArray(doc.body) ? doc.body : [doc.body];
  const readings = bodies.flatMap((b) => (b.type === "Choice" ? b.items : [b])).filter((b) => b.type !== "TextualBody");
  const note = bodies.find((b) => b.type === "TextualBody");
  const review = doc["guji:review"];
  const decide = doc["guji:status"] === "submitted" || doc["guji:status"] === "approved";
  return `<li data-id="${esc(id)}" data-status="${esc(doc["guji:status"])}">
    <p class="quote"><span class="ctx zh">${esc(q.prefix || "")}</span><mark class="zh">${esc(q.exact || "")}</mark><span class="ctx zh">${esc(q.suffix || "")}</span></p>
    <p>${readings.map(readingHtml).join(" ｜ ")}${readings.length > 1 ? ' <span class="small">（竞争读法 competing readings）</span>' : ""}
      ${doc["guji:certainty"] === "uncertain" ? '<span class="badge">存疑 uncertain</span>' : ""}</p>
    ${note ? `<p class="small">附注 note: ${esc(note.value)}</p>` : ""}
    <p class="meta">${esc(doc.creator?.nickname || "")}${doc.creator?.["prov:actedOnBehalfOf"] ? ` <span class="org">（代表 for ${esc(doc.creator["prov:actedOnBehalfOf"].split("/").pop())}）</span>` : ""}${doc["guji:project"] ? ` · 项目 project ${esc(doc["guji:project"].split("/").pop())}` : ""} · ${esc((doc.created || "").replace("T", " ").replace(/(\.\d+)?Z$/, ""))} ·
      <a href="/read?iri=${encodeURIComponent(t.source)}#o${p.start}">在文中 in the text</a> ${p.start}–${p.end} ·
      <span class="st st-${esc(doc["guji:status"])}">${esc(doc["guji:status"])}</span>
      ${review ? ` · ${esc(review["guji:decision"])} ${esc((review["guji:reviewer"] || "").split("/").pop())}${review["guji:reason"] ? `：${esc(review["guji:reason"])}` : ""}` : ""}</p>
    ${decide ? `<div class="decide">
      <label>理由 <span lang="en">Reason</span>（驳回必填 required to reject）<br><textarea rows="2" class="reason" id="reason-${esc(id)}"></textarea></label>
      ${doc["guji:status"] === "submitted" ? `<button type="button" class="approve" data-id="${esc(id)}">通过 <span lang="en">Approve</span></button>` : ""}
      <button type="button" class="secondary reject" data-id="${esc(id)}">驳回 <span lang="en">Reject</span></button></div>` : ""}
    <button type="button" class="secondary history-btn" data-id="${esc(id)}" aria-expanded="false">历史 <span lang="en">History</span></button>
    <ol class="history" hidden></ol></li>`;
}

function relationItemHtml(doc, id) {
  const t = doc.target[0];
  const p = t.selector.find((s) => s.type === "TextPositionSelector") || {};
  const review = doc["guji:review"];
  const decide = doc["guji:status"] === "submitted" || doc["guji:status"] === "approved";
  return `<li data-id="${esc(id)}" data-status="${esc(doc["guji:status"])}" class="relation-item">
    ${relationHtml(doc)}
    <p class="meta">${esc(doc.creator?.nickname || "")} · ${esc((doc.created || "").replace("T", " ").replace(/(\.\d+)?Z$/, ""))} ·
      <a href="/read?iri=${encodeURIComponent(t.source)}#o${p.start}">在文中 in the text</a> ·
      <span class="st st-${esc(doc["guji:status"])}">${esc(doc["guji:status"])}</span>
      ${review ? ` · ${esc(review["guji:decision"])} ${esc((review["guji:reviewer"] || "").split("/").pop())}${review["guji:reason"] ? `：${esc(review["guji:reason"])}` : ""}` : ""}</p>
    ${decide ? `<div class="decide">
      <label>理由 <span lang="en">Reason</span>（驳回必填 required to reject）<br><textarea rows="2" class="reason" id="reason-${esc(id)}"></textarea></label>
      ${doc["guji:status"] === "submitted" ? `<button type="button" class="approve" data-id="${esc(id)}">通过 <span lang="en">Approve</span></button>` : ""}
      <button type="button" class="secondary reject" data-id="${esc(id)}">驳回 <span lang="en">Reject</span></button></div>` : ""}
    <button type="button" class="secondary history-btn" data-id="${esc(id)}" aria-expanded="false">历史 <span lang="en">History</span></button>
    <ol class="history" hidden></ol></li>`;
}

async function load(message = "") {
  status.textContent = message || "载入中… loading";
  const q = new URLSearchParams({ status: current, page: String(page), limit: String(PAGE) });
  try {
    const { data } = await api(`/annotations/?${q}`, { accept: LD });
    const items = data.items || [];
    const total = data.partOf?.total ?? items.length;
    list.innerHTML = items.map(itemHtml).join("") || '<li class="none">队列为空 <span lang="en">Nothing here.</span></li>';
    if (current === "submitted") document.getElementById("count-submitted").textContent = total;
    const last = Math.max(0, Math.ceil(total / PAGE) - 1);
    pager.innerHTML = last ? `${page > 0 ? '<button type="button" class="secondary" data-page="prev">上一页 Prev</button>' : ""}
      <span>${page + 1} / ${last + 1}</span>${page < last ? '<button type="button" class="secondary" data-page="next">下一页 Next</button>' : ""}` : "";
    status.textContent = `${message ? `${message} · ` : ""}${total} 条 items`;
    applyDisplay(list);
  } catch (e) {
    list.innerHTML = "";
    status.textContent = e.status === 404 && page > 0 ? "" : `载入失败 failed: ${e.message}`;
    if (e.status === 404 && page > 0) { page -= 1; load(); }
  }
}

list.addEventListener("click", async (ev) => {
  const btn = ev.target.closest("button");
  if (!btn) return;
  const id = btn.dataset.id;
  const li = btn.closest("li");
  if (btn.classList.contains("history-btn")) {
    const h = li.querySelector(".history");
    const open = btn.getAttribute("aria-expanded") === "true";
    btn.setAttribute("aria-expanded", String(!open));
    h.hidden = open;
    if (!open) h.innerHTML = await historyHtml(id);
    return;
  }
  const decision = btn.classList.contains("approve") ? "approve" : btn.classList.contains("reject") ? "reject" : null;
  if (!decision) return;
  const reason = li.querySelector(".reason")?.value.trim() || null;
  if (decision === "reject" && !reason) {
    status.textContent = "驳回需写明理由 a rejection needs a reason";
    li.querySelector(".reason").focus();
    return;
  }
  btn.disabled = true;
  try {
    // If-Match with the ETag just read (the server requires it): a change made meanwhile is not approved unseen
    const { etag } = await api(`/annotations/${id}`, { accept: LD });
    await api(`/annotations/${id}/review`, { method: "POST", json: { decision, reason }, headers: { "If-Match": etag }, accept: LD });
    const done = `${decision === "approve" ? "已通过 approved" : "已驳回 rejected"}: ${id}`;
    status.textContent = done;
    li.remove();
    if (!list.children.length) load(done);
    else if (current === "submitted") {
      const c = document.getElementById("count-submitted");
      c.textContent = Math.max(0, Number(c.textContent) - 1);
    }
  } catch (e) {
    status.textContent = `操作失败 failed: ${e.message}`;
    btn.disabled = false;
  }
});

pager.addEventListener("click", (ev) => {
  const b = ev.target.closest("button");
  if (!b) return;
  page += b.dataset.page === "next" ? 1 : -1;
  load();
});

for (const tab of document.querySelectorAll("[role=tab]")) {
  tab.addEventListener("click", () => {
    for (const t of document.querySelectorAll("[role=tab]")) t.setAttribute("aria-selected", String(t === tab));
    document.getElementById("queue").setAttribute("aria-labelledby", tab.id);
    current = tab.dataset.status;
    page = 0;
    load();
  });
  tab.addEventListener("keydown", (ev) => {
    const tabs = [...document.querySelectorAll("[role=tab]")];
    const i = tabs.indexOf(tab);
    if (ev.key === "ArrowRight" || ev.key === "ArrowLeft") {
      ev.preventDefault();
      const next = tabs[(i + (ev.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length];
      next.focus(); next.click();
    }
  });
}

whoami().then((me) => {
  // global reviewers review everything; a project's reviewers and admins the annotations of their projects
  const projectReviewer = (me?.projects || []).some((p) => ["reviewer", "admin"].includes(p.role));
  if (!me || (!["reviewer", "admin"].includes(me.role) && !projectReviewer)) {
    document.getElementById("need-login").hidden = false;
    if (me) status.textContent = `${me.name} (${me.role}) 不是审校员 is not a reviewer`;
  }
  if (me) load();
});
