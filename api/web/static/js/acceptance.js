// The acceptance workflow page: progress for everyone logged in (their own unit, province or all),
// set-up, sample review, spot checks and acceptance for staff, package upload and monthly
// catalogues for units. Every action is one call of /api/acceptance/... with the user's token.
import { api, esc, whoami } from "./common.js";

const $ = (id) => document.getElementById(id);
const status = $("acc-status");
const me = await whoami();
const STAFF = me && (me.role === "acceptance" || me.role === "admin");
const UNIT = me && me.role === "submitter";

function say(text, bad = false) { status.textContent = text; status.className = bad ? "error" : "ok"; }

function problemsHtml(e) {
  const ps = e.details?.problems || [];
  if (!ps.length) return `<p class="error">${esc(e.message)}</p>`;
  return `<p class="error">${esc(e.message)}</p><table class="problems"><thead><tr><th>工作表 sheet</th><th>行 row</th><th>列 column</th><th>字段 field</th><th>问题 problem</th></tr></thead><tbody>` +
    ps.map((p) => `<tr><td>${esc(p.sheet || "")}</td><td>${esc(p.row ?? "")}</td><td>${esc(p.column_letter || "")}</td><td>${esc(p.field || "")}</td>` +
      `<td>${esc(p.message_zh)}<br><span lang="en">${esc(p.message_en)}</span></td></tr>`).join("") + "</tbody></table>";
}

async function guard(fn, where) {
  try { return await fn(); } catch (e) {
    say(e.message, true);
    if (where) where.innerHTML = problemsHtml(e);
    return null;
  }
}

async function upload(path, input, params = {}) {
  const f = input.files[0];
  if (!f) throw new Error("请选择文件 choose a file");
  const q = new URLSearchParams({ filename: f.name, ...params });
  return api(`${path}?${q}`, { method: "POST", body: f, headers: { "Content-Type": f.name.endsWith(".zip") ? "application/zip" : "application/octet-stream" } });
}

async function progress() {
  const { data } = await api("/api/acceptance/progress");
  $("progress").querySelector("tbody").innerHTML = data.units.map((u) => `<tr data-unit="${esc(u.unit)}">
    <td><a href="/units/${encodeURIComponent(u.unit)}">${esc(u.unit)}</a></td><td>${esc(u.province)}</td><td class="n planned">${u.planned}</td>
    <td class="sample">${u.sample_approved ? "✓ " + esc(u.sample) : "—"}</td><td class="n submitted">${u.submitted}</td>
    <td class="n accepted">${u.accepted}</td><td class="n overdue">${u.overdue ? `<strong>${u.overdue}</strong>` : 0}${u.first_deadline_missed ? " 第一阶段未交 first deadline missed" : ""}</td>
    <td>${u.packages.map(esc).join("<br>")}</td></tr>`).join("") || `<tr><td colspan="8">无 none</td></tr>`;
}

function sampleHtml(s) {
  return `<p>批次 <b>${esc(s.batch)}</b> · ${esc(s.unit)} · 结论 decision: <b class="decision">${esc(s.decision)}</b></p><ol class="reviews">` +
    s.reviews.map((r) => `<li>${esc(r.decision)} · ${esc(r.by)} · ${esc(r.at)}<ul>` + r.opinions.map((o) =>
      `<li class="opinion">${esc(o.file || "")}${o.row ? ` 第${o.row}行 row ${o.row}` : ""}${o.field ? ` ${esc(o.field)}` : ""}：${esc(o.message)}</li>`).join("") + "</ul></li>").join("") + "</ol>";
}

function checkHtml(c) {
  const sel = (i) => `<select id="defect-${i}" aria-label="缺陷 defect ${i + 1}"><option value="">无缺陷 no defect</option>
    <option value="metadata_error">著录错误 metadata error</option><option value="image_defect">影像缺陷 image defect</option>
    <option value="missing_page">缺页漏拍 missing page</option><option value="text_error_rate">文字差错率超标 text error rate</option>
    <option value="gaiji_undeclared">外字未登记 外字 not declared</option><option value="other">其他 other</option></select>`;
  return `<p class="plan">批量 lot ${c.lot_size} · 字码 code letter ${esc(c.code_letter)} · 样本量 sample ${c.sample_size} · Ac ${c.accept} · Re ${c.reject} · 种子 seed ${c.seed}</p>
    <ol class="sampled">${c.sampled.map((s, i) => `<li data-item="${esc(s)}"><code>${esc(s.split("/").pop())}</code> ${c.decision === "pending" ? sel(i) : ""}</li>`).join("")}</ol>
    ${c.decision === "pending" ? `<button type="button" id="check-decide" data-id="${esc(c.id)}">记录并判定 <span lang="en">Record and decide</span></button>` : ""}
    <p>判定 decision: <b class="decision">${esc(c.decision)}</b>${c.defects.length ? ` · 缺陷 defects ${c.defects.length}` : ""}</p>`;
}

function statsHtml(s) {
  const keys = [["records", "著录"], ["images", "影像"], ["juan", "卷"], ["views", "浏览"], ["searches", "检索命中"], ["downloads", "下载"]];
  const top = Math.max(1, ...s.months.flatMap((m) => keys.map(([k]) => m[k])));
  const bar = (m) => keys.map(([k], i) => `<rect x="${i * 16}" y="${100 - Math.round(100 * m[k] / top)}" width="14" height="${Math.round(100 * m[k] / top)}" class="s${i}"><title>${esc(m.month)} ${k}: ${m[k]}</title></rect>`).join("");
  const chart = `<svg class="chart" role="img" aria-label="statistics by month" width="${s.months.length * 120 + 20}" height="130">` +
    s.months.map((m, j) => `<g transform="translate(${10 + j * 120},0)">${bar(m)}<text x="0" y="125" font-size="12">${esc(m.month)}</text></g>`).join("") + "</svg>";
  return chart + `<table class="stats"><thead><tr><th>月份 month</th>${keys.map(([k, zh]) => `<th>${zh} ${k}</th>`).join("")}</tr></thead><tbody>` +
    s.months.map((m) => `<tr><td>${esc(m.month)}</td>${keys.map(([k]) => `<td class="n ${k}">${m[k]}</td>`).join("")}</tr>`).join("") +
    `<tr class="total"><td>合计 total</td>${keys.map(([k]) => `<td class="n ${k}">${s.totals[k]}</td>`).join("")}</tr></tbody></table>`;
}

if (!me) {
  $("need-login").hidden = false;
} else {
  for (const el of document.querySelectorAll(".staff-only")) el.hidden = !STAFF;
  for (const el of document.querySelectorAll(".unit-only")) el.hidden = !(UNIT || STAFF);

  $("units-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const r = await guard(() => upload("/api/acceptance/units", $("units-file")), $("problems"));
    if (r) { $("problems").innerHTML = ""; say(`已登记 registered ${r.data.units} 个单位 units`); await progress(); }
  });
  $("member-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = $("member-unit").value ? { unit: $("member-unit").value } : { province: $("member-province").value };
    const r = await guard(() => api(`/api/acceptance/members/${encodeURIComponent($("member-user").value)}`, { method: "PUT", json: body }));
    if (r) say(`${r.data.user} → ${r.data.unit || r.data.province}`);
  });
  $("plan-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const params = {};
    if ($("plan-first").value) params.first_deadline = $("plan-first").value;
    if ($("plan-final").value) params.final_deadline = $("plan-final").value;
    const r = await guard(() => upload("/api/acceptance/plan", $("plan-file"), params), $("problems"));
    if (r) { $("problems").innerHTML = ""; say(`已导入 imported ${r.data.titles} 种 titles (${r.data.encoding || "xlsx"})`); await progress(); }
  });
  $("package-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = $("package-file").files[0];
    const r = await guard(() => api("/api/submissions", { method: "POST", body: f, headers: { "Content-Type": "application/zip" } }));
    const batch = (r?.data.graphs || []).find((g) => g.includes("/graph/package/"))?.split("/package/").pop();
    if (r) { say(`已提交 submitted ${decodeURIComponent(batch || r.data.package)}`); await progress(); }
  });
  const batch = () => $("sample-batch").value.trim();
  $("sample-mark").addEventListener("click", async () => {
    const r = await guard(() => api(`/api/acceptance/samples/${encodeURIComponent(batch())}`, { method: "POST" }));
    if (r) { $("sample-view").innerHTML = sampleHtml(r.data); say("已标为样例 marked as sample"); }
  });
  $("sample-show").addEventListener("click", async () => {
    const r = await guard(() => api(`/api/acceptance/samples/${encodeURIComponent(batch())}`));
    if (r) $("sample-view").innerHTML = sampleHtml(r.data);
  });
  $("sample-compare").addEventListener("click", async () => {
    const r = await guard(() => api(`/api/acceptance/batches/${encodeURIComponent(batch())}/profile`));
    if (r) $("sample-view").innerHTML = `<p>与样例 ${esc(r.data.sample)} 比对 compared with the sample: ${r.data.same_profile ? "一致 same profile" : "有差异 differences"}</p><ul class="diffs">` +
      r.data.differences.map((d) => `<li>${esc(d.message_zh)} <span lang="en">${esc(d.message_en)}</span></li>`).join("") + "</ul>";
  });
  $("review-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const opinions = $("op-message").value.trim() ? [{ file: $("op-file").value || null, row: $("op-row").value ? Number($("op-row").value) : null,
      field: $("op-field").value || null, message: $("op-message").value.trim() }] : [];
    const r = await guard(() => api(`/api/acceptance/samples/${encodeURIComponent(batch())}/reviews`, { method: "POST", json: { decision: $("review-decision").value, opinions } }));
    if (r) { $("sample-view").innerHTML = sampleHtml(r.data); $("op-message").value = ""; say("已记录审核 review recorded"); await progress(); }
  });
  const month = () => $("cat-month").value;
  $("catalogue-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const row = { title: $("cat-title").value, unit: $("cat-unit").value, contact: $("cat-contact").value, phone: $("cat-phone").value };
    const r = await guard(() => api(`/api/acceptance/catalogues/${month()}`, { method: "POST", json: { rows: [row] } }), $("catalogue-view"));
    if (r) { say(`${r.data.month} 目录已收到 received${r.data.late ? "（逾期 late）" : "（按时 on time）"}，截止 due ${r.data.due}`); $("catalogue-view").innerHTML = ""; }
  });
  $("cat-status").addEventListener("click", async () => {
    const r = await guard(() => api(`/api/acceptance/catalogues/${month()}`));
    if (r) $("catalogue-view").innerHTML = `<p>截止 due ${esc(r.data.due)}</p><table id="catalogue-status"><thead><tr><th>承建单位 unit</th><th>状态 state</th><th>收到 received</th></tr></thead><tbody>` +
      r.data.units.map((u) => `<tr data-unit="${esc(u.unit)}"><td>${esc(u.unit)}</td><td class="state st-${esc(u.state)}">${esc({ late: "逾期 late", missing: "缺报 missing", on_time: "按时 on time", not_yet_due: "未到期 not yet due" }[u.state])}</td><td>${esc(u.received || "")}</td></tr>`).join("") + "</tbody></table>";
  });
  $("cat-remind").addEventListener("click", async () => {
    const r = await guard(() => api(`/api/acceptance/reminders/${month()}`, { method: "POST" }));
    if (r) say(`提醒 reminders: ${r.data.reminders.length} → ${r.data.outbox || "—"}`);
  });
  $("check-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = { kind: "batch", ref: $("check-batch").value.trim(), aql: $("check-aql").value.trim() };
    if ($("check-seed").value) body.seed = Number($("check-seed").value);
    const r = await guard(() => api("/api/acceptance/checks", { method: "POST", json: body }));
    if (r) $("check-view").innerHTML = checkHtml(r.data);
  });
  $("check-view").addEventListener("click", async (ev) => {
    const btn = ev.target.closest("#check-decide");
    if (!btn) return;
    const defects = [...$("check-view").querySelectorAll("li[data-item]")].map((li, i) => ({ item: li.dataset.item, category: $(`defect-${i}`).value }))
      .filter((d) => d.category);
    const r = await guard(() => api(`/api/acceptance/checks/${btn.dataset.id}/defects`, { method: "POST", json: { defects } }));
    if (r) { $("check-view").innerHTML = checkHtml(r.data); say(`抽检判定 lot ${r.data.decision}`); }
  });
  const batchStatus = async () => {
    const r = await guard(() => api(`/api/acceptance/batches/${encodeURIComponent($("batch-id").value.trim())}`));
    if (r) $("batch-view").innerHTML = `<p>可验收 ready: <b class="ready">${r.data.ready ? "是 yes" : "否 no"}</b> · 已验收 accepted: <b class="accepted">${r.data.accepted ? "是 yes" : "否 no"}</b></p><ul>` +
      r.data.reasons.map((x) => `<li>${esc(x.message_zh)} <span lang="en">${esc(x.message_en)}</span></li>`).join("") + "</ul>" +
      (r.data.sample_profile ? `<p class="profile">与样例 ${esc(r.data.sample_profile.sample)} 比对 against the sample: ${r.data.sample_profile.same_profile ? "一致 same" : `${r.data.sample_profile.differences.length} 处差异 differences`}</p>` : "");
  };
  $("batch-status-btn").addEventListener("click", batchStatus);
  $("batch-accept").addEventListener("click", async () => {
    const r = await guard(() => api(`/api/acceptance/batches/${encodeURIComponent($("batch-id").value.trim())}/acceptance`, { method: "POST", json: {} }), $("batch-view"));
    if (r) { await batchStatus(); say("批次已验收 batch accepted"); await progress(); }
  });
  $("stats-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const unit = $("stats-unit").value.trim();
    const r = await guard(() => api(`/api/acceptance/units/${encodeURIComponent(unit)}/statistics`));
    if (r) $("stats-view").innerHTML = statsHtml(r.data);
  });
  await guard(progress);
  document.getElementById("main").dataset.ready = "true";
}
