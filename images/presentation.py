"""IIIF Presentation 3 manifests and collections, built from the public graphs.

- a manifest per digital copy of a physical book (``/iiif/books/{census}/manifest``): its canvases
  in reading order (juan, folio side), ranges per juan (the table of contents the package gives),
  ``rendering`` → the text of each juan, ``seeAlso`` → the RDF of the copy, the submitting unit
  as ``requiredStatement`` and its ``rights`` when the package states them;
- a manifest per microfilm reel (``/iiif/reels/{reel}/manifest``): the canvases of the images
  scanned from it, in frame order;
- a collection per book (its manifests) and per work (its books' collections).

Every document is checked by iiif-prezi3's models before it leaves (a broken one is a bug, 500,
never sent), and the tests validate them against the Presentation 3 JSON Schema as well.
"""

from __future__ import annotations

from collections import defaultdict
from urllib.parse import quote

import pyoxigraph as ox

from images.errors import ImageNotFoundError
from kg.catalog import Catalog
from kg.errors import NotFoundError
from kg.namespaces import ID

CONTEXT = "http://iiif.io/api/presentation/3/context.json"
NUMERALS = "〇一二三四五六七八九"

# DISTINCT: the union default graph gives a statement once per graph that makes it, and the
# submitting unit's label is stated by every package of that unit
CANVASES = """
    SELECT DISTINCT ?canvas ?seq ?label ?folio ?file ?w ?h ?format ?side ?pageId ?juan ?juanNo ?juanLabel ?frameNo ?reelId ?unit ?unitIri ?rights WHERE {
      ?canvas a iiif:Canvas ; dcterms:isPartOf ?copy ; guji:sequence ?seq ; rdfs:label ?label ; guji:imageFile ?file .
      ?file guji:pixelWidth ?w ; guji:pixelHeight ?h ; dcterms:format ?format .
      OPTIONAL { ?canvas guji:folioLabel ?folio }
      OPTIONAL { ?canvas guji:showsFolio ?side . ?side dcterms:isPartOf ?juan ; guji:pageId ?pageId . ?juan guji:juanNumber ?juanNo .
                 OPTIONAL { ?juan guji:juanLabel ?juanLabel } }
      OPTIONAL { ?canvas guji:showsFrame ?frame . ?frame guji:frameNumber ?frameNo ; guji:onReel/dcterms:identifier ?reelId }
      OPTIONAL { ?canvas prov:wasGeneratedBy ?sub .
                 OPTIONAL { ?sub prov:wasAssociatedWith ?unitIri . ?unitIri rdfs:label ?unit } OPTIONAL { ?sub dcterms:rights ?rights } }
    }"""


def _lang(zh: str, en: str | None = None) -> dict:
    return {"zh": [zh], **({"en": [en]} if en else {})}


def _juan_label(number: str | None, label: str | None) -> str:
    if label:
        return label
    n = int(number or 0)
    return "卷" + ("".join(NUMERALS[int(d)] for d in str(n)) if n < 10 else str(n))


def _canvas(svc, row: dict, label: dict) -> dict:
    from images.service import image_id_of

    image_id = image_id_of(row["file"])
    w, h = int(row["w"]), int(row["h"])
    cid = row["canvas"]
    metadata = []  # what the reading view synchronises on: the folio side and its page id in the text
    if row.get("folio"):
        metadata.append({"label": _lang("叶", "folio"), "value": {"none": [row["folio"]]}})
    if row.get("pageId"):
        metadata.append({"label": _lang("页码标记", "page id"), "value": {"none": [row["pageId"]]}})
    if row.get("frameNo"):
        metadata.append({"label": _lang("画幅", "frame"), "value": {"none": [f"{row['reelId']} {row['frameNo']}"]}})
    if row.get("juan"):
        metadata.append({"label": _lang("卷", "juan"), "value": {"none": [row["juan"]]}})
    return {
        "id": cid, "type": "Canvas", "label": label, "width": w, "height": h, **({"metadata": metadata} if metadata else {}),
        "items": [{
            "id": f"{cid}/page", "type": "AnnotationPage",
            "items": [{
                "id": f"{cid}/page/image", "type": "Annotation", "motivation": "painting", "target": cid,
                "body": {"id": f"{svc.service_id(image_id)}/full/max/0/default.jpg", "type": "Image",
                         "format": "image/jpeg", "width": w, "height": h,
                         "service": [{"id": svc.service_id(image_id), "type": "ImageService3", "profile": "level2"}]},
            }],
        }],
        "thumbnail": [{"id": f"{svc.service_id(image_id)}/full/!200,200/0/default.jpg", "type": "Image", "format": "image/jpeg"}],
    }


def _describe(svc, iri: str) -> str:
    """The RDF of a resource: a DESCRIBE over the public SPARQL endpoint (Turtle by Accept)."""
    return f"{svc.base_url}sparql?query=" + quote(f"DESCRIBE <{iri}>", safe="")


def _provider(rows: list[dict]) -> dict:
    unit, unit_iri = next(((r["unit"], r["unitIri"]) for r in rows if r.get("unit")), (None, None))
    rights = next((r["rights"] for r in rows if r.get("rights")), None)
    out: dict = {}
    if unit:
        out["requiredStatement"] = {"label": _lang("提供单位", "Provided by"), "value": _lang(unit)}
        out["provider"] = [{"id": unit_iri, "type": "Agent", "label": _lang(unit)}]
    if rights:
        out["rights"] = rights
    return out


def _check(doc: dict, kind: str) -> dict:
    """iiif-prezi3's models read the document back: a structural mistake fails here, not in a viewer."""
    import iiif_prezi3

    getattr(iiif_prezi3, kind)(**{k: v for k, v in doc.items() if k != "@context"})
    return doc


REGIONS = """
    SELECT ?a ?canvas ?xywh ?label ?cat ?authority WHERE {
      GRAPH ?g { ?img oa:hasSource ?canvas ; oa:hasSelector ?sel . ?sel rdf:value ?xywh .
                 ?a a oa:Annotation ; oa:hasTarget ?img ; guji:reviewStatus "approved" .
                 OPTIONAL { ?a oa:hasBody ?r . ?r guji:readingRank 1 . OPTIONAL { ?r rdfs:label ?label }
                            OPTIONAL { ?r guji:category ?cat } OPTIONAL { ?r oa:hasSource ?authority } } }
      FILTER(STRSTARTS(STR(?g), "%s"))
    } ORDER BY ?a"""

CATEGORY = {"person": ("人名", "person"), "place": ("地名", "place"), "office": ("职官", "office"), "era": ("年号", "era"),
            "book-title": ("书名", "book title"), "event": ("事件", "event")}


def approved_regions(svc, canvases: list[str]) -> dict[str, list[dict]]:
    """Approved annotations that mark a region of these canvases, as W3C annotations (IIIF
    AnnotationPage items) per canvas. Drafts and submitted ones live in private graphs: never here."""
    from kg.graphs import ANNOTATION
    from kg.namespaces import sparql_prefixes

    if not canvases:
        return {}
    values = " ".join(f"<{c}>" for c in canvases)
    query = REGIONS % ANNOTATION
    at = query.index("{", query.upper().index("WHERE")) + 1
    query = f"{query[:at]} VALUES ?canvas {{ {values} }} {query[at:]}"
    out: dict[str, list[dict]] = defaultdict(list)
    seen = set()
    for r in svc.store.query(sparql_prefixes() + query):
        a = r["a"].value
        if a in seen:
            continue
        seen.add(a)
        xywh = r["xywh"].value.removeprefix("xywh=").removeprefix("pixel:")
        cat = r["cat"].value.rsplit("/", 1)[-1] if r["cat"] else None
        zh, en = CATEGORY.get(cat, ("标注", "annotation"))
        name = r["label"].value if r["label"] else ""
        body = [{"type": "TextualBody", "value": f"{name}（{zh}）" if name else zh, "language": "zh", "format": "text/plain"},
                {"type": "TextualBody", "value": f"{name} ({en})" if name else en, "language": "en", "format": "text/plain"}]
        if r["authority"] and not r["authority"].value.startswith("https://w3id.org/guji/vocab/"):
            body.append({"id": r["authority"].value, "type": "Dataset", "format": "text/html"})
        out[r["canvas"].value].append({"id": a, "type": "Annotation", "motivation": "tagging", "body": body,
                                       "target": f"{r['canvas'].value}#xywh={xywh}"})
    return out


def book_manifest(svc, census_no: str, *, check: bool = True) -> dict:
    book = Catalog(svc.store).book(census_no)
    copy = next((d for d in book["digital"] if (d.get("level") or "").endswith("/service")), None)
    if copy is None:
        raise ImageNotFoundError(f"book {census_no} has no service-level digital copy", census_no=census_no)
    rows = sorted(svc.select(CANVASES, copy=ox.NamedNode(copy["iri"])), key=lambda r: int(r["seq"]))
    if not rows:
        raise ImageNotFoundError(f"book {census_no} has no page images", census_no=census_no)
    mid = f"{svc.base_url}iiif/books/{quote(census_no, safe='')}/manifest"
    title = book["title"]
    canvases = [_canvas(svc, r, {"zh": [f"{_juan_label(r['juanNo'], r['juanLabel'])} 第{r['folio']}葉" if r["folio"] else r["label"]],
                                 "en": [f"juan {int(r['juanNo'])}, folio {r['folio']}" if r["juanNo"] and r["folio"] else r["label"]]})
                for r in rows]
    regions = approved_regions(svc, [c["id"] for c in canvases])
    for c in canvases:  # approved image-region annotations: an AnnotationPage per canvas, for any IIIF viewer
        if regions.get(c["id"]):
            c["annotations"] = [{"id": f"{c['id']}/annotations", "type": "AnnotationPage", "items": regions[c["id"]]}]
    ranges: dict[str, dict] = {}
    for r in rows:
        if r["juan"]:
            rng = ranges.setdefault(r["juan"], {
                "id": f"{mid}/range/{r['juanNo']}", "type": "Range",
                "label": _lang(_juan_label(r["juanNo"], r["juanLabel"]), f"juan {int(r['juanNo'])}"), "items": []})
            rng["items"].append({"id": r["canvas"], "type": "Canvas"})
    juans = {t["iri"]: t for t in copy["texts"]}
    edition = book["edition"]
    metadata = [
        {"label": _lang("题名", "Title"), "value": _lang(title)},
        {"label": _lang("普查登记编号", "Census number"), "value": _lang(census_no)},
        {"label": _lang("收藏单位", "Holding library"), "value": _lang(book["holding_library"]["name"] or "")},
        {"label": _lang("索书号", "Call number"), "value": _lang(book["call_number"] or "")},
    ]
    if edition.get("editionStatement"):
        metadata.append({"label": _lang("版本", "Edition"), "value": _lang(edition["editionStatement"])})
    doc = {
        "@context": CONTEXT, "id": mid, "type": "Manifest",
        "label": _lang(f"{title}（数字化服务级）", f"{title} — digital copy (service level)"),
        "summary": _lang(f"{book['label']}", None),
        "metadata": metadata,
        **_provider(rows),
        "viewingDirection": "right-to-left",
        "behavior": ["paged"],
        "homepage": [{"id": f"{svc.base_url}books/{quote(census_no, safe='')}", "type": "Text",
                      "label": _lang(f"{title} 书目页", f"{title}: book page"), "format": "text/html"}],
        "rendering": [{"id": f"{svc.base_url}api/texts?iri={quote(iri, safe='')}", "type": "Text",
                       "label": _lang(f"{_juan_label(t['juan'], t['label'])} 全文", f"full text of juan {int(t['juan'])}"),
                       "format": "application/json"} for iri, t in juans.items()],
        "seeAlso": [{"id": _describe(svc, copy["iri"]), "type": "Dataset",
                     "label": _lang("RDF 数据", "RDF description"), "format": "text/turtle"}],
        "partOf": [{"id": f"{svc.base_url}iiif/books/{quote(census_no, safe='')}/collection", "type": "Collection"}],
        "items": canvases,
        "structures": list(ranges.values()),
    }
    if not doc["rendering"]:
        del doc["rendering"]
    if not doc["structures"]:
        del doc["structures"]
    return _check(doc, "Manifest") if check else doc


def reel_manifest(svc, reel_id: str, *, check: bool = True) -> dict:
    rows = svc.select(CANVASES.replace("?reelId ?unit", "?reelId ?unit").replace(
        "OPTIONAL { ?canvas guji:showsFrame ?frame .", "{ ?canvas guji:showsFrame ?frame ."), reelId=ox.Literal(reel_id))
    if not rows:
        raise NotFoundError(f"no page images scanned from reel {reel_id}", reel=reel_id)
    rows.sort(key=lambda r: int(r["frameNo"]))
    mid = f"{svc.base_url}iiif/reels/{quote(reel_id, safe='')}/manifest"
    info = Catalog(svc.store).reel_frame(reel_id, int(rows[0]["frameNo"]))
    canvases = [_canvas(svc, r, {"zh": [f"画幅 {r['frameNo']}（{_juan_label(r['juanNo'], r['juanLabel'])} 第{r['folio']}葉）"
                                        if r["folio"] else f"画幅 {r['frameNo']}"],
                                 "en": [f"frame {r['frameNo']}"]}) for r in rows]
    doc = {
        "@context": CONTEXT, "id": mid, "type": "Manifest",
        "label": _lang(f"{info['title']} 缩微胶卷 {reel_id}", f"{info['title']} — microfilm reel {reel_id}"),
        "metadata": [{"label": _lang("卷片号", "Reel"), "value": _lang(reel_id)},
                     {"label": _lang("普查登记编号", "Census number"), "value": _lang(info["census_no"])}],
        **_provider(rows),
        "viewingDirection": "right-to-left",
        "homepage": [{"id": f"{svc.base_url}books/{quote(info['census_no'], safe='')}", "type": "Text",
                      "label": _lang(f"{info['title']} 书目页", f"{info['title']}: book page"), "format": "text/html"}],
        "seeAlso": [{"id": _describe(svc, info["reel_iri"]), "type": "Dataset",
                     "label": _lang("RDF 数据", "RDF description"), "format": "text/turtle"}],
        "partOf": [{"id": f"{svc.base_url}iiif/books/{quote(info['census_no'], safe='')}/collection", "type": "Collection"}],
        "items": canvases,
    }
    return _check(doc, "Manifest") if check else doc


def _book_manifest_refs(svc, census_no: str) -> tuple[dict, list[dict]]:
    book = Catalog(svc.store).book(census_no)
    refs = []
    if any((d.get("level") or "").endswith("/service") for d in book["digital"]):
        rows = svc.select("""SELECT (COUNT(?c) AS ?n) WHERE { ?c a iiif:Canvas ; dcterms:isPartOf ?copy }""",
                          copy=ox.NamedNode(next(d["iri"] for d in book["digital"] if d["level"].endswith("/service"))))
        if rows and int(rows[0]["n"]):
            refs.append({"id": f"{svc.base_url}iiif/books/{quote(census_no, safe='')}/manifest", "type": "Manifest",
                         "label": _lang(f"{book['title']}（数字化服务级）", f"{book['title']} — digital copy")})
    reels = svc.select("""
        SELECT DISTINCT ?reelId WHERE { ?canvas guji:showsFrame/guji:onReel ?reel . ?reel dcterms:identifier ?reelId .
          ?copy guji:onReel ?reel ; bf:itemOf/bf:reproductionOf/^bf:itemOf ?item } ORDER BY ?reelId""",
                       item=ox.NamedNode(book["iri"]))
    for r in reels:
        refs.append({"id": f"{svc.base_url}iiif/reels/{quote(r['reelId'], safe='')}/manifest", "type": "Manifest",
                     "label": _lang(f"{book['title']} 缩微胶卷 {r['reelId']}", f"{book['title']} — microfilm reel {r['reelId']}")})
    return book, refs


def book_collection(svc, census_no: str) -> dict:
    book, refs = _book_manifest_refs(svc, census_no)
    doc = {"@context": CONTEXT, "id": f"{svc.base_url}iiif/books/{quote(census_no, safe='')}/collection", "type": "Collection",
           "label": _lang(f"{book['title']}（{census_no}）的书影", f"page images of {book['title']} ({census_no})"),
           "items": refs}
    return _check(doc, "Collection")


def work_collection(svc, work: str) -> dict:
    iri = f"{ID}work/{work}"
    # a work merged into another (kg.works, owl:sameAs) shows the copies of the work it now is
    same = svc.select("""SELECT ?canonical WHERE { ?work <http://www.w3.org/2002/07/owl#sameAs> ?canonical }""",
                      work=ox.NamedNode(iri))
    if same:
        iri = same[0]["canonical"]
    books = svc.select("""
        SELECT ?census ?title WHERE { ?item a guji:PhysicalBook ; bf:itemOf ?edition ; bf:identifiedBy/rdf:value ?census .
          ?edition bf:instanceOf ?work . ?work rdfs:label ?title } ORDER BY ?census""", work=ox.NamedNode(iri))
    if not books:
        raise NotFoundError(f"no work {work} with physical books", work=work)
    items = []
    for b in books:
        _, refs = _book_manifest_refs(svc, b["census"])
        if refs:
            items.append({"id": f"{svc.base_url}iiif/books/{quote(b['census'], safe='')}/collection", "type": "Collection",
                          "label": _lang(f"{b['title']}（{b['census']}）")})
    doc = {"@context": CONTEXT, "id": f"{svc.base_url}iiif/works/{work}/collection", "type": "Collection",
           "label": _lang(f"{books[0]['title']} 各本书影", f"page images of every copy of {books[0]['title']}"), "items": items}
    return _check(doc, "Collection")


__all__ = ["book_collection", "book_manifest", "reel_manifest", "work_collection"]
