"""The acceptance workflow's service: every method takes the caller's identity first, checks it
against :mod:`acceptance.policies`, and writes through the canonical store's one write path
(``store.replace_graphs``: one transaction, one change-log entry per graph).
"""

from __future__ import annotations

import random
import secrets
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, timezone
from pathlib import Path

import pyoxigraph as ox

from accounts.identity import Identity, Role, agent_iri
from acceptance import rdf
from acceptance.errors import (AcceptanceConflictError, AcceptanceInputError, AcceptanceNotFoundError,
                               CalendarCoverageError, NotYoursError)
from acceptance.policies import Scope, require_staff, scope_of
from acceptance.rdf import Builder, first, records
from acceptance.sampling import plan as sampling_plan
from acceptance.tables import Column, Problems, parse_date, read_table
from acceptance.workdays import due_date, parse_month
from kg.namespaces import BF, DCTERMS, GG, GUJI, ID, PROV, RDF, RDFS
from kg.package.rdf import package_graph, slug

DEFECT_CATEGORIES = {
    "metadata_error": ("著录错误", "metadata error"),
    "image_defect": ("影像缺陷", "image defect"),
    "missing_page": ("缺页漏拍", "missing page"),
    "text_error_rate": ("文字差错率超标", "text error rate over threshold"),
    "gaiji_undeclared": ("外字未登记", "character outside the set not declared"),
    "file_integrity": ("文件完整性", "file missing or checksum wrong"),
    "other": ("其他", "other"),
}

UNIT_COLUMNS = (
    Column("unit", "承建单位", "submitting unit", required=True, aliases=("单位", "name")),
    Column("province", "省份", "province", required=True, aliases=("省",)),
    Column("contact", "联系人", "contact person"),
    Column("phone", "联系电话", "telephone", aliases=("电话",)),
    Column("email", "电子邮箱", "e-mail", aliases=("邮箱", "email")),
)

PLAN_COLUMNS = (
    Column("unit", "承建单位", "submitting unit", required=True, aliases=("单位",)),
    Column("province", "省份", "province", required=True, aliases=("省",)),
    Column("title", "题名", "title", required=True, aliases=("书名",)),
    Column("edition", "版本", "edition", required=True, aliases=("版本项",)),
    Column("census_no", "普查登记编号", "census number", aliases=("普查编号",)),
    Column("planned_juan", "计划卷数", "planned juan", kind="count", aliases=("卷数",)),
    Column("planned_volumes", "计划册数", "planned volumes", kind="count", aliases=("册数",)),
    Column("planned_images", "计划影像数", "planned images", kind="count", aliases=("影像数", "图像数")),
)

CATALOGUE_COLUMNS = (
    Column("title", "题名", "title", required=True, aliases=("书名",)),
    Column("unit", "承建单位", "submitting unit", required=True, aliases=("单位",)),
    Column("contact", "联系人", "contact person", required=True),
    Column("phone", "联系电话", "telephone", required=True, aliases=("电话",)),
    Column("completed", "完成日期", "completion date", kind="date"),
    Column("census_no", "普查登记编号", "census number", aliases=("普查编号",)),
)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _stamp(at: datetime) -> str:
    return at.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _china_date(at: datetime) -> date:
    """The calendar day in China (UTC+8) of a moment: due dates are Beijing days."""
    from datetime import timedelta

    return (at.astimezone(timezone.utc) + timedelta(hours=8)).date()


class AcceptanceService:
    def __init__(self, store, *, users=None, outbox: Path | None = None, usage=None, clock: Callable[[], datetime] = _now) -> None:
        self.store = store
        self.usage = usage  # acceptance.usage.UsageCounter, or None (no counts kept)
        self.users = users
        self.outbox = outbox
        self.clock = clock

    # -- units and members -------------------------------------------------------------------

    def _cached(self, key: str, compute: Callable[[], object]):
        """``compute()`` once per state of the store (any write invalidates every entry)."""
        seq = self.store.last_sequence()
        cache = self.__dict__.setdefault("_cache", {})
        if cache.get("_seq") != seq:
            cache.clear()
            cache["_seq"] = seq
        if key not in cache:
            cache[key] = compute()
        return cache[key]

    def _graphs_with(self, prefix: str) -> list[str]:
        return [g for g in self._cached("graphs", self.store.graphs) if g.startswith(prefix)]

    def units(self) -> dict[str, dict]:
        """Every registered unit: name → {iri, province}. Public (credit)."""
        return dict(self._cached("units", self._read_units))

    def _read_units(self) -> dict[str, dict]:
        out = {}
        for s, r in rdf.of_type(records(self.store, rdf.UNITS_GRAPH), "unit"):
            out[first(r, "label")] = {"iri": s, "name": first(r, "label"), "province": first(r, "province")}
        return out

    def _contacts(self) -> dict[str, dict]:
        recs = records(self.store, rdf.MEMBERS_GRAPH)
        out = {}
        for s, r in recs.items():
            if s.endswith("/contact") and "unit" in r:
                out[first(r, "unit")] = {"contact": first(r, "contact"), "phone": first(r, "phone"), "email": first(r, "email")}
        return out

    def register_units(self, identity: Identity, filename: str, data: bytes) -> dict:
        """Staff register the submitting units (CSV/XLSX: unit, province, contact, phone, e-mail).
        Units already registered keep their records; a unit may not change province here."""
        require_staff(identity)
        problems = Problems(filename)
        table = read_table(filename, data, UNIT_COLUMNS, problems)
        known = self.units()
        seen: dict[str, int] = {}
        for row in table.rows:
            name, province = row.get("unit"), row.get("province")
            if not name or not name.value:
                continue
            if name.value in seen:
                problems.add("duplicate_unit", f"承建单位“{name.value}”重复（首次出现在第 {seen[name.value]} 行）",
                             f"unit '{name.value}' is listed twice (first on row {seen[name.value]})",
                             sheet=table.sheet or None, row=name.row, column=name.column, field="unit", value=name.value)
            seen.setdefault(name.value, name.row)
            old = known.get(name.value)
            if old and province and province.value and old["province"] != province.value:
                problems.add("province_mismatch", f"承建单位“{name.value}”已登记在{old['province']}，此处为{province.value}",
                             f"unit '{name.value}' is registered in {old['province']}, this row says {province.value}",
                             sheet=table.sheet or None, row=province.row, column=province.column, field="province", value=province.value)
        problems.raise_if_any("units")
        units = Builder()
        members = self._members_builder()
        merged = {n: {"province": u["province"]} for n, u in known.items()}
        contacts = self._contacts()
        for row in table.rows:
            n = row["unit"].value
            merged[n] = {"province": row["province"].value}
            c = {k: row[k].value for k in ("contact", "phone", "email") if k in row and row[k].value}
            if c:
                contacts[n] = c
        for n, u in sorted(merged.items()):
            units.node(rdf.unit_iri(n), "unit", ACTIVITY_ORG, label=n, province=u["province"])
        for n, c in contacts.items():
            members.node(rdf.unit_iri(n) + "/contact", unit=n, **{k: v for k, v in c.items() if v})
        self.store.replace_graphs({rdf.UNITS_GRAPH: units.triples, rdf.MEMBERS_GRAPH: members.triples}, agent=identity.name)
        return {"units": len(merged), "added": len(set(merged) - set(known)), "file": filename, "encoding": table.encoding}

    def _members_builder(self, drop_agent: str | None = None) -> Builder:
        """The members graph as it is (minus one agent's memberships), to be extended."""
        b = Builder()
        for q in self.store.oxigraph.quads_for_pattern(None, None, None, ox.NamedNode(rdf.MEMBERS_GRAPH)):
            if drop_agent is not None and q.subject.value == drop_agent:
                continue
            b.triples.append(q.triple)
        return b

    def set_member(self, identity: Identity, user: str, *, unit: str | None = None, province: str | None = None) -> dict:
        """Staff say which unit a submitter belongs to, or which province a coordinator coordinates."""
        require_staff(identity)
        if (unit is None) == (province is None):
            raise AcceptanceInputError("give exactly one of unit or province / 须且只须指定承建单位或省份之一", field="unit")
        role = None
        if self.users is not None:
            role = self.users.require(user).role
        units = self.units()
        if unit is not None:
            if unit not in units:
                raise AcceptanceNotFoundError(f"no registered unit {unit!r} / 未登记的承建单位", field="unit", value=unit)
            if role is not None and role is not Role.SUBMITTER:
                raise AcceptanceInputError(f"a unit's member needs the role submitter; {user} is {role.value}", field="user")
        else:
            if province not in {u["province"] for u in units.values()}:
                raise AcceptanceNotFoundError(f"no registered unit is in province {province!r} / 该省无已登记单位", field="province")
            if role is not None and role is not Role.COORDINATOR:
                raise AcceptanceInputError(f"a province needs a user with the role coordinator; {user} is {role.value}", field="user")
        agent = agent_iri(user)
        b = self._members_builder(drop_agent=agent)
        if unit is not None:
            b.add(agent, "member_of", ox.NamedNode(rdf.unit_iri(unit)))
        else:
            b.add(agent, "coordinates", province)
        self.store.replace_graphs({rdf.MEMBERS_GRAPH: b.triples}, agent=identity.name)
        return {"user": user, "unit": unit, "province": province}

    def scope(self, identity: Identity) -> Scope:
        recs = self._cached("members", lambda: records(self.store, rdf.MEMBERS_GRAPH))
        mine = recs.get(agent_iri(identity.name), {}) if identity.authenticated else {}
        by_iri = {u["iri"]: n for n, u in self.units().items()}
        units = frozenset(by_iri[i] for i in mine.get("member_of", []) if i in by_iri)
        provinces = frozenset(mine.get("coordinates", []))
        return scope_of(identity, units, provinces, self.units())

    # -- the approved catalogue (审定目录) ----------------------------------------------------------

    def import_plan(self, identity: Identity, filename: str, data: bytes, *, year: int | None = None,
                    first_deadline: str | None = None, final_deadline: str | None = None) -> dict:
        """Import the approved digitisation catalogue. Every row is checked first (unknown unit, a
        province that is not the unit's, duplicate titles, counts, empty or merged cells); any problem
        refuses the whole file. A unit's plan replaces its earlier plan, all units in one transaction."""
        require_staff(identity)
        deadlines = {}
        for key, text in (("first_deadline", first_deadline), ("final_deadline", final_deadline)):
            if text:
                d = parse_date(text)
                if d is None:
                    raise AcceptanceInputError(f"{key} is not a real date (YYYY-MM-DD): {text!r} / 日期无效", field=key)
                deadlines[key] = d.isoformat()
        if len(deadlines) == 2 and deadlines["first_deadline"] > deadlines["final_deadline"]:
            raise AcceptanceInputError("the first deadline is after the final one / 第一阶段截止日期晚于最终截止日期", field="first_deadline")
        problems = Problems(filename)
        table = read_table(filename, data, PLAN_COLUMNS, problems)
        units = self.units()
        seen: dict[tuple, int] = {}
        sheet = table.sheet or None
        for row in table.rows:
            u, p, t, e = (row.get(k) for k in ("unit", "province", "title", "edition"))
            if u and u.value and u.value not in units:
                problems.add("unknown_unit", f"未登记的承建单位“{u.value}”", f"unknown submitting unit '{u.value}' (register it first)",
                             sheet=sheet, row=u.row, column=u.column, field="unit", value=u.value)
            elif u and u.value and p and p.value and units[u.value]["province"] != p.value:
                problems.add("province_mismatch", f"承建单位“{u.value}”属{units[u.value]['province']}，此行为{p.value}",
                             f"unit '{u.value}' is in {units[u.value]['province']}, this row says {p.value}",
                             sheet=sheet, row=p.row, column=p.column, field="province", value=p.value)
            if u and t and u.value and t.value:
                key = (u.value, t.value, e.value if e else "")
                if key in seen:
                    problems.add("duplicate_title", f"同一单位重复列出《{t.value}》{key[2]}（首次出现在第 {seen[key]} 行）",
                                 f"'{t.value}' ({key[2]}) is listed twice for this unit (first on row {seen[key]})",
                                 sheet=sheet, row=t.row, column=t.column, field="title", value=t.value)
                seen.setdefault(key, t.row)
        problems.raise_if_any("plan")
        by_unit: dict[str, Builder] = defaultdict(Builder)
        year = year or _china_date(self.clock()).year
        for i, row in enumerate(table.rows, start=1):
            unit = row["unit"].value
            b = by_unit[unit]
            s = f"{ID}acceptance/plan/{slug(unit)}/{year}/{i}"
            b.node(s, "plan_entry", unit=ox.NamedNode(rdf.unit_iri(unit)), title=row["title"].value,
                   edition=row["edition"].value, census_no=row.get("census_no").value if row.get("census_no") else None,
                   year=year, row=row["title"].row, position=i,
                   **{k: int(row[k].value) for k in ("planned_juan", "planned_volumes", "planned_images") if k in row and row[k].value})
        graphs = {}
        for unit, b in by_unit.items():
            head = f"{ID}acceptance/plan/{slug(unit)}/{year}"
            b.node(head, ACTIVITY_ORG_PLAN, unit=ox.NamedNode(rdf.unit_iri(unit)), year=year, source=filename,
                   at=rdf.datetime_lit(_stamp(self.clock())), agent=ox.NamedNode(agent_iri(identity.name)),
                   **{k: rdf.date_lit(v) for k, v in deadlines.items()})
            graphs[rdf.plan_graph(unit)] = b.triples
        self.store.replace_graphs(graphs, agent=identity.name)
        return {"file": filename, "encoding": table.encoding, "sheet": table.sheet or None, "year": year,
                "titles": len(table.rows), "units": sorted(by_unit), **deadlines}

    def plan(self, identity: Identity, unit: str) -> dict:
        sc = self.scope(identity)
        sc.require_unit(unit)
        recs = records(self.store, rdf.plan_graph(unit))
        entries = [_entry(s, r) for s, r in rdf.of_type(recs, "plan_entry")]
        entries.sort(key=lambda e: e["position"] or 0)
        head = next((r for s, r in recs.items() if ACTIVITY_ORG_PLAN in r.get("type", [])), {})
        return {"unit": unit, "province": self.units()[unit]["province"], "year": first(head, "year"),
                "first_deadline": first(head, "first_deadline"), "final_deadline": first(head, "final_deadline"),
                "entries": entries}

    # -- what units submitted ---------------------------------------------------------------------

    def submissions(self, unit: str) -> list[dict]:
        """The packages in the store whose submitting unit is ``unit``: batch, date, books."""
        q = f"""PREFIX guji: <{GUJI}> PREFIX prov: <{PROV}> PREFIX dcterms: <{DCTERMS}>
        SELECT ?g ?batch ?at WHERE {{ GRAPH ?g {{ ?s a guji:Submission ; dcterms:identifier ?batch ;
            prov:wasAssociatedWith <{rdf.unit_iri(unit)}> . OPTIONAL {{ ?s prov:endedAtTime ?at }} }}
            FILTER(STRSTARTS(STR(?g), "{GG}package/")) }} ORDER BY ?batch"""
        out = []
        for r in self.store.query(q):
            out.append({"batch": r["batch"].value, "graph": r["g"].value, "date": r["at"].value[:10] if r["at"] else None,
                        "books": self._books(r["g"].value)})
        return out

    def _books(self, graph: str) -> list[dict]:
        q = f"""PREFIX bf: <{BF}> PREFIX rdfs: <{RDFS}> PREFIX rdf: <{RDF}> PREFIX guji: <{GUJI}>
        SELECT ?item ?title ?census WHERE {{ GRAPH <{graph}> {{
            ?item a guji:PhysicalBook ; bf:itemOf/bf:instanceOf ?work . ?work rdfs:label ?title .
            OPTIONAL {{ ?item bf:identifiedBy ?cn . ?cn rdf:value ?census }}
            FILTER(STRSTARTS(STR(?item), "{ID}item/census/")) }} }} ORDER BY ?item"""
        return [{"item": r["item"].value, "title": r["title"].value, "census_no": r["census"].value if r["census"] else None}
                for r in self.store.query(q)]

    def _batch_unit(self, batch: str) -> str:
        q = f"""PREFIX guji: <{GUJI}> PREFIX prov: <{PROV}> PREFIX rdfs: <{RDFS}>
        SELECT ?unit WHERE {{ GRAPH <{package_graph(batch)}> {{ ?s a guji:Submission ; prov:wasAssociatedWith ?unit }} }}"""
        rows = list(self.store.query(q))
        if not rows:
            raise AcceptanceNotFoundError(f"no submitted package with batch {batch!r} / 无此批次的数据包", field="batch", value=batch)
        by_iri = {u["iri"]: n for n, u in self.units().items()}
        unit = by_iri.get(rows[0]["unit"].value)
        if unit is None:
            raise AcceptanceNotFoundError(f"the submitting unit of batch {batch!r} is not a registered unit / 该批次的承建单位未登记",
                                          field="batch", value=batch)
        return unit

    # -- progress -----------------------------------------------------------------------------

    def progress(self, identity: Identity) -> dict:
        """Per unit and province: planned vs sample-approved vs submitted vs accepted, with overdue titles."""
        sc = self.scope(identity)
        today = _china_date(self.clock())
        units_out = []
        for name, u in sorted(self.units().items()):
            if not sc.sees(name):
                continue
            plan = self.plan(identity, name)
            subs = self.submissions(name)
            accepted_batches = {b["batch"] for b in self._batches(name) if b.get("accepted")}
            approved = self._approved_sample(name)
            books = [(s["batch"], bk) for s in subs for bk in s["books"]]
            entries = []
            for e in plan["entries"]:
                match = next((b for b, bk in books if (e["census_no"] and bk["census_no"] == e["census_no"])
                              or (not e["census_no"] and bk["title"].strip() == e["title"])), None)
                overdue = match is None and bool(plan["final_deadline"]) and today > date.fromisoformat(plan["final_deadline"])
                entries.append({**e, "submitted_in": match, "accepted": match in accepted_batches, "overdue": overdue})
            first_missed = (bool(plan["first_deadline"]) and not subs and today > date.fromisoformat(plan["first_deadline"]))
            units_out.append({
                "unit": name, "province": u["province"], "planned": len(entries),
                "sample_approved": approved is not None, "sample": approved,
                "submitted": sum(1 for e in entries if e["submitted_in"]), "accepted": sum(1 for e in entries if e["accepted"]),
                "overdue": sum(1 for e in entries if e["overdue"]), "first_deadline_missed": first_missed,
                "first_deadline": plan["first_deadline"], "final_deadline": plan["final_deadline"],
                "packages": [s["batch"] for s in subs], "entries": entries})
        provinces: dict[str, dict] = {}
        for u in units_out:
            p = provinces.setdefault(u["province"], {"province": u["province"], "units": 0, "planned": 0, "sample_approved": 0,
                                                      "submitted": 0, "accepted": 0, "overdue": 0})
            p["units"] += 1
            p["sample_approved"] += int(u["sample_approved"])
            for k in ("planned", "submitted", "accepted", "overdue"):
                p[k] += u[k]
        return {"today": today.isoformat(), "units": units_out, "provinces": sorted(provinces.values(), key=lambda p: p["province"])}

    # -- sample review (样例数据审核) ---------------------------------------------------------------

    def mark_sample(self, identity: Identity, batch: str) -> dict:
        """A submitted package becomes its unit's sample (by the unit itself or by staff)."""
        unit = self._batch_unit(batch)
        self.scope(identity).require_unit(unit, write=True)
        g = rdf.sample_graph(batch)
        if self.store.count(g):
            raise AcceptanceConflictError(f"batch {batch!r} is already marked as a sample / 该批次已标为样例", batch=batch)
        b = Builder()
        s = f"{ID}acceptance/sample/{slug(batch)}"
        b.node(s, "sample", ACTIVITY_EVENT, unit=ox.NamedNode(rdf.unit_iri(unit)), batch=batch,
               used=ox.NamedNode(f"{ID}submission/{slug(batch)}"), event_type="sample submitted",
               agent=ox.NamedNode(agent_iri(identity.name)), at=rdf.datetime_lit(_stamp(self.clock())))
        self.store.replace_graphs({g: b.triples}, agent=identity.name)
        return self.sample(identity, batch)

    def review_sample(self, identity: Identity, batch: str, decision: str, opinions: list[dict], note: str | None = None) -> dict:
        """Staff record a decision (approved / revise) with opinions per file/row/field, in the
        validation report's shape. Each review is a new event; the latest one counts."""
        require_staff(identity)
        if decision not in ("approved", "revise"):
            raise AcceptanceInputError("decision must be 'approved' or 'revise' / 审核结论须为 approved 或 revise", field="decision")
        if decision == "revise" and not opinions:
            raise AcceptanceInputError("a 'revise' decision needs at least one opinion / 退回修改须附审核意见", field="opinions")
        g = rdf.sample_graph(batch)
        if not self.store.count(g):
            raise AcceptanceNotFoundError(f"batch {batch!r} is not marked as a sample / 该批次未标为样例", field="batch", value=batch)
        b = Builder()
        b.triples = [q.triple for q in self.store.oxigraph.quads_for_pattern(None, None, None, ox.NamedNode(g))]
        at = self.clock()
        rid = f"{ID}acceptance/sample/{slug(batch)}/review/{at.strftime('%Y%m%dT%H%M%S%f')}"
        b.node(rid, "review", ACTIVITY_EVENT, used=ox.NamedNode(f"{ID}acceptance/sample/{slug(batch)}"), batch=batch,
               event_type="sample review", decision=decision, outcome=decision, note=note,
               agent=ox.NamedNode(agent_iri(identity.name)), at=rdf.datetime_lit(_stamp(at)))
        for i, o in enumerate(opinions, start=1):
            msg = str(o.get("message") or o.get("message_zh") or "").strip()
            if not msg:
                raise AcceptanceInputError(f"opinion {i} has no message / 第 {i} 条意见没有内容", field=f"opinions[{i - 1}].message")
            oid = f"{rid}/opinion/{i}"
            b.add(rid, "opinion", ox.NamedNode(oid))
            b.node(oid, GUJI + "ReviewOpinion", file=o.get("file"), row=int(o["row"]) if str(o.get("row", "")).isdigit() else None,
                   field=o.get("field"), message=msg, position=i)
        self.store.replace_graphs({g: b.triples}, agent=identity.name)
        return self.sample(identity, batch)

    def sample(self, identity: Identity, batch: str) -> dict:
        unit = self._batch_unit(batch)
        self.scope(identity).require_unit(unit)
        recs = records(self.store, rdf.sample_graph(batch))
        if not recs:
            raise AcceptanceNotFoundError(f"batch {batch!r} is not marked as a sample / 该批次未标为样例", field="batch", value=batch)
        head = next(r for s, r in rdf.of_type(recs, "sample"))
        reviews = []
        for s, r in rdf.of_type(recs, "review"):
            ops = sorted((recs[o] for o in r.get("opinion", []) if o in recs), key=lambda o: first(o, "position", 0))
            reviews.append({"decision": first(r, "decision"), "at": first(r, "at"), "by": _agent_name(first(r, "agent")),
                            "note": first(r, "note"),
                            "opinions": [{k: first(o, k2) for k, k2 in (("file", "file"), ("row", "row"), ("field", "field"), ("message", "message"))
                                          if first(o, k2) is not None} for o in ops]})
        reviews.sort(key=lambda r: r["at"])
        return {"batch": batch, "unit": unit, "marked_at": first(head, "at"), "reviews": reviews,
                "decision": reviews[-1]["decision"] if reviews else "pending"}

    def _approved_sample(self, unit: str) -> str | None:
        for g in self._graphs_with(rdf.SAMPLE_PREFIX):
            recs = records(self.store, g)
            heads = list(rdf.of_type(recs, "sample"))
            if not heads or first(heads[0][1], "unit") != rdf.unit_iri(unit):
                continue
            reviews = sorted((r for _, r in rdf.of_type(recs, "review")), key=lambda r: first(r, "at"))
            if reviews and first(reviews[-1], "decision") == "approved":
                return first(heads[0][1], "batch")
        return None

    def profile(self, batch: str) -> dict:
        """What a package fills: per kind of record, the properties used; the image formats. Used to
        compare a later batch with the unit's approved sample."""
        graph = package_graph(batch)
        q = f"""SELECT ?t ?p (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s a ?t ; ?p ?o }} }} GROUP BY ?t ?p"""
        used = defaultdict(set)
        for r in self.store.query(q):
            used[_local(r["t"].value)].add(_local(r["p"].value))
        fq = f"""PREFIX guji: <{GUJI}> PREFIX dcterms: <{DCTERMS}> SELECT DISTINCT ?f WHERE {{
            GRAPH ?g {{ ?s dcterms:format ?f }} FILTER(?g = <{graph}> || ?g = <{GG}preservation/package/{slug(batch)}>) }}"""
        formats = sorted(str(getattr(r["f"], "value", r["f"])) for r in self.store.query(fq))
        dq = f"""PREFIX guji: <{GUJI}> SELECT DISTINCT ?d WHERE {{ GRAPH <{graph}> {{ ?s guji:resolutionDpi ?d }} }}"""
        formats += sorted(f"{r['d'].value} dpi" for r in self.store.query(dq))
        return {"batch": batch, "properties": {k: sorted(v) for k, v in sorted(used.items())}, "formats": formats}

    def compare_with_sample(self, identity: Identity, batch: str) -> dict:
        """A later batch against the unit's approved sample: tables/columns filled and image formats
        that differ."""
        unit = self._batch_unit(batch)
        self.scope(identity).require_unit(unit)
        sample = self._approved_sample(unit)
        if sample is None:
            raise AcceptanceConflictError(f"unit {unit} has no approved sample yet / 该单位尚无审核通过的样例", unit=unit)
        a, b = self.profile(sample), self.profile(batch)
        diffs = []
        for kind in sorted(set(a["properties"]) | set(b["properties"])):
            pa, pb = set(a["properties"].get(kind, [])), set(b["properties"].get(kind, []))
            for p in sorted(pa - pb):
                diffs.append({"kind": kind, "property": p, "in_sample": True, "in_batch": False,
                              "message_zh": f"样例中填写的 {kind}.{p} 在本批次缺失", "message_en": f"{kind}.{p} is filled in the sample but not in this batch"})
            for p in sorted(pb - pa):
                diffs.append({"kind": kind, "property": p, "in_sample": False, "in_batch": True,
                              "message_zh": f"本批次填写了样例中没有的 {kind}.{p}", "message_en": f"{kind}.{p} is filled in this batch but not in the sample"})
        for f in sorted(set(a["formats"]) ^ set(b["formats"])):
            diffs.append({"kind": "format", "property": f, "in_sample": f in a["formats"], "in_batch": f in b["formats"],
                          "message_zh": f"文件格式 {f} 与样例不一致", "message_en": f"file format {f} differs from the sample"})
        return {"batch": batch, "sample": sample, "unit": unit, "same_profile": not diffs, "differences": diffs}

    # -- monthly catalogue ----------------------------------------------------------------------

    def submit_catalogue(self, identity: Identity, month: str, filename: str, data: bytes) -> dict:
        """A unit's (or a province's) catalogue of the books completed in ``month``. Rows name their
        unit; every unit must be one the caller may submit for. Late when received after the due
        day (the last working day of the month, Beijing time)."""
        year, mon = parse_month(month)
        month = f"{year:04d}-{mon:02d}"
        now = self.clock()
        today = _china_date(now)
        if (year, mon) > (today.year, today.month):
            raise AcceptanceInputError(f"{month} is in the future: a month's catalogue lists books completed in it / 月份在未来",
                                       field="month", value=month)
        sc = self.scope(identity)
        if not (sc.everything or sc.units or sc.provinces):
            raise NotYoursError("submitting a monthly catalogue needs a unit's member, a provincial coordinator or acceptance staff")
        problems = Problems(filename)
        table = read_table(filename, data, CATALOGUE_COLUMNS, problems)
        units = self.units()
        seen: dict[tuple, int] = {}
        sheet = table.sheet or None
        for row in table.rows:
            u, t, c = row.get("unit"), row.get("title"), row.get("completed")
            if u and u.value:
                if u.value not in units:
                    problems.add("unknown_unit", f"未登记的承建单位“{u.value}”", f"unknown submitting unit '{u.value}'",
                                 sheet=sheet, row=u.row, column=u.column, field="unit", value=u.value)
                elif not sc.may_write(u.value):
                    problems.add("not_your_unit", f"无权为“{u.value}”提交目录", f"you may not submit for unit '{u.value}'",
                                 sheet=sheet, row=u.row, column=u.column, field="unit", value=u.value)
            if u and t and u.value and t.value:
                key = (u.value, t.value)
                if key in seen:
                    problems.add("duplicate_title", f"《{t.value}》重复（首次出现在第 {seen[key]} 行）",
                                 f"'{t.value}' is listed twice (first on row {seen[key]})", sheet=sheet, row=t.row, column=t.column,
                                 field="title", value=t.value)
                seen.setdefault(key, t.row)
            if c and c.value and (d := parse_date(c.value)) is not None and (d.year, d.month) != (year, mon):
                problems.add("date_outside_month", f"完成日期 {c.value} 不在 {month}", f"completion date {c.value} is not in {month}",
                             sheet=sheet, row=c.row, column=c.column, field="completed", value=c.value)
        problems.raise_if_any("catalogue")
        due = due_date(month)["due"]
        late = today > date.fromisoformat(due)
        by_unit: dict[str, list] = defaultdict(list)
        for row in table.rows:
            by_unit[row["unit"].value].append(row)
        graphs = {}
        for unit, rows in by_unit.items():
            b = Builder()
            head = f"{ID}acceptance/catalogue/{slug(unit)}/{month}"
            b.node(head, "catalogue", ACTIVITY_EVENT, unit=ox.NamedNode(rdf.unit_iri(unit)), month=month, due=rdf.date_lit(due),
                   received=rdf.datetime_lit(_stamp(now)), late=late, source=filename, event_type="monthly catalogue received",
                   agent=ox.NamedNode(agent_iri(identity.name)), at=rdf.datetime_lit(_stamp(now)))
            for i, row in enumerate(rows, start=1):
                e = f"{head}/{i}"
                b.add(head, "entry", ox.NamedNode(e))
                b.node(e, "catalogue_entry", title=row["title"].value, contact=row["contact"].value, phone=row["phone"].value,
                       completed=rdf.date_lit(parse_date(row["completed"].value).isoformat()) if row.get("completed") and row["completed"].value else None,
                       census_no=row["census_no"].value if row.get("census_no") else None, position=i, row=row["title"].row)
            graphs[rdf.catalogue_graph(unit, month)] = b.triples
        self.store.replace_graphs(graphs, agent=identity.name)
        return {"month": month, "due": due, "received": _stamp(now), "late": late, "units": sorted(by_unit),
                "entries": len(table.rows), "encoding": table.encoding}

    def catalogue(self, identity: Identity, unit: str, month: str) -> dict | None:
        self.scope(identity).require_unit(unit)
        year, mon = parse_month(month)
        month = f"{year:04d}-{mon:02d}"
        recs = records(self.store, rdf.catalogue_graph(unit, month))
        heads = list(rdf.of_type(recs, "catalogue"))
        if not heads:
            return None
        h = heads[0][1]
        entries = sorted((_catalogue_entry(recs[e]) for e in h.get("entry", []) if e in recs), key=lambda e: e["position"])
        return {"unit": unit, "month": month, "due": first(h, "due"), "received": first(h, "received"), "late": first(h, "late"),
                "entries": entries}

    def catalogue_status(self, identity: Identity, month: str) -> dict:
        """Who sent the month's catalogue, who sent it late, who has not sent it (missing once the due day has passed)."""
        year, mon = parse_month(month)
        month = f"{year:04d}-{mon:02d}"
        sc = self.scope(identity)
        due = due_date(month)["due"]
        today = _china_date(self.clock())
        rows = []
        for name, u in sorted(self.units().items()):
            if not sc.sees(name):
                continue
            c = self.catalogue(identity, name, month)
            state = ("late" if c["late"] else "on_time") if c else ("missing" if today > date.fromisoformat(due) else "not_yet_due")
            rows.append({"unit": name, "province": u["province"], "state": state, "received": c["received"] if c else None,
                         "entries": len(c["entries"]) if c else 0})
        return {"month": month, "due": due, "today": today.isoformat(), "units": rows}

    def reminders(self, identity: Identity, month: str) -> dict:
        """Reminder e-mails for every unit whose catalogue is missing (or not yet sent, before the
        due day), written to an outbox file (one RFC 5322 message per unit, mbox); no mail server."""
        require_staff(identity)
        status = self.catalogue_status(identity, month)
        contacts = self._contacts()
        messages = []
        for row in status["units"]:
            if row["state"] not in ("missing", "not_yet_due"):
                continue
            c = contacts.get(row["unit"], {})
            messages.append({"unit": row["unit"], "to": c.get("email"), "contact": c.get("contact"), "state": row["state"]})
        path = None
        if self.outbox is not None and messages:
            from email.message import EmailMessage
            from email.utils import format_datetime

            self.outbox.mkdir(parents=True, exist_ok=True)
            path = self.outbox / f"reminders-{status['month']}.mbox"
            with path.open("a", encoding="utf-8") as out:
                for m in messages:
                    msg = EmailMessage()
                    msg["To"] = m["to"] or f"(no e-mail registered for {m['unit']})"
                    msg["From"] = "acceptance@guji.invalid"
                    msg["Date"] = format_datetime(self.clock())
                    msg["Subject"] = f"{status['month']} 月度目录提交提醒 / monthly catalogue reminder: {m['unit']}"
                    late = "已逾期" if m["state"] == "missing" else "即将到期"
                    msg.set_content(
                        f"{m['contact'] or m['unit']}：\n\n{m['unit']} {status['month']} 已完成古籍目录{late}（截止 {status['due']}，"
                        f"该月最后一个工作日）。请登录系统提交。\n\nThe catalogue of books completed in {status['month']} by {m['unit']} "
                        f"was due on {status['due']} (the last working day of the month). Please submit it.\n")
                    out.write(f"From acceptance@guji.invalid {self.clock().strftime('%a %b %d %H:%M:%S %Y')}\n")
                    out.write(msg.as_string().replace("\nFrom ", "\n>From ") + "\n")
        return {"month": status["month"], "due": status["due"], "reminders": messages, "outbox": str(path) if path else None}

    # -- spot checks (定期随机抽检) -------------------------------------------------------------------

    def _lot(self, kind: str, ref: str) -> tuple[str, list[str]]:
        """(unit, sorted item identifiers) of a lot: a submitted batch's books, or a unit's month of completions."""
        if kind == "batch":
            unit = self._batch_unit(ref)
            return unit, sorted(b["item"] for b in self._books(package_graph(ref)))
        if kind == "month":
            unit, _, month = ref.rpartition("/")
            parse_month(month)
            recs = records(self.store, rdf.catalogue_graph(unit, month))
            entries = [s for s, _ in rdf.of_type(recs, "catalogue_entry")]
            if not entries:
                raise AcceptanceNotFoundError(f"no monthly catalogue of {unit} for {month} / 无该月目录", field="lot", value=ref)
            return unit, sorted(entries)
        raise AcceptanceInputError("a lot is a 'batch' or a 'month' / 抽检批须为 batch 或 month", field="kind")

    def create_check(self, identity: Identity, kind: str, ref: str, aql: str, level: str = "II", seed: int | None = None) -> dict:
        """Draw the sample of a spot check: the GB/T 2828.1 plan for the lot's size, then a simple
        random sample drawn with a recorded seed (the same seed draws the same items again)."""
        require_staff(identity)
        unit, items = self._lot(kind, ref)
        if not items:
            raise AcceptanceInputError(f"the lot {ref!r} has no items to inspect / 该批无可抽检条目", field="lot")
        p = sampling_plan(len(items), aql, level)
        seed = secrets.randbelow(2**31) if seed is None else int(seed)
        drawn = sorted(random.Random(seed).sample(items, p.sample_size), key=items.index)
        at = self.clock()
        cid = f"{at.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(4)}"  # ASCII: it is a path segment
        s = f"{ID}acceptance/check/{cid}"
        b = Builder()
        b.node(s, "check", ACTIVITY_EVENT, unit=ox.NamedNode(rdf.unit_iri(unit)), lot=f"{kind}:{ref}", lot_size=len(items),
               aql=p.aql, level=p.level, code_letter=p.code_letter, sample_size=p.sample_size, accept_no=p.accept,
               reject_no=p.reject, seed=seed, event_type="spot check", agent=ox.NamedNode(agent_iri(identity.name)),
               at=rdf.datetime_lit(_stamp(at)))
        if kind == "batch":
            b.add(s, "batch", ref)
        for i, item in enumerate(drawn, start=1):
            b.add(s, "sampled", ox.NamedNode(item))
        self.store.replace_graphs({rdf.check_graph(cid): b.triples}, agent=identity.name)
        return self.check(identity, cid)

    def record_defects(self, identity: Identity, check_id: str, defects: list[dict]) -> dict:
        """Record the defects found on sampled items (category from DEFECT_CATEGORIES), then decide
        the lot by the plan: accepted when the defective items are ≤ Ac, rejected when ≥ Re."""
        require_staff(identity)
        g = rdf.check_graph(check_id)
        recs = records(self.store, g)
        heads = list(rdf.of_type(recs, "check"))
        if not heads:
            raise AcceptanceNotFoundError(f"no spot check {check_id!r} / 无此抽检", field="check", value=check_id)
        s, h = heads[0]
        if first(h, "decision"):
            raise AcceptanceConflictError(f"spot check {check_id} is decided already ({first(h, 'decision')}) / 抽检已判定",
                                          check=check_id)
        sampled = set(h.get("sampled", []))
        b = Builder()
        b.triples = [q.triple for q in self.store.oxigraph.quads_for_pattern(None, None, None, ox.NamedNode(g))]
        for i, d in enumerate(defects, start=1):
            item, cat = d.get("item"), d.get("category")
            if item not in sampled:
                raise AcceptanceInputError(f"defect {i}: {item!r} is not in the drawn sample / 第 {i} 条：该条目不在样本中",
                                           field=f"defects[{i - 1}].item")
            if cat not in DEFECT_CATEGORIES:
                raise AcceptanceInputError(f"defect {i}: category must be one of {', '.join(DEFECT_CATEGORIES)} / 缺陷类别无效",
                                           field=f"defects[{i - 1}].category")
            did = f"{s}/defect/{i}"
            b.add(s, "defect", ox.NamedNode(did))
            b.node(did, "defect", item=ox.NamedNode(item), category=cat, note=d.get("note"), position=i)
        defective = len({d["item"] for d in defects})
        decision = "accepted" if defective <= first(h, "accept_no") else "rejected"
        b.add(s, "decision", decision)
        b.add(s, "outcome", decision)
        self.store.replace_graphs({g: b.triples}, agent=identity.name)
        return self.check(identity, check_id)

    def check(self, identity: Identity, check_id: str) -> dict:
        recs = records(self.store, rdf.check_graph(check_id))
        heads = list(rdf.of_type(recs, "check"))
        if not heads:
            raise AcceptanceNotFoundError(f"no spot check {check_id!r} / 无此抽检", field="check", value=check_id)
        s, h = heads[0]
        by_iri = {u["iri"]: n for n, u in self.units().items()}
        unit = by_iri.get(first(h, "unit"))
        self.scope(identity).require_unit(unit)
        defects = sorted((recs[d] for d in h.get("defect", []) if d in recs), key=lambda d: first(d, "position", 0))
        return {"id": check_id, "unit": unit, "lot": first(h, "lot"), "batch": first(h, "batch"), "lot_size": first(h, "lot_size"),
                "aql": first(h, "aql"), "level": first(h, "level"), "code_letter": first(h, "code_letter"),
                "sample_size": first(h, "sample_size"), "accept": first(h, "accept_no"), "reject": first(h, "reject_no"),
                "seed": first(h, "seed"), "at": first(h, "at"), "sampled": sorted(h.get("sampled", [])),
                "defects": [{"item": first(d, "item"), "category": first(d, "category"), "note": first(d, "note")} for d in defects],
                "defective_items": len({first(d, "item") for d in defects}), "decision": first(h, "decision") or "pending"}

    def checks(self, identity: Identity, unit: str | None = None) -> list[dict]:
        sc = self.scope(identity)
        out = []
        for g in self._graphs_with(rdf.CHECK_PREFIX):
            cid = g[len(rdf.CHECK_PREFIX):]
            recs = records(self.store, g)
            heads = list(rdf.of_type(recs, "check"))
            by_iri = {u["iri"]: n for n, u in self.units().items()}
            u = by_iri.get(first(heads[0][1], "unit")) if heads else None
            if u is None or not sc.sees(u) or (unit and u != unit):
                continue
            out.append(self.check(identity, cid))
        return sorted(out, key=lambda c: c["at"])

    # -- batches and acceptance (验收) --------------------------------------------------------------

    def _batches(self, unit: str) -> list[dict]:
        out = []
        for g in self._graphs_with(rdf.BATCH_PREFIX):
            recs = records(self.store, g)
            for s, r in rdf.of_type(recs, "batch"):
                if first(r, "unit") == rdf.unit_iri(unit):
                    acc = next((a for _, a in rdf.of_type(recs, "acceptance")), None)
                    out.append({"batch": first(r, "batch"), "deadline": first(r, "deadline"),
                                "accepted": acc is not None and first(acc, "decision") == "accepted",
                                "accepted_at": first(acc, "at") if acc else None})
        return out

    def acceptance_status(self, identity: Identity, batch: str) -> dict:
        """What acceptance of a batch needs: the package validated (it is only stored when valid), its
        spot checks decided with none rejected and at least one, and the unit's monthly catalogues
        complete for every month from its first submission to the last month whose due day has passed."""
        unit = self._batch_unit(batch)
        self.scope(identity).require_unit(unit)
        checks = [c for c in self.checks(identity, unit) if c["batch"] == batch]
        subs = self.submissions(unit)
        months = _months_between(min((s["date"] or "")[:7] for s in subs if s["date"]) if any(s["date"] for s in subs) else None,
                                 _china_date(self.clock()))
        missing = [m for m in months if self.catalogue(identity, unit, m) is None]
        reasons = []
        if not checks:
            reasons.append({"code": "no_spot_check", "message_zh": "尚未抽检", "message_en": "no spot check of this batch yet"})
        if any(c["decision"] == "pending" for c in checks):
            reasons.append({"code": "check_pending", "message_zh": "抽检尚未判定", "message_en": "a spot check is not decided"})
        if any(c["decision"] == "rejected" for c in checks):
            reasons.append({"code": "check_rejected", "message_zh": "抽检不合格", "message_en": "a spot check rejected the lot"})
        if missing:
            reasons.append({"code": "catalogue_missing", "message_zh": f"缺少月度目录：{'、'.join(missing)}",
                            "message_en": f"monthly catalogues missing: {', '.join(missing)}", "months": missing})
        rec = next((b for b in self._batches(unit) if b["batch"] == batch), None)
        sample = self._approved_sample(unit)
        profile = None  # reported, not blocking: staff judge whether a difference matters
        if sample is not None and sample != batch:
            diff = self.compare_with_sample(identity, batch)
            profile = {"sample": sample, "same_profile": diff["same_profile"], "differences": diff["differences"]}
        return {"batch": batch, "unit": unit, "validated": True, "sample_profile": profile, "checks": [{"id": c["id"], "decision": c["decision"]} for c in checks],
                "catalogue_months": months, "missing_catalogues": missing, "ready": not reasons, "reasons": reasons,
                "accepted": bool(rec and rec["accepted"]), "deadline": rec["deadline"] if rec else None}

    def accept_batch(self, identity: Identity, batch: str, *, deadline: str | None = None, note: str | None = None) -> dict:
        require_staff(identity)
        st = self.acceptance_status(identity, batch)
        if st["accepted"]:
            raise AcceptanceConflictError(f"batch {batch} is accepted already / 该批次已验收", batch=batch)
        if not st["ready"]:
            raise AcceptanceConflictError(
                f"batch {batch} cannot be accepted yet: " + "; ".join(r["message_en"] for r in st["reasons"])
                + " / 尚不能验收：" + "；".join(r["message_zh"] for r in st["reasons"]), batch=batch, reasons=st["reasons"])
        if deadline and parse_date(deadline) is None:
            raise AcceptanceInputError(f"deadline is not a real date: {deadline!r}", field="deadline")
        at = self.clock()
        s = f"{ID}acceptance/batch/{slug(batch)}"
        b = Builder()
        b.node(s, "batch", unit=ox.NamedNode(rdf.unit_iri(st["unit"])), batch=batch,
               deadline=rdf.date_lit(parse_date(deadline).isoformat()) if deadline else None,
               used=ox.NamedNode(f"{ID}submission/{slug(batch)}"))
        b.node(f"{s}/acceptance", "acceptance", ACTIVITY_EVENT, batch=batch, used=ox.NamedNode(s), decision="accepted",
               outcome="accepted", event_type="acceptance", note=note, agent=ox.NamedNode(agent_iri(identity.name)),
               at=rdf.datetime_lit(_stamp(at)))
        for c in st["checks"]:
            b.add(f"{s}/acceptance", "used", ox.NamedNode(f"{ID}acceptance/check/{c['id']}"))
        self.store.replace_graphs({rdf.batch_graph(batch): b.triples}, agent=identity.name)
        return self.acceptance_status(identity, batch)

    # -- the acceptance report ----------------------------------------------------------------------

    def report(self, identity: Identity) -> dict:
        """Figures per unit and province: the plan's progress, spot checks and their defects, monthly
        catalogues (on time / late / missing since the unit's first submission), batches accepted."""
        from acceptance.workdays import calendar_source

        prog = self.progress(identity)
        checks = self.checks(identity)
        today = _china_date(self.clock())
        units = []
        for u in prog["units"]:
            mine = [c for c in checks if c["unit"] == u["unit"]]
            dates = [s["date"] for s in self.submissions(u["unit"]) if s["date"]]
            months = _months_between(min(dates)[:7] if dates else None, today)
            states = []
            for m in months:
                c = self.catalogue(identity, u["unit"], m)
                states.append("missing" if c is None else ("late" if c["late"] else "on_time"))
            units.append({**{k: u[k] for k in ("unit", "province", "planned", "sample_approved", "submitted", "accepted", "overdue")},
                          "checks": len(mine), "checks_accepted": sum(c["decision"] == "accepted" for c in mine),
                          "checks_rejected": sum(c["decision"] == "rejected" for c in mine),
                          "defects": sum(len(c["defects"]) for c in mine),
                          "catalogues_on_time": states.count("on_time"), "catalogues_late": states.count("late"),
                          "catalogues_missing": states.count("missing"),
                          "batches_accepted": [b["batch"] for b in self._batches(u["unit"]) if b["accepted"]]})
        provinces: dict[str, dict] = {}
        for u in units:
            p = provinces.setdefault(u["province"], {"province": u["province"], "units": 0})
            p["units"] += 1
            for k, v in u.items():
                if isinstance(v, bool):
                    p[k] = p.get(k, 0) + int(v)
                elif isinstance(v, int):
                    p[k] = p.get(k, 0) + v
                elif isinstance(v, list):
                    p[k] = p.get(k, 0) + len(v)
        totals = {k: sum(u[k] for u in units) for k in ("planned", "submitted", "accepted", "overdue")}
        return {"generated": _stamp(self.clock()), "today": today.isoformat(), "calendar": calendar_source(), "units": units,
                "provinces": sorted(provinces.values(), key=lambda p: p["province"]), "totals": totals}

    # -- rights, credit and statistics (权益保障, 激励) -------------------------------------------------

    def credit(self, unit: str) -> dict:
        """Public: the unit, its province, the use terms and the books it contributed."""
        from acceptance.errors import AcceptanceNotFoundError as NF

        units = self.units()
        if unit not in units:
            raise NF(f"no registered unit {unit!r} / 未登记的承建单位", unit=unit)
        books = []
        for s_ in self.submissions(unit):
            for b in s_["books"]:
                books.append({"title": b["title"], "census_no": b["census_no"], "batch": s_["batch"]})
        from kg.package.rdf import USE_TERMS

        return {"unit": unit, "province": units[unit]["province"], "iri": units[unit]["iri"], "books": books,
                "terms": {"iri": USE_TERMS, "zh": "服务级数据，免费提供，仅限非商业使用；版权归承建单位所有",
                          "en": "service-level data, free of charge, for non-commercial use only; the submitting unit owns it"}}

    def statistics(self, identity: Identity, unit: str) -> dict:
        """Per month: records, images and juan published, views, searches that hit the unit's
        resources, downloads. For the unit's members, its coordinator and staff."""
        from acceptance.usage import KINDS, unit_holdings

        self.scope(identity).require_unit(unit)
        iri = rdf.unit_iri(unit)
        held = unit_holdings(self.store, iri)
        used = self.usage.counts(iri) if self.usage is not None else {}
        plural = {"view": "views", "search": "searches", "download": "downloads"}
        months = []
        for m in sorted(set(held) | set(used)):
            row = {"month": m, **held.get(m, {"records": 0, "images": 0, "juan": 0})}
            row.update({plural[k]: used.get(m, {}).get(k, 0) for k in KINDS})
            months.append(row)
        totals = {k: sum(r[k] for r in months) for k in ("records", "images", "juan", "views", "searches", "downloads")}
        return {"unit": unit, "months": months, "totals": totals}


ACTIVITY_ORG = "http://www.w3.org/ns/org#Organization"
ACTIVITY_ORG_PLAN = GUJI + "ApprovedCatalogue"
ACTIVITY_EVENT = "activity_event"  # prov:Activity and premis:Event


def _agent_name(iri: str | None) -> str | None:
    from accounts.identity import agent_name

    return agent_name(iri) if iri else None


def _local(iri: str) -> str:
    for sep in ("#", "/"):
        if sep in iri:
            iri = iri.rsplit(sep, 1)[-1]
    return iri


def _entry(s: str, r: dict) -> dict:
    return {"iri": s, "title": first(r, "title"), "edition": first(r, "edition"), "census_no": first(r, "census_no"),
            "planned_juan": first(r, "planned_juan"), "planned_volumes": first(r, "planned_volumes"),
            "planned_images": first(r, "planned_images"), "position": first(r, "position"), "row": first(r, "row")}


def _catalogue_entry(r: dict) -> dict:
    return {"title": first(r, "title"), "contact": first(r, "contact"), "phone": first(r, "phone"),
            "completed": first(r, "completed"), "census_no": first(r, "census_no"), "position": first(r, "position", 0)}


def _months_between(start: str | None, today: date) -> list[str]:
    """Months from ``start`` (YYYY-MM) whose catalogue is due by ``today`` (due day passed or today)."""
    if not start:
        return []
    y, m = int(start[:4]), int(start[5:7])
    out = []
    while (y, m) <= (today.year, today.month):
        month = f"{y:04d}-{m:02d}"
        try:
            due = date.fromisoformat(due_date(month)["due"])
        except CalendarCoverageError:
            if (y, m) == (today.year, today.month):  # a new year before the calendar package has it:
                break  # the running month is not due yet for all we can know; a past month stays an error
            raise
        if due < today:
            out.append(month)
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out
