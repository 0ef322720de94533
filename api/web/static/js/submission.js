// A background submission's progress (GET /api/submissions/{id}, polled): phase, done/total,
// rate and ETA, then the validation report; the cancel button sends DELETE (ADR 0017).
import { api, whoami } from "./common.js";

const id = document.getElementById("submission-id").textContent.trim();
const url = `/api/submissions/${encodeURIComponent(id)}`;
const $ = (x) => document.getElementById(x);
const PHASES = { uploaded: "已上传 uploaded", reading: "读取表格 reading", checking: "审核 checking", loading: "写入 loading", published: "已发布 published", projecting: "更新检索 projecting" };
const STATES = { running: "进行中 running", ingested: "已入库 ingested", unchanged: "无变化 unchanged", invalid: "不通过 invalid", cancelled: "已取消 cancelled", failed: "失败 failed" };

function show(s) {
  $("state").textContent = STATES[s.state] || s.state;
  $("phase").textContent = PHASES[s.phase] || s.phase;
  const scale = s.unit === "bytes" ? 1048576 : 1;
  const unit = s.unit === "bytes" ? "MB" : "books";
  $("bar").max = Math.max(s.total / scale, 1);
  $("bar").value = s.done / scale;
  const eta = s.eta_seconds == null ? "" : ` · ETA ${Math.round(s.eta_seconds)} s`;
  $("numbers").textContent = `${Math.round(s.done / scale).toLocaleString()} / ${Math.round(s.total / scale).toLocaleString()} ${unit}`
    + ` · ${(s.rate_per_second / scale).toFixed(1)} ${unit}/s${eta} · ${s.elapsed_seconds} s`;
  $("cancel").disabled = s.state !== "running";
  if (s.state !== "running") {
    $("result").hidden = false;
    const r = s.report;
    $("verdict").textContent = r ? `${r.valid ? "通过 VALID" : "不通过 INVALID"}: ${r.violations} violation(s), ${r.warnings} warning(s)` : (s.error ? s.error.message : "");
    $("problems").replaceChildren(...(r ? r.problems.slice(0, 200) : []).map((p) => {
      const li = document.createElement("li");
      li.textContent = `${p.severity} ${p.code} (${[p.file, p.row && `row ${p.row}`, p.field && `field ${p.field}`].filter(Boolean).join(", ")}): ${p.message_zh} / ${p.message_en}`;
      return li;
    }));
  }
}

if (!(await whoami())) {
  $("need-login").hidden = false;
} else {
  $("cancel").addEventListener("click", async () => show((await api(url, { method: "DELETE" })).data));
  for (;;) {
    const s = (await api(url)).data;
    show(s);
    if (s.state !== "running") break;
    await new Promise((r) => setTimeout(r, 1000));
  }
}
