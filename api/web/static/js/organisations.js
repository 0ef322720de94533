// Organisations and annotation projects (知识共创): the admin's forms on /organisations, the
// membership panel of /projects/<id> (ask to join, accept an invitation, invite, approve, remove)
// and the statistics shown to those who may see them. Every action is one /api call with the token.
import { api, esc, whoami } from "./common.js";

const $ = (id) => document.getElementById(id);
const main = $("main");
const status = $("org-status");
const me = await whoami();
const STATE = { invited: "已邀请 invited", requested: "已申请 requested", active: "成员 active" };
const ROLE = { annotator: "标引员 annotator", reviewer: "审校员 reviewer", admin: "项目管理员 project admin" };

function say(text, bad = false) { if (status) { status.textContent = text; status.className = bad ? "error" : "ok"; } }
async function guard(fn) { try { return await fn(); } catch (e) { say(e.message, true); return null; } }

function statsHtml(s) {
  const st = s.by_status;
  const weeks = s.reviewed_per_week.map((w) => `<tr><td>${esc(w.week)}</td><td class="n">${w.approved}</td><td class="n">${w.rejected}</td></tr>`).join("");
  const ag = s.agreement;
  const pct = (x) => (x === null || x === undefined ? "—" : `${(x * 100).toFixed(1)}%`);
  return `<table class="stats" id="by-status"><thead><tr><th>草稿 draft</th><th>待审 submitted</th><th>通过 approved</th><th>驳回 rejected</th></tr></thead>
    <tbody><tr><td class="n">${st.draft}</td><td class="n">${st.submitted}</td><td class="n" data-status="approved">${st.approved}</td><td class="n">${st.rejected}</td></tr></tbody></table>
    <h3>每周审校 <span lang="en">Reviewed per week</span></h3>
    <table class="stats"><thead><tr><th>周 week</th><th>通过 approved</th><th>驳回 rejected</th></tr></thead><tbody>${weeks || '<tr><td colspan="3">—</td></tr>'}</tbody></table>
    <h3>一致性 <span lang="en">Agreement</span></h3>
    <p id="agreement">同一片段 ${ag.spans} 处、${ag.pairs} 对 <span lang="en">spans ${ag.spans}, pairs ${ag.pairs}</span> ·
      类别一致 category ${pct(ag.category.observed)} (Scott's π ${ag.category.scott_pi ?? "—"}) · 规范记录一致 authority ${pct(ag.authority.observed)}</p>`;
}

async function showStats(path) {
  if (!me) return;
  try {
    const { data } = await api(path);
    $("stats").innerHTML = statsHtml(data);
    $("stats-section").hidden = false;
  } catch { /* not a member: the statistics stay hidden */ }
}

// -- /organisations ------------------------------------------------------------------------------
async function listPage() {
  if (me) {
    const { data } = await api("/api/me/projects");
    if (data.length) {
      $("my-projects").innerHTML = data.map((m) => `<a href="/projects/${encodeURIComponent(m.project)}">${esc(m.name)}</a> (${esc(ROLE[m.role])}, ${esc(STATE[m.state])})`).join(" · ");
      $("my-projects-wrap").hidden = false;
    }
  }
  if (!me || me.role !== "admin") return;
  $("admin-forms").hidden = false;
  $("org-form").addEventListener("submit", (ev) => guard(async () => {
    ev.preventDefault();
    const f = new FormData(ev.target);
    const json = Object.fromEntries([...f.entries()].filter(([, v]) => v !== ""));
    await api("/api/organisations", { method: "POST", json });
    location.href = `/organisations/${encodeURIComponent(json.id)}`;
  }));
  $("project-form").addEventListener("submit", (ev) => guard(async () => {
    ev.preventDefault();
    const f = new FormData(ev.target);
    const json = { id: f.get("id"), organisation: f.get("organisation"), name: f.get("name"), guideline: f.get("guideline"),
      scope: f.get("scope").split(/\s+/).filter(Boolean), admins: f.get("admins").split(/[,，\s]+/).filter(Boolean) };
    await api("/api/projects", { method: "POST", json });
    location.href = `/projects/${encodeURIComponent(json.id)}`;
  }));
}

// -- /projects/<id> -------------------------------------------------------------------------------
async function projectPage(project) {
  const base = `/api/projects/${encodeURIComponent(project)}`;
  if (!me) { $("my-state").innerHTML = `<a href="/login?next=${encodeURIComponent(location.pathname)}">登录</a>后可申请加入 <span lang="en">log in to join</span>`; return; }
  const mine = (await api("/api/me/projects")).data.find((m) => m.project === project);
  const iAmAdmin = me.role === "admin" || (mine && mine.state === "active" && mine.role === "admin");
  $("my-state").textContent = mine ? `${me.name}: ${ROLE[mine.role]} · ${STATE[mine.state]}` : `${me.name}: 非成员 not a member`;
  $("join-form").hidden = !!mine;
  $("accept").hidden = !(mine && mine.state === "invited");
  $("leave").hidden = !mine || (mine.state === "active" && mine.role === "admin");
  $("join-form").onsubmit = (ev) => guard(async () => {
    ev.preventDefault();
    await api(`${base}/requests`, { method: "POST", json: { role: new FormData(ev.target).get("role") } });
    say("已申请，待项目管理员批准 requested: a project admin approves"); await projectPage(project);
  });
  $("accept").onclick = () => guard(async () => { await api(`${base}/accept`, { method: "POST" }); say("已加入 joined"); await projectPage(project); });
  $("leave").onclick = () => guard(async () => {
    await api(`${base}/members/${encodeURIComponent(me.name)}`, { method: "DELETE" }); say("已退出 left"); await projectPage(project);
  });
  if (iAmAdmin) {
    $("invite-form").hidden = false;
    $("invite-form").onsubmit = (ev) => guard(async () => {
      ev.preventDefault();
      const user = $("invite-user").value.trim();
      await api(`${base}/invitations`, { method: "POST", json: { user, role: $("invite-role").value } });
      say(`已邀请 ${user} invited`); ev.target.reset(); await members(base, true);
    });
  }
  if ((mine && mine.state === "active") || me.role === "admin") await members(base, iAmAdmin);
  await showStats(`${base}/stats`);
}

async function members(base, iAmAdmin) {
  const { data } = await api(`${base}/members`);
  const table = $("members");
  table.hidden = false;
  table.querySelector("tbody").innerHTML = data.map((m) => `<tr data-user="${esc(m.user)}" data-state="${esc(m.state)}">
    <td>${esc(m.user)}</td><td>${esc(ROLE[m.role])}</td><td>${esc(STATE[m.state])}</td><td>${iAmAdmin && m.state === "requested"
      ? `<button data-approve="${esc(m.user)}">批准 approve</button>` : ""}${iAmAdmin && m.user !== me.name
      ? ` <button data-remove="${esc(m.user)}">移除 remove</button>` : ""}</td></tr>`).join("");
  table.onclick = (ev) => guard(async () => {
    const approve = ev.target.closest("[data-approve]")?.dataset.approve;
    const remove = ev.target.closest("[data-remove]")?.dataset.remove;
    if (approve) { await api(`${base}/members/${encodeURIComponent(approve)}/approve`, { method: "POST" }); say(`已批准 ${approve} approved`); }
    else if (remove) { await api(`${base}/members/${encodeURIComponent(remove)}`, { method: "DELETE" }); say(`已移除 ${remove} removed`); }
    else return;
    await members(base, iAmAdmin);
  });
}

const project = document.querySelector("[data-project]")?.dataset.project;
const org = document.querySelector("[data-org]")?.dataset.org;
try {
  if (project) await projectPage(project);
  else if (org) await showStats(`/api/organisations/${encodeURIComponent(org)}/stats`);
  else await listPage();
  main.dataset.ready = "true";
} catch (e) {
  say(e.message, true);
  main.dataset.ready = "error";
}
