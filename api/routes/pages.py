"""The web pages (HTML only) and their static files.

Each page reads through the existing services (search, catalogue, the page read model); the
interactive parts (reading view, annotator, reviewer queue, SPARQL console) are plain ES modules
under ``/static`` that call the JSON API. Nothing is loaded from outside the site.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from annotation.model import Category
from api.deps import ContextDep
from api.web import (NPM_INSTALL_HINT, OSD_DIR, OSD_FILES, STATIC_DIR, SWAGGER_DIR, SWAGGER_FILES, TEMPLATES_DIR, YASGUI_DIR,
                     YASGUI_FILES, lineage, openseadragon_available, swagger_available, yasgui_available)
from api.web.labels import label, qname, vocab_label
from api.web.readmodel import PUBLIC_G, ReadModel, catalogue, entity_url, page_for_juan, reading_url
from kg.catalog import Catalog
from kg.errors import GujiError, NotFoundError, WorkMovedError
from kg.namespaces import ID
from search.errors import IndexNotFoundError, SearchQueryError
from search.service import MAX_QUERY_LENGTH

router = APIRouter(include_in_schema=False)

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
templates.env.globals.update(openseadragon_available=openseadragon_available, label=label, vocab_label=vocab_label, qname=qname, entity_url=entity_url, reading_url=reading_url,
                             quote=lambda s: quote(s or "", safe=""), categories=list(Category))

FACETS = [("dynasty", "朝代", "Dynasty"), ("category", "四部", "Category"), ("edition", "版本", "Edition"),
          ("holding", "收藏单位", "Holding library"), ("copy", "现存副本", "Copies"),
          ("entity", "标引实体", "Annotated entity"), ("entity_category", "实体类别", "Entity category"), ("material", "文献类型", "Material")]
ENTITY_CATEGORY_LABELS = {"person": "人名", "place": "地名", "office": "职官", "era": "年号", "book-title": "书名", "event": "事件"}
COPY_LABELS = {"physical": ("原书", "physical"), "microfilm": ("缩微", "microfilm"), "digital": ("数字", "digital")}
HOW = {"simplified": "繁→简", "traditional": "简→繁", "variant": "异体字", "compatibility": "兼容字",
       "private-use": "外字", "case": "大小写"}
PAGE_SIZE = 10


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("title", "guji 古籍")
    return templates.TemplateResponse(request, template, context, status_code=status)


def not_found(request: Request, message: str) -> HTMLResponse:
    return render(request, "error.html", status=404, title="未找到 Not found", message=message)


# -- static files ---------------------------------------------------------------------------------

def _file(root: Path, path: str) -> Response:
    target = (root / path).resolve()
    if not target.is_relative_to(root.resolve()) or not target.is_file():
        return Response("not found", status_code=404, media_type="text/plain")
    media = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    if target.suffix in (".js", ".mjs"):
        media = "text/javascript"
    return FileResponse(target, media_type=media, headers={"Cache-Control": "no-cache"})


@router.get("/static/vendor/yasgui/{name}")
def yasgui_file(name: str) -> Response:
    if name not in YASGUI_FILES:
        return Response("not found", status_code=404, media_type="text/plain")
    return _file(YASGUI_DIR, name)


@router.get("/static/vendor/swagger-ui/{name}")
def swagger_file(name: str) -> Response:
    if name not in SWAGGER_FILES:
        return Response("not found", status_code=404, media_type="text/plain")
    return _file(SWAGGER_DIR, name)


@router.get("/static/vendor/openseadragon/{path:path}")
def openseadragon_file(path: str) -> Response:
    """The viewer script and its button images (npm openseadragon)."""
    if path not in OSD_FILES and not (path.startswith("images/") and path.endswith(".png")):
        return Response("not found", status_code=404, media_type="text/plain")
    return _file(OSD_DIR, path)


@router.get("/docs", response_class=HTMLResponse)
def api_docs(request: Request) -> HTMLResponse:
    """Swagger UI from the installed npm bundle, started by /static/js/docs.js (no CDN, no inline script)."""
    return render(request, "docs.html", title="guji API", installed=swagger_available(), npm_hint=NPM_INSTALL_HINT)


@router.get("/static/{path:path}")
def static_file(path: str) -> Response:
    return _file(STATIC_DIR, path)


# -- search ---------------------------------------------------------------------------------------

def _facet_label(field: str, value: str) -> str:
    if field == "dynasty":
        return vocab_label("dynasty", value).text()
    if field == "copy":
        zh, en = COPY_LABELS.get(value, (value, ""))
        return f"{zh} {en}".strip()
    if field == "entity_category":
        return f"{ENTITY_CATEGORY_LABELS.get(value, value)} {value}".strip()
    return value


def _draw_gaiji(snippet: str, glyphs: list[dict]) -> str:
    """A snippet (HTML) with each character outside Unicode drawn as its glyph image, else as its
    nearest character marked as such; the IDS as a tooltip."""
    from html import escape

    for g in glyphs:
        tip = escape(" · ".join(x for x in (g["ids"], g["code_point"], f"≈ {g['nearest']}" if g["nearest"] else None) if x))
        if g["image"]:
            shown = f'<span class="gaiji gi" title="{tip}"><img src="{escape(g["image"])}" alt="{escape(g["nearest"] or g["code_point"])}"></span>'
        elif g["nearest"]:
            shown = f'<span class="gaiji gn" title="{tip}">{escape(g["nearest"])}</span>'
        else:
            shown = f'<span class="gaiji" title="{tip}">{g["char"]}</span>'
        snippet = snippet.replace(g["char"], shown)
    return snippet


def _hit_url(hit) -> str:
    at = hit.highlights[0].start if hit.highlights else None
    url = reading_url(hit.juan_iri, None) if hit.juan_iri else "#"
    if hit.juan_iri and hit.highlights:
        url += "&hl=" + ",".join(f"{h.start}-{h.end}" for h in hit.highlights)
    return url + (f"#o{at}" if at is not None else "")


def _book_url(hit) -> str | None:
    page = page_for_juan(hit.juan_iri or "")
    return f"/books/{quote(page[1], safe='')}" if page and page[0] == "book" else None


@router.get("/", response_class=HTMLResponse)
@router.get("/search", response_class=HTMLResponse)
async def search_page(request: Request, ctx: ContextDep,
                      q: Annotated[str, Query(max_length=100_000)] = "", exact: bool = False, commentary: bool = False,
                      page: Annotated[int, Query(ge=1, le=1000)] = 1, sort: str = "relevance",
                      dynasty: Annotated[list[str] | None, Query()] = None, category: Annotated[list[str] | None, Query()] = None,
                      edition: Annotated[list[str] | None, Query()] = None, holding: Annotated[list[str] | None, Query()] = None,
                      copy: Annotated[list[str] | None, Query()] = None, entity: Annotated[list[str] | None, Query()] = None,
                      entity_category: Annotated[list[str] | None, Query()] = None,
                      material: Annotated[list[str] | None, Query()] = None,
                      date_from: Annotated[str, Query(max_length=10)] = "", date_to: Annotated[str, Query(max_length=10)] = "") -> HTMLResponse:
    chosen = {k: v for k, v in dict(dynasty=dynasty, category=category, edition=edition, holding=holding, copy=copy,
                                    entity=entity, entity_category=entity_category, material=material).items() if v}
    sort = sort if sort in ("relevance", "work") else "relevance"
    result, error = None, None
    if len(q) > MAX_QUERY_LENGTH:  # the same limit as the API and the CLI, said in words rather than as JSON
        error = (f"检索词过长：最多 {MAX_QUERY_LENGTH} 个字符，现有 {len(q)} 个。请缩短后再检索。"
                 f" The query is too long: at most {MAX_QUERY_LENGTH} characters are searched ({len(q)} given).")
        q_shown = q[:MAX_QUERY_LENGTH]
    else:
        q_shown = q
    if q.strip() and error is None:
        try:
            result = await run_in_threadpool(ctx.search.search, q, exact=exact, filters=chosen, page=page,
                                             size=PAGE_SIZE, sort=sort, commentary=commentary,
                                             date_from=date_from or None, date_to=date_to or None)
            await run_in_threadpool(ctx.count_use, {h.item for h in result.hits}, "search")
        except IndexNotFoundError:
            error = "检索索引尚未建立 (no search index yet): run guji index, or start with guji serve --sample"
        except SearchQueryError as exc:
            error = f"检索式有误 (query error): {exc.message}"

    def url(**change: Any) -> str:
        params: dict[str, Any] = {"q": q, "exact": "true" if exact else None, "commentary": "true" if commentary else None,
                                  "sort": sort if sort != "relevance" else None,
                                  **{k: list(v) for k, v in chosen.items()}, "page": page,
                                  "date_from": date_from or None, "date_to": date_to or None}
        params.update(change)
        pairs = [(k, x) for k, v in params.items() if v not in (None, "", [], 1) or (k == "q")
                 for x in (v if isinstance(v, list) else [v])]
        return "/search?" + urlencode(pairs)

    pages = []
    if result and result.total:
        last = min((result.total - 1) // PAGE_SIZE + 1, 1000)
        pages = sorted({1, last, *range(max(1, page - 2), min(last, page + 2) + 1)})
    glyphs = await run_in_threadpool(ReadModel(ctx.store).gaiji, {h.juan_iri: h.snippet for h in result.hits if h.juan_iri}) if result else {}
    for h in result.hits if result else []:
        if h.juan_iri in glyphs:
            h.snippet = _draw_gaiji(h.snippet, glyphs[h.juan_iri])
    hits = [{"hit": h, "url": _hit_url(h), "book_url": _book_url(h),
             "dynasty": vocab_label("dynasty", h.dynasty).text() if h.dynasty else None,
             "matched": [{"m": m, "how": HOW.get(m.how, m.how)} for m in h.matched_by],
             "through": list({(m.query, m.name, m.via): m for m in h.matched_entities}.values())}
            for h in (result.hits if result else [])]
    facets = []
    if result:
        for field, zh, en in FACETS:
            values = result.facets.get(field) or []
            selected = set(chosen.get(field, []))
            shown = [{"value": v.value, "count": v.count, "label": _facet_label(field, v.value), "checked": v.value in selected}
                     for v in values]
            shown += [{"value": v, "count": 0, "label": _facet_label(field, v), "checked": True}
                      for v in selected if v not in {x.value for x in values}]
            if shown:
                facets.append({"field": field, "zh": zh, "en": en, "values": shown})
    return render(request, "search.html", title=f"{q_shown} — 检索 Search" if q else "guji 古籍检索",
                  q=q_shown, exact=exact, commentary=commentary, date_from=date_from, date_to=date_to, max_query=MAX_QUERY_LENGTH, sort=sort, page=page, result=result, error=error, hits=hits, facets=facets,
                  pages=pages, url=url, nav="search")


# -- books and works --------------------------------------------------------------------------------

def _item_path(iri: str) -> str:
    return iri[len(ID + "item/"):]


def _toc_and_texts(catalog: Catalog, copies: list[dict]) -> list[dict]:
    out = []
    for c in copies:
        try:
            item = catalog.item(_item_path(c["iri"]))
        except GujiError:
            item = {"toc": [], "juans": []}
        juans = item.get("juans") or [{"iri": t["iri"], "juan": t["juan"], "label": t["label"], "chars": t["chars"]}
                                      for t in c.get("texts", [])]
        out.append({"iri": c["iri"], "label": c.get("label") or item.get("label"), "toc": item.get("toc", []), "juans": juans})
    return out


def _toc_link(entry: dict, juans: list[dict]) -> str | None:
    """A table-of-contents entry points to a folio side (…/<juan>/<page>) or a juan."""
    target = entry.get("target") or ""
    for j in juans:
        if target == j["iri"]:
            return reading_url(j["iri"])
        if target.startswith(j["iri"] + "/"):
            return reading_url(j["iri"]) + "#f-" + quote(target.rsplit("/", 1)[-1].split("-")[-1], safe="")
    return None


def _chosen_juan(requested: str | None, copies: list[dict]) -> str | None:
    all_juans = [j["iri"] for c in copies for j in c["juans"]]
    if requested and requested in all_juans:
        return requested
    return all_juans[0] if all_juans else None


@router.get("/books/{census_no}", response_class=HTMLResponse)
async def book_page(request: Request, ctx: ContextDep, census_no: str, juan: str | None = None) -> HTMLResponse:
    catalog = catalogue(ctx.store)
    try:
        book = await run_in_threadpool(catalog.book, census_no)
    except NotFoundError as exc:
        return not_found(request, exc.message)
    copies = await run_in_threadpool(_toc_and_texts, catalog, book["digital"])
    await run_in_threadpool(ctx.count_use, [book.get("iri")], "view")  # per-unit statistics (acceptance/usage.py)
    meta = await run_in_threadpool(ReadModel(ctx.store).work_meta, book["work"]) if book.get("work") else {}
    for c in copies:
        for e in c["toc"]:
            e["url"] = _toc_link(e, c["juans"])
    return render(request, "book.html", title=f"{book['title']} — 书目 Book", kind="book", book=book, meta=meta,
                  lineage=lineage.build(book), copies=copies, juan=_chosen_juan(juan, copies), nav="book")


@router.get("/serials/{batch}/{serial_id}", response_class=HTMLResponse)
async def serial_page(request: Request, ctx: ContextDep, batch: str, serial_id: str) -> HTMLResponse:
    """A periodical or newspaper with its issue calendar (package v2, ADR 0021)."""
    try:
        serial = await run_in_threadpool(catalogue(ctx.store).serial, batch, serial_id)
    except NotFoundError as exc:
        return not_found(request, exc.message)
    return render(request, "serial.html", title=f"{serial['title']} — 连续出版物 Serial", serial=serial, nav="book")


@router.get("/issues/{batch}/{issue_id}", response_class=HTMLResponse)
async def issue_page(request: Request, ctx: ContextDep, batch: str, issue_id: str) -> HTMLResponse:
    """One issue: articles, the frames that show it on film, its text."""
    try:
        issue = await run_in_threadpool(catalogue(ctx.store).issue, batch, issue_id)
    except NotFoundError as exc:
        return not_found(request, exc.message)
    return render(request, "issue.html", title=f"{issue['serial_title']} {issue['date']} — 期次 Issue", issue=issue, nav="book")


@router.get("/works/{identifier:path}", response_class=HTMLResponse)
async def work_page(request: Request, ctx: ContextDep, identifier: str, juan: str | None = None) -> Response:
    catalog = catalogue(ctx.store)
    try:
        work = await run_in_threadpool(catalog.work, identifier)
    except WorkMovedError as moved:  # merged into another work: its old address still leads there
        return RedirectResponse(f"/works/{quote(moved.details['location'], safe='/')}", status_code=301)
    except NotFoundError as exc:
        return not_found(request, exc.message)
    copies = await run_in_threadpool(_toc_and_texts, catalog, [{"iri": c["item"], "label": c["label"]} for c in work["copies"]])
    model = ReadModel(ctx.store)
    census = await run_in_threadpool(model.book_for_work, work["iri"])
    meta = await run_in_threadpool(model.work_meta, work["iri"])
    for c in copies:
        for e in c["toc"]:
            e["url"] = _toc_link(e, c["juans"])
    return render(request, "book.html", title=f"{work['title']} — 作品 Work", kind="work", work=work, meta=meta,
                  census=census, copies=copies, juan=_chosen_juan(juan, copies), nav="book")


@router.get("/read")
def read(iri: str) -> Response:
    """A juan's reading page, whatever book or work it belongs to."""
    url = reading_url(iri)
    if url.startswith("/read?"):
        return Response(f"no reading page for {iri}", status_code=404, media_type="text/plain")
    return RedirectResponse(url, status_code=303)


# -- entities ---------------------------------------------------------------------------------------

@router.get("/entity", response_class=HTMLResponse)
async def entity_page(request: Request, ctx: ContextDep, iri: str) -> HTMLResponse:
    try:
        entity = await run_in_threadpool(ReadModel(ctx.store).entity, iri)
    except NotFoundError as exc:
        return not_found(request, exc.message)
    types = [{"iri": t, "label": label(t)} for t in entity["types"]]
    name = entity["label"] or iri.rsplit("/", 1)[-1]
    return render(request, "entity.html", title=f"{name} — 实体 Entity", entity=entity, name=name, types=types, nav="entity")


# -- annotation and review ---------------------------------------------------------------------------

@router.get("/annotate", response_class=HTMLResponse)
async def annotate_page(request: Request, ctx: ContextDep, iri: str | None = None) -> HTMLResponse:
    texts = []
    if not iri:
        texts = await run_in_threadpool(_juans, ctx)
    book = page_for_juan(iri) if iri else None  # a book's juan: its page images can carry a region (docs/images.md)
    manifest = f"/iiif/books/{quote(book[1], safe='')}/manifest" if book and book[0] == "book" else None
    return render(request, "annotate.html", title="标引 Annotate", juan=iri, texts=texts, nav="annotate", region_manifest=manifest)


def _juans(ctx, limit: int = 500) -> list[dict]:
    rows = ctx.store.query("""
        PREFIX guji: <https://w3id.org/guji/ontology#> PREFIX dcterms: <http://purl.org/dc/terms/>
        PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> PREFIX bf: <http://id.loc.gov/ontologies/bibframe/>
        SELECT ?juan ?label ?item ?title ?chars WHERE { GRAPH ?g { ?juan a guji:Juan ; dcterms:isPartOf ?item ; guji:charCount ?chars .
          OPTIONAL { ?juan guji:juanLabel ?label } OPTIONAL { ?item rdfs:label ?title } } """ + PUBLIC_G + """ }
        ORDER BY ?item ?juan LIMIT """ + str(limit))
    return [{"iri": r["juan"].value, "label": r["label"].value if r["label"] else "", "title": r["title"].value if r["title"] else "",
             "chars": int(r["chars"].value)} for r in rows]


@router.get("/review", response_class=HTMLResponse)
def review_page(request: Request) -> HTMLResponse:
    return render(request, "review.html", title="审校 Review", nav="review")


@router.get("/acceptance", response_class=HTMLResponse)
def acceptance_page(request: Request) -> HTMLResponse:
    return render(request, "acceptance.html", title="验收 Acceptance", nav="acceptance")


@router.get("/submissions/{job_id}", response_class=HTMLResponse)
def submission_page(request: Request, job_id: str) -> HTMLResponse:
    """A background submission's progress and report; the page fetches them with the caller's token."""
    return render(request, "submission.html", title="数据提交 Submission", nav="submission", job_id=job_id)


@router.get("/acceptance/report", response_class=HTMLResponse)
def acceptance_report_page(request: Request) -> HTMLResponse:
    """The report needs the caller's token (kept in the browser session): a small page fetches it."""
    return render(request, "report.html", title="验收报告 Acceptance report", nav="acceptance")


@router.get("/units/{unit}", response_class=HTMLResponse)
async def unit_page(request: Request, ctx: ContextDep, unit: str) -> HTMLResponse:
    try:
        credit = await run_in_threadpool(ctx.acceptance.credit, unit)
    except NotFoundError as exc:
        return not_found(request, exc.message)
    return render(request, "unit.html", title=f"{unit} — 承建单位 Unit", credit=credit, nav="unit")


# -- organisations and projects (organisations/) ----------------------------------------------------

@router.get("/organisations", response_class=HTMLResponse)
async def organisations_page(request: Request, ctx: ContextDep) -> HTMLResponse:
    orgs = await run_in_threadpool(ctx.organisations.organisations)
    projects = await run_in_threadpool(ctx.organisations.projects)
    return render(request, "organisations.html", title="参与机构 Organisations", organisations=orgs, projects=projects,
                  nav="organisations")


@router.get("/organisations/{org}", response_class=HTMLResponse)
async def organisation_page(request: Request, ctx: ContextDep, org: str) -> HTMLResponse:
    try:
        credit = await run_in_threadpool(ctx.organisations.credit, org)
    except NotFoundError as exc:
        return not_found(request, exc.message)
    return render(request, "organisation.html", title=f"{credit['name']} — 参与机构 Organisation", org=credit, nav="organisations")


@router.get("/projects/{project}", response_class=HTMLResponse)
async def project_page(request: Request, ctx: ContextDep, project: str) -> HTMLResponse:
    try:
        p = await run_in_threadpool(ctx.organisations.project, project)
        org = await run_in_threadpool(ctx.organisations.organisation, p["organisation"])
    except NotFoundError as exc:
        return not_found(request, exc.message)
    return render(request, "project.html", title=f"{p['name']} — 标引项目 Project", project=p, organisation=org, nav="organisations")


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/annotate") -> HTMLResponse:
    return render(request, "login.html", title="登录 Log in", next=same_site_path(next), nav="login")


def same_site_path(value: str) -> str:
    r"""``value`` when it is a path on this site, else ``/``: one leading slash, never ``//`` nor a
    backslash anywhere (browsers read ``/\evil.example`` as ``//evil.example``), no control or space
    characters."""
    if (value.startswith("/") and not value.startswith("//") and "\\" not in value
            and not any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in value)):
        return value
    return "/"


# -- SPARQL console -----------------------------------------------------------------------------------

EXAMPLES = [
    {"id": "film-no-digital", "zh": "有缩微品而无数字化副本的古籍", "en": "Books with microfilm but no digital copy", "query": """\
PREFIX guji: <https://w3id.org/guji/ontology#>
PREFIX bf: <http://id.loc.gov/ontologies/bibframe/>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>

# physical books of which some microfilm generation exists but no digital copy (of the book or of its film)
SELECT ?book ?census ?title (GROUP_CONCAT(DISTINCT ?reelId; separator=" ") AS ?reels) WHERE {
  ?book a guji:PhysicalBook ; bf:itemOf ?edition ; bf:identifiedBy/rdf:value ?census .
  ?edition bf:instanceOf/rdfs:label ?title .
  ?film a guji:MicrofilmCopy ; bf:itemOf/bf:reproductionOf+ ?edition .
  OPTIONAL { ?film guji:onReel/<http://purl.org/dc/terms/identifier> ?reelId }
  FILTER NOT EXISTS { ?digital a guji:DigitalCopy ; bf:itemOf/bf:reproductionOf+ ?edition }
}
GROUP BY ?book ?census ?title
ORDER BY ?census"""},
    {"id": "persons-in-work", "zh": "某部作品中提及的人物", "en": "Persons mentioned in a work", "query": """\
PREFIX guji: <https://w3id.org/guji/ontology#>
PREFIX oa: <http://www.w3.org/ns/oa#>
PREFIX bf: <http://id.loc.gov/ontologies/bibframe/>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX as: <http://www.w3.org/ns/activitystreams#>

# approved annotations (category 人名) on any text of the work; change the title to ask about another work
SELECT ?person ?name (COUNT(DISTINCT ?a) AS ?mentions) WHERE {
  ?work rdfs:label ?title . FILTER(STR(?title) = "桃花源記")
  ?juan dcterms:isPartOf/bf:itemOf/bf:instanceOf ?work .
  ?a oa:hasTarget/oa:hasSource ?juan .
  # one reading, or competing readings in a Choice (an rdf:List)
  ?a oa:hasBody/(as:items/rdf:rest*/rdf:first)? ?reading .
  ?reading guji:category <https://w3id.org/guji/vocab/entity-category/person> ; oa:hasSource ?person .
  OPTIONAL { ?reading rdfs:label ?name }
}
GROUP BY ?person ?name
ORDER BY DESC(?mentions)"""},
    {"id": "works-per-dynasty", "zh": "各朝代的作品数", "en": "Works per dynasty", "query": """\
PREFIX guji: <https://w3id.org/guji/ontology#>
PREFIX bf: <http://id.loc.gov/ontologies/bibframe/>

# the dynasty of the work (its author), else of its edition
SELECT ?dynasty (COUNT(DISTINCT ?work) AS ?works) WHERE {
  ?work a bf:Work .
  OPTIONAL { ?work guji:dynasty ?d1 }
  OPTIONAL { ?edition bf:instanceOf ?work ; guji:dynasty ?d2 }
  BIND(COALESCE(?d1, ?d2) AS ?d)
  BIND(IF(BOUND(?d), STRAFTER(STR(?d), "/dynasty/"), "(未著录 not recorded)") AS ?dynasty)
}
GROUP BY ?dynasty
ORDER BY DESC(?works)"""},
    {"id": "reels-due", "zh": "待检查的缩微胶卷", "en": "Reels due for inspection", "query": """\
PREFIX guji: <https://w3id.org/guji/ontology#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX bf: <http://id.loc.gov/ontologies/bibframe/>
PREFIX dcterms: <http://purl.org/dc/terms/>

# acetate film every 2 years (vinegar syndrome), polyester every 5; never inspected = due now
SELECT ?reelId ?base ?lastInspection ?yearsSince WHERE {
  {
    SELECT ?reel (MAX(?t) AS ?lastInspection) WHERE {
      ?reel a guji:MicrofilmReel .
      OPTIONAL { ?ev a guji:InspectionEvent ; prov:used ?reel ; prov:endedAtTime ?t }
    } GROUP BY ?reel
  }
  ?reel dcterms:identifier ?reelId .
  OPTIONAL { ?reel bf:baseMaterial ?b }
  BIND(STRAFTER(STR(?b), "/film-base/") AS ?base)
  BIND(IF(BOUND(?lastInspection), YEAR(NOW()) - YEAR(?lastInspection), 99) AS ?yearsSince)
  FILTER(?yearsSince >= IF(?b = <https://w3id.org/guji/vocab/film-base/acetate>, 2, 5))
}
ORDER BY DESC(?yearsSince) ?reelId"""},
]


@router.get("/sparql-console", response_class=HTMLResponse)
def sparql_console(request: Request, editor: str | None = None) -> HTMLResponse:
    """Yasgui when its npm bundle is installed; ``?editor=plain`` (or no bundle) gives the plain editor."""
    installed = yasgui_available()
    return render(request, "sparql.html", title="SPARQL 查询 console", examples=EXAMPLES,
                  yasgui=installed and editor != "plain", installed=installed, npm_hint=NPM_INSTALL_HINT, nav="sparql")
