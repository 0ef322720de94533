// The acceptance report (HTML with an SVG chart, from /api/acceptance/report) shown for the
// logged-in user, and its CSV as a download.
import { api, whoami } from "./common.js";

const me = await whoami();
if (!me) {
  document.getElementById("need-login").hidden = false;
} else {
  const res = await api("/api/acceptance/report", { accept: "text/html", raw: true });
  const doc = new DOMParser().parseFromString(await res.text(), "text/html");
  const target = document.getElementById("report");
  for (const el of [...doc.body.children]) target.append(document.importNode(el, true));
  document.getElementById("report-csv").addEventListener("click", async () => {
    const r = await api("/api/acceptance/report?format=csv", { accept: "text/csv", raw: true });
    const a = document.createElement("a");
    a.href = URL.createObjectURL(await r.blob());
    a.download = "acceptance-report.csv";
    a.click();
  });
}
