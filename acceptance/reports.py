"""Output shapes of the acceptance workflow: CSV (UTF-8 with a BOM, so that Excel opens Chinese
correctly) and a self-contained HTML acceptance report with bar charts as inline SVG (no script)."""

from __future__ import annotations

import csv
import io
from html import escape

BOM = "\ufeff"


def _csv(header: list[str], rows: list[list]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    for r in rows:
        w.writerow(["" if v is None else v for v in r])
    return BOM + buf.getvalue()


def rows_csv(rows: list[dict]) -> str:
    """Monthly-catalogue rows from the web form as the CSV the import reads."""
    keys = ["title", "unit", "contact", "phone", "completed", "census_no"]
    return _csv(keys, [[r.get(k) for k in keys] for r in rows]).removeprefix(BOM)


def progress_csv(data: dict) -> str:
    header = ["unit 承建单位", "province 省份", "title 题名", "edition 版本", "census_no 普查登记编号", "planned_juan 计划卷数",
              "planned_volumes 计划册数", "planned_images 计划影像数", "submitted_in 提交批次", "accepted 已验收", "overdue 逾期"]
    rows = []
    for u in data["units"]:
        for e in u["entries"]:
            rows.append([u["unit"], u["province"], e["title"], e["edition"], e["census_no"], e["planned_juan"], e["planned_volumes"],
                         e["planned_images"], e["submitted_in"], "yes" if e["accepted"] else "no", "yes" if e["overdue"] else "no"])
    return _csv(header, rows)


REPORT_COLUMNS = [("unit", "承建单位", "unit"), ("province", "省份", "province"), ("planned", "计划", "planned"),
                  ("sample_approved", "样例通过", "sample approved"), ("submitted", "已提交", "submitted"),
                  ("accepted", "已验收", "accepted"), ("overdue", "逾期", "overdue"), ("checks", "抽检次数", "spot checks"),
                  ("checks_accepted", "抽检合格", "checks accepted"), ("checks_rejected", "抽检不合格", "checks rejected"),
                  ("defects", "缺陷数", "defects"), ("catalogues_on_time", "月报按时", "catalogues on time"),
                  ("catalogues_late", "月报逾期", "catalogues late"), ("catalogues_missing", "月报缺报", "catalogues missing"),
                  ("batches_accepted", "已验收批次", "batches accepted")]


def acceptance_csv(data: dict) -> str:
    header = [f"{k} {zh}" for k, zh, _ in REPORT_COLUMNS]
    rows = [[_cell(u[k]) for k, _, _ in REPORT_COLUMNS] for u in data["units"]]
    rows += [[f"合计 total: {p['province']}", p["province"], *[_cell(p.get(k)) for k, _, _ in REPORT_COLUMNS[2:]]]
             for p in data["provinces"]]
    return _csv(header, rows)


def _cell(v: object) -> object:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, list):
        return "; ".join(map(str, v))
    return v


def _bars(units: list[dict]) -> str:
    """A grouped bar chart (planned / submitted / accepted per unit) as inline SVG."""
    series = [("planned", "计划 planned", "#9aa7b8"), ("submitted", "已提交 submitted", "#4f7cac"), ("accepted", "已验收 accepted", "#2e8b57")]
    top = max([1] + [u[k] for u in units for k, _, _ in series])
    bar, gap, left, height = 14, 26, 180, 160
    width = left + len(units) * (len(series) * bar + gap) + 20
    parts = [f'<svg class="chart" role="img" aria-label="planned, submitted and accepted titles per unit" '
             f'width="{width}" height="{height + 60}" viewBox="0 0 {width} {height + 60}" xmlns="http://www.w3.org/2000/svg">']
    for i, (_, name, colour) in enumerate(series):
        parts.append(f'<rect x="10" y="{10 + i * 18}" width="12" height="12" fill="{colour}"/>'
                     f'<text x="28" y="{21 + i * 18}" font-size="12">{escape(name)}</text>')
    for j, u in enumerate(units):
        x0 = left + j * (len(series) * bar + gap)
        for i, (k, name, colour) in enumerate(series):
            h = round(height * u[k] / top)
            parts.append(f'<rect x="{x0 + i * bar}" y="{height - h + 10}" width="{bar - 2}" height="{h}" fill="{colour}">'
                         f'<title>{escape(u["unit"])} {escape(name)}: {u[k]}</title></rect>')
        parts.append(f'<text x="{x0}" y="{height + 28}" font-size="12">{escape(u["unit"][:10])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def acceptance_html(data: dict) -> str:
    head = "".join(f"<th>{escape(zh)}<br><small>{escape(en)}</small></th>" for _, zh, en in REPORT_COLUMNS)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(_cell(u[k])))}</td>" for k, _, _ in REPORT_COLUMNS) + "</tr>"
                   for u in data["units"])
    prov_cols = REPORT_COLUMNS[2:]
    phead = "<th>省份<br><small>province</small></th><th>单位数<br><small>units</small></th>" + "".join(
        f"<th>{escape(zh)}<br><small>{escape(en)}</small></th>" for _, zh, en in prov_cols)
    pbody = "".join(f"<tr><td>{escape(p['province'])}</td><td>{p['units']}</td>"
                    + "".join(f"<td>{escape(str(_cell(p.get(k))))}</td>" for k, _, _ in prov_cols) + "</tr>" for p in data["provinces"])
    return f"""<!doctype html>
<html lang="zh"><head><meta charset="utf-8"><title>验收报告 Acceptance report {escape(data['generated'][:10])}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #bbb;padding:.3em .5em;text-align:right}}td:first-child,th:first-child{{text-align:left}}small{{color:#555;font-weight:normal}}</style>
</head><body>
<h1>古籍数字化验收报告 <small>Acceptance report</small></h1>
<p>生成时间 generated {escape(data['generated'])} · 单位 units {len(data['units'])} · 计划 planned {data['totals']['planned']} ·
已提交 submitted {data['totals']['submitted']} · 已验收 accepted {data['totals']['accepted']} · 逾期 overdue {data['totals']['overdue']}</p>
{_bars(data['units'])}
<h2>按承建单位 <small>By unit</small></h2>
<table id="units"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>
<h2>按省份 <small>By province</small></h2>
<table id="provinces"><thead><tr>{phead}</tr></thead><tbody>{pbody}</tbody></table>
<p><small>抽检依据 GB/T 2828.1-2012 一次抽样（正常检验）；月报截止日为当月最后一个工作日（{escape(data['calendar'])}）。
Spot checks: GB/T 2828.1-2012 single sampling, normal inspection; monthly catalogues are due on the month's last working day.</small></p>
</body></html>"""


STAT_COLUMNS = [("month", "月份"), ("records", "著录"), ("images", "影像"), ("juan", "卷"), ("views", "浏览"),
                ("searches", "检索命中"), ("downloads", "下载")]


def statistics_csv(data: dict) -> str:
    header = [f"{k} {zh}" for k, zh in STAT_COLUMNS]
    rows = [[r[k] for k, _ in STAT_COLUMNS] for r in data["months"]]
    rows.append(["total 合计", *[data["totals"][k] for k, _ in STAT_COLUMNS[1:]]])
    return _csv(header, rows)
