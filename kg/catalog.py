"""Reading the catalogue out of the store: book pages with all their copies, works, items, reel
frames, and the neighbourhood of a resource.

Public reads see only the public dataset (no preservation-level files, no private graphs);
``include_preservation=True`` is for roles allowed to see preservation metadata.
"""

from __future__ import annotations

import re
from collections import defaultdict
from functools import cached_property
from urllib.parse import quote

import pyoxigraph as ox

from kg.errors import NotFoundError, WorkMovedError
from kg.graphs import public_filter as _public_filter
from kg.namespaces import GG, GUJI, ID, sparql_prefixes
from kg.sparql import public_dataset
from kg.store import OxigraphStore

PREFIXES = sparql_prefixes() + "PREFIX owl: <http://www.w3.org/2002/07/owl#>\n"
XSD_INTEGER = "http://www.w3.org/2001/XMLSchema#integer"

# Catalogue data never lives in annotation graphs, and a default graph that is the union of
# thousands of per-annotation graphs makes every pattern slow (juan_text: 4 s with 2,000
# annotations in the store, 30 ms without). Catalogue reads leave them out.
ANNOTATION_GRAPHS = (GG + "annotation/", GG + "private/annotation/", GG + "private/annotation-history/")


def public_filter(var: str = "g") -> str:
    """A FILTER keeping ``?var`` to public graphs, for queries that name their graphs themselves
    (``GRAPH ?var { … }``). Every ``GRAPH ?x`` of a public read needs one, OPTIONAL ones included:
    a label looked up in any graph shows a preservation copy's or a private draft's name.
    (The rule itself is :func:`kg.graphs.public_filter`'s; this spelling takes the bare name.)"""
    return _public_filter("?" + var)


# a FILTER keeping ?g to public graphs, for queries that must look into annotation graphs too
PUBLIC_G = public_filter("g")


def catalogue_graphs(graphs: list[str]) -> list[str]:
    return [g for g in graphs if not g.startswith(ANNOTATION_GRAPHS)]


def _side_index(folio: str | None, *, end: bool) -> int | None:
    """"1a" → 0, "1b" → 1, "2a" → 2; a bare leaf number is its a side at a start, its b side at an end."""
    if not folio:
        return None
    m = re.fullmatch(r"(\d+)([ab]?)", folio.strip())
    if not m or int(m.group(1)) < 1:
        return None
    side = m.group(2) or ("b" if end else "a")
    return (int(m.group(1)) - 1) * 2 + (0 if side == "a" else 1)


def _side_name(index: int) -> str:
    return f"{index // 2 + 1}{'ab'[index % 2]}"


def frame_folio(frame: int, start: int, end: int, folio_start: str | None, folio_end: str | None) -> dict:
    """The folio side a frame shows: ``folio`` ("1b") and ``folio_exact``. Exact when the range
    has one frame per folio side; otherwise the side is interpolated over the range (and said so);
    None when the range records no folios."""
    a, b = _side_index(folio_start, end=False), _side_index(folio_end, end=True)
    if a is None or b is None or b < a or not start <= frame <= end:
        return {"folio": None, "folio_exact": False}
    frames, sides = end - start + 1, b - a + 1
    if frames == sides:
        return {"folio": _side_name(a + frame - start), "folio_exact": True}
    return {"folio": _side_name(a + (frame - start) * sides // frames), "folio_exact": False}


def frame_page(frame: int, start: int, end: int, page_start: int | str | None, page_end: int | str | None) -> dict:
    """The page (modern pagination: a 民国 book, a serial issue) a frame shows: ``page`` and
    ``page_exact``, as :func:`frame_folio` does for folio sides."""
    try:
        a, b = int(page_start), int(page_end)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return {"page": None, "page_exact": False}
    if b < a or not start <= frame <= end:
        return {"page": None, "page_exact": False}
    frames, pages = end - start + 1, b - a + 1
    if frames == pages:
        return {"page": a + frame - start, "page_exact": True}
    return {"page": a + (frame - start) * pages // frames, "page_exact": False}


def folio_frames(frames: list[dict]) -> dict[str, list[int]]:
    """folio side → the frames showing it, over a reel's frame ranges (the way back from folio to frame)."""
    out: dict[str, list[int]] = {}
    for fr in frames:
        for n in range(fr["start"], fr["end"] + 1):
            f = frame_folio(n, fr["start"], fr["end"], fr.get("folio_start"), fr.get("folio_end"))
            if f["folio"]:
                out.setdefault(f["folio"], []).append(n)
    return out


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def serial_path(iri: str | None) -> str | None:
    """``<batch>/<id>`` of a serial or issue IRI (id:serial/<batch>/<id>, id:issue/<batch>/<id>): its page path."""
    if not iri:
        return None
    for prefix in (f"{ID}serial/", f"{ID}issue/"):
        if iri.startswith(prefix):
            return iri[len(prefix):]
    return None


def issue_calendar(issues: list[dict]) -> list[dict]:
    """Issues by year and month, each month as weeks of days (Monday first) with the issues of each
    day: what the serial page draws as its issue calendar. A month-dated issue sits on the month."""
    import calendar as cal

    by_month: dict[tuple[int, int], dict] = {}
    for i in issues:
        m = re.fullmatch(r"(\d{4})-(\d{2})(?:-(\d{2}))?", i.get("date") or "")
        if not m:
            continue
        key = (int(m.group(1)), int(m.group(2)))
        month = by_month.setdefault(key, {"year": key[0], "month": key[1], "days": defaultdict(list), "undated": []})
        (month["days"][int(m.group(3))] if m.group(3) else month["undated"]).append(i)
    out = []
    for (y, mo), month in sorted(by_month.items()):
        weeks = [[{"day": d, "issues": month["days"].get(d, [])} if d else None for d in week]
                 for week in cal.Calendar(firstweekday=0).monthdayscalendar(y, mo)]
        out.append({"year": y, "month": mo, "weeks": weeks, "month_issues": month["undated"],
                    "count": sum(len(v) for v in month["days"].values()) + len(month["undated"])})
    return out


class Catalog:
    def __init__(self, store: OxigraphStore) -> None:
        self.store = store

    @cached_property
    def _graphs(self) -> list[str]:
        """The catalogue graphs, listed once per Catalog (a book page runs eight queries)."""
        return catalogue_graphs(self.store.graphs())

    def _superseded(self, item: ox.NamedNode) -> frozenset[str]:
        """Package graphs that describe this physical book but are not the newest one to do so.

        A unit that resubmits a corrected batch describes the same book again; the union of both
        graphs would hold every statement twice and the book's joins grow as 2^patterns (a page
        that never answers). The newest submission (by the change log) is the book's record."""
        q = f"""SELECT ?g (MAX(?seq) AS ?last) WHERE {{ GRAPH ?g {{ {item} a <{GUJI}PhysicalBook> }}
            FILTER(STRSTARTS(STR(?g), "{GG}package/") || STRSTARTS(STR(?g), "{GG}preservation/package/"))
            OPTIONAL {{ GRAPH <{GG}changelog> {{ ?c <{GUJI}changedGraph> ?g ; <{GUJI}sequence> ?seq }} }} }} GROUP BY ?g"""
        rows = [(r["g"].value, int(r["last"].value) if r["last"] is not None else 0) for r in self.store.query(q)]
        public = sorted((seq, g) for g, seq in rows if g.startswith(f"{GG}package/"))
        if len(public) < 2:
            return frozenset()
        keep = public[-1][1]
        batch = keep[len(f"{GG}package/"):]
        return frozenset(g for g, _ in rows if g != keep and g != f"{GG}preservation/package/{batch}")

    def _select(self, query: str, *, include_preservation: bool = False, exclude: frozenset[str] = frozenset(),
                **bindings: ox.NamedNode | ox.Literal) -> list[dict]:
        graphs = [g for g in self._graphs if g not in exclude] if exclude else self._graphs
        if include_preservation:
            default = [g for g in graphs if not g.endswith("/changelog")]
        else:
            default, _ = public_dataset(graphs)
        if bindings:  # bind through VALUES at the top of the WHERE block (terms serialise escaped)
            names = " ".join(f"?{k}" for k in bindings)
            values = " ".join(str(v) for v in bindings.values())
            at = query.index("{", query.upper().index("WHERE")) + 1
            query = f"{query[:at]} VALUES ({names}) {{ ({values}) }} {query[at:]}"
        rows = self.store.query(PREFIXES + query, default_graph=[ox.NamedNode(g) for g in default] or [ox.DefaultGraph()])
        # A default graph that is the union of the graphs gives a statement once per graph that makes
        # it: two packages naming the same agent (one filming unit for both) doubled a book's microfilm
        # rows and lineage edges. A catalogue read never wants the same row twice.
        seen: set[tuple] = set()
        out = []
        for r in rows:
            row = {v.value: (None if r[v] is None else r[v].value) for v in rows.variables}
            key = tuple(row.values())
            if key not in seen:
                seen.add(key)
                out.append(row)
        return out

    # -- physical books and their copies ----------------------------------------------------------

    def book(self, census_no: str, *, include_preservation: bool = False) -> dict:
        """The physical book with its edition, work, microfilm and digital copies and the derivation chain."""
        item = ox.NamedNode(f"{ID}item/census/{quote(census_no, safe='')}")
        kw = {"include_preservation": include_preservation, "exclude": self._superseded(item)}
        rows = self._select("""
            SELECT ?label ?title ?library ?libraryName ?callNumber ?edition ?editionStatement ?editionType ?date ?year
                   ?juanCount ?volumes ?extant ?missing ?work ?hangkuan ?frameSize ?banxin ?yuwei ?bianlan ?binding ?grade ?note WHERE {
              ?item a guji:PhysicalBook ; bf:itemOf ?edition ; rdfs:label ?label .
              ?edition bf:instanceOf ?work . ?work rdfs:label ?title .
              OPTIONAL { ?item bf:heldBy ?library . ?library rdfs:label ?libraryName }
              OPTIONAL { ?item bf:shelfMark/rdf:value ?callNumber }
              OPTIONAL { ?item guji:volumeCount ?volumes } OPTIONAL { ?item guji:juanExtant ?extant }
              OPTIONAL { ?item guji:juanMissing ?missing } OPTIONAL { ?item guji:grade ?grade } OPTIONAL { ?item bf:note ?note }
              OPTIONAL { ?edition bf:editionStatement ?editionStatement } OPTIONAL { ?edition guji:editionType ?editionType }
              OPTIONAL { ?edition bf:provisionActivityStatement ?date } OPTIONAL { ?edition guji:year ?year }
              OPTIONAL { ?edition guji:juanCount ?juanCount } OPTIONAL { ?edition guji:hangkuan ?hangkuan }
              OPTIONAL { ?edition guji:frameSize ?frameSize } OPTIONAL { ?edition guji:banxin ?banxin }
              OPTIONAL { ?edition guji:yuwei ?yuwei } OPTIONAL { ?edition guji:bianlan ?bianlan } OPTIONAL { ?edition bf:binding ?binding }
            }""", item=item, **kw)
        if not rows:
            raise NotFoundError(f"no physical book with census number {census_no}", census_no=census_no)
        b = rows[0]
        seals = [r["seal"] for r in self._select("SELECT ?seal WHERE { ?item guji:seal ?seal } ORDER BY ?seal", item=item, **kw)]
        contributors = self._contributors(item)
        film = self._select("""
            SELECT ?copy ?label ?generation ?polarity ?ratio ?derivedFrom ?method ?created ?unit WHERE {
              ?copy a guji:MicrofilmCopy ; bf:itemOf ?mf ; rdfs:label ?label . ?mf bf:reproductionOf/^bf:itemOf ?item ; bf:generation ?generation .
              OPTIONAL { ?mf bf:polarity ?polarity } OPTIONAL { ?mf bf:reductionRatio/rdfs:label ?ratio }
              OPTIONAL { ?copy prov:wasDerivedFrom ?derivedFrom } OPTIONAL { ?copy guji:derivationMethod ?method }
              OPTIONAL { ?copy dcterms:created ?created } OPTIONAL { ?copy prov:wasAttributedTo/rdfs:label ?unit }
            } ORDER BY ?copy""", item=item, **kw)
        reels = self._select("""
            SELECT ?copy ?reel ?reelId ?base ?location ?start ?end ?juan ?folioStart ?folioEnd WHERE {
              ?copy a guji:MicrofilmCopy ; bf:itemOf/bf:reproductionOf/^bf:itemOf ?item ; guji:onReel ?reel .
              ?reel dcterms:identifier ?reelId .
              OPTIONAL { ?reel bf:baseMaterial ?base } OPTIONAL { ?reel bf:physicalLocation ?location }
              OPTIONAL { ?copy guji:frameRange ?fr . ?fr guji:onReel ?reel ; guji:startFrame ?start ; guji:endFrame ?end .
                         OPTIONAL { ?fr guji:juanNumber ?juan } OPTIONAL { ?fr guji:startFolio ?folioStart } OPTIONAL { ?fr guji:endFolio ?folioEnd } }
            } ORDER BY ?reelId ?start""", item=item, **kw)
        inspections = self._select("""
            SELECT ?reel ?date ?type ?level ?density ?note WHERE {
              ?copy a guji:MicrofilmCopy ; bf:itemOf/bf:reproductionOf/^bf:itemOf ?item ; guji:onReel ?reel .
              ?ev a guji:InspectionEvent ; prov:used ?reel ; prov:endedAtTime ?date ; guji:inspectionType ?type .
              OPTIONAL { ?ev guji:vinegarSyndromeLevel ?level } OPTIONAL { ?ev guji:density ?density } OPTIONAL { ?ev premis:outcomeNote ?note }
            } ORDER BY ?reel ?date""", item=item, **kw)
        digital = self._select("""
            SELECT ?copy ?label ?level ?derivedFrom ?method ?rightsHolder ?rightsHolderName ?terms ?termsZh ?termsEn WHERE {
              ?copy a guji:DigitalCopy ; bf:itemOf/bf:reproductionOf/^bf:itemOf ?item ; rdfs:label ?label ; guji:accessLevel ?level .
              OPTIONAL { ?copy prov:wasDerivedFrom ?derivedFrom } OPTIONAL { ?copy guji:derivationMethod ?method }
              OPTIONAL { ?copy dcterms:rightsHolder ?rightsHolder . ?rightsHolder rdfs:label ?rightsHolderName }
              OPTIONAL { ?copy dcterms:license ?terms . OPTIONAL { ?terms rdfs:label ?termsZh FILTER(LANG(?termsZh) = "zh") }
                         OPTIONAL { ?terms rdfs:label ?termsEn FILTER(LANG(?termsEn) = "en") } }
            } ORDER BY ?copy""", item=item, **kw)
        digital = list({c["copy"]: c for c in digital}.values())  # one row per copy (labels of the holder in several graphs)
        files = self._select("""
            SELECT ?copy ?file ?fileId ?name ?format ?size ?sha256 ?level WHERE {
              ?copy a guji:DigitalCopy ; bf:itemOf/bf:reproductionOf/^bf:itemOf ?item .
              ?file dcterms:isPartOf ?copy ; dcterms:identifier ?fileId ; premis:originalName ?name ; dcterms:format ?format ; guji:accessLevel ?level .
              OPTIONAL { ?file premis:size ?size } OPTIONAL { ?file premis:fixity/rdf:value ?sha256 }
            } ORDER BY ?fileId""", item=item, **kw)
        texts = self._select("""
            SELECT ?copy ?juan ?number ?label ?chars WHERE {
              ?copy a guji:DigitalCopy ; bf:itemOf/bf:reproductionOf/^bf:itemOf ?item .
              ?juan a guji:Juan ; dcterms:isPartOf ?copy ; guji:juanNumber ?number ; guji:charCount ?chars .
              OPTIONAL { ?juan guji:juanLabel ?label }
            } ORDER BY ?number""", item=item, **kw)

        reels_by_copy: dict[str, dict[str, dict]] = defaultdict(dict)
        for r in reels:
            reel = reels_by_copy[r["copy"]].setdefault(r["reelId"], {
                "iri": r["reel"], "reel_id": r["reelId"], "base": r["base"], "location": r["location"], "frames": []})
            if r["start"] is not None:
                fr = {"start": int(r["start"]), "end": int(r["end"]), "juan": r["juan"],
                      "folio_start": r["folioStart"], "folio_end": r["folioEnd"]}
                fr["by_frame"] = [{"frame": n, **frame_folio(n, fr["start"], fr["end"], fr["folio_start"], fr["folio_end"])}
                                  for n in range(fr["start"], min(fr["end"], fr["start"] + 499) + 1)]
                reel["frames"].append(fr)
        files_by_copy: dict[str, list] = defaultdict(list)
        for f in files:
            files_by_copy[f["copy"]].append({k: f[k] for k in ("file", "fileId", "name", "format", "size", "sha256", "level")})
        texts_by_copy: dict[str, list] = defaultdict(list)
        for t in texts:
            texts_by_copy[t["copy"]].append({"iri": t["juan"], "juan": t["number"], "label": t["label"], "chars": int(t["chars"])})

        chain = [{"from": c["copy"], "to": c["derivedFrom"], "method": c["method"]} for c in film + digital if c["derivedFrom"]]
        hidden: list[dict] = []
        if not include_preservation:
            hidden = self._hidden_steps(item, film, digital, chain)
        # the digital texts of the same work from other sources (Kanripo editions ...): one bf:Work (kg.works)
        own = {c["copy"] for c in digital}
        others = self._select("""
            SELECT ?copy ?label ?code ?wid ?juan ?number ?jlabel WHERE {
              ?copy a guji:DigitalCopy ; bf:itemOf/bf:instanceOf ?work ; rdfs:label ?label .
              OPTIONAL { ?copy guji:editionCode ?code } OPTIONAL { ?work dcterms:identifier ?wid }
              OPTIONAL { ?juan a guji:Juan ; dcterms:isPartOf ?copy ; guji:juanNumber ?number OPTIONAL { ?juan guji:juanLabel ?jlabel } }
            } ORDER BY ?code ?copy ?number""", work=ox.NamedNode(b["work"]), **kw)
        work_texts: dict[str, dict] = {}
        for r in others:
            if r["copy"] in own:
                continue
            t = work_texts.setdefault(r["copy"], {"iri": r["copy"], "label": r["label"], "edition": r["code"], "texts": []})
            if r["juan"]:
                t["texts"].append({"iri": r["juan"], "juan": r["number"], "label": r["jlabel"]})
        return {
            "iri": item.value,
            "census_no": census_no,
            "label": b["label"],
            "title": b["title"],
            "work": b["work"],
            "edition": {k: b[k] for k in ("edition", "editionStatement", "editionType", "date", "year", "juanCount",
                                          "hangkuan", "frameSize", "banxin", "yuwei", "bianlan", "binding")},
            "holding_library": {"iri": b["library"], "name": b["libraryName"]},
            "call_number": b["callNumber"],
            "volumes": b["volumes"], "juan_extant": b["extant"], "juan_missing": b["missing"], "grade": b["grade"],
            "seals": seals, "note": b["note"],
            "contributed_by": contributors,
            "microfilm": [{**{k: c[k] for k in ("label", "generation", "polarity", "ratio", "derivedFrom", "method", "created", "unit")},
                           "iri": c["copy"], "reels": list(reels_by_copy[c["copy"]].values()),
                           "inspections": [i for i in inspections if i["reel"] in {r["iri"] for r in reels_by_copy[c["copy"]].values()}]}
                          for c in film],
            "digital": [{"iri": c["copy"], "label": c["label"], "level": c["level"], "derivedFrom": c["derivedFrom"], "method": c["method"],
                         "files": files_by_copy[c["copy"]], "texts": texts_by_copy[c["copy"]],
                         "credit": ({"unit": c["rightsHolderName"], "iri": c["rightsHolder"]} if c["rightsHolder"] else None),
                         "terms": ({"iri": c["terms"], "zh": c["termsZh"], "en": c["termsEn"]} if c["terms"] else None)}
                        for c in digital],
            "derivations": chain,
            "work_id": (others[0]["wid"] if others and others[0]["wid"] else b["work"][len(ID + "work/"):]),
            "work_texts": list(work_texts.values()),
            "hidden": hidden,
        }

    def _hidden_steps(self, item: ox.NamedNode, film: list[dict], digital: list[dict], chain: list[dict]) -> list[dict]:
        """The copies of a book the public does not see (a preservation master) that stand in its
        derivation chain, as bare 'not public' steps: IRI, kind, access level and where each came
        from; never a label, a file, a checksum or a location. Public copies made from one get
        their ``derivedFrom`` back, so the public chain runs unbroken to the physical book; the
        edges go into ``chain``."""
        full = self._select("""
            SELECT ?copy ?src ?method ?level ?film WHERE {
              ?copy bf:itemOf/bf:reproductionOf/^bf:itemOf ?item ; prov:wasDerivedFrom ?src .
              OPTIONAL { ?copy guji:derivationMethod ?method } OPTIONAL { ?copy guji:accessLevel ?level }
              OPTIONAL { ?copy a guji:MicrofilmCopy BIND(true AS ?film) } } ORDER BY ?copy""", item=item, include_preservation=True)
        public = {c["copy"] for c in film + digital} | {item.value}
        by_copy = {r["copy"]: r for r in full}
        # the hidden copies reachable from the public ones, walking towards the book
        hidden: dict[str, dict] = {}
        todo = [r["src"] for r in full if r["copy"] in public and r["src"] not in public]
        while todo:
            iri = todo.pop()
            if iri in hidden or iri in public:
                continue
            r = by_copy.get(iri, {})
            hidden[iri] = {"iri": iri, "public": False, "kind": "film" if r.get("film") else "digital", "level": r.get("level"),
                           "derivedFrom": r.get("src"), "method": r.get("method")}
            if r.get("src"):
                todo.append(r["src"])
        if not hidden:
            return []
        known = {(c["from"], c["to"]) for c in chain}
        for c in film + digital:
            r = by_copy.get(c["copy"])
            if c["derivedFrom"] is None and r and r["src"] in hidden:
                c["derivedFrom"], c["method"] = r["src"], c["method"] or r["method"]
        for r in full:
            if (r["copy"] in public or r["copy"] in hidden) and r["src"] in (public | set(hidden)) and (r["copy"], r["src"]) not in known:
                chain.append({"from": r["copy"], "to": r["src"], "method": r["method"], "hidden": True})
        return sorted(hidden.values(), key=lambda h: h["iri"])

    def _contributors(self, item: ox.NamedNode) -> list[dict]:
        """The submitting units whose (public) packages describe this book: credit (权益保障)."""
        graphs = [g for g in self._graphs if g.startswith(f"{GG}package/")]
        if not graphs:
            return []
        values = " ".join(f"<{g}>" for g in graphs)
        rows = self.store.query(PREFIXES + f"""SELECT DISTINCT ?unit ?name WHERE {{ VALUES ?g {{ {values} }}
            GRAPH ?g {{ {item} a guji:PhysicalBook . ?s a guji:Submission ; prov:wasAssociatedWith ?unit . ?unit rdfs:label ?name }} }}
            ORDER BY ?name""")
        return [{"iri": r["unit"].value, "name": r["name"].value} for r in rows]

    def reel_frame(self, reel_id: str, frame: int) -> dict:
        """Which book, juan and folios (or pages) a frame of a reel shows; on a serial's reel,
        which issue and page (package v2, ADR 0021)."""
        if self._select("""SELECT ?serial WHERE { ?reel a guji:MicrofilmReel ; dcterms:identifier ?reelId .
                ?copy guji:onReel ?reel ; bf:itemOf/bf:reproductionOf ?serial . ?serial a guji:Serial } LIMIT 1""",
                        reelId=ox.Literal(reel_id)):
            return self._serial_reel_frame(reel_id, frame)  # a serial's reel: the book query would scan for nothing
        rows = self._select("""
            SELECT ?reel ?book ?census ?title ?generation ?start ?end ?juan ?folioStart ?folioEnd ?pageStart ?pageEnd WHERE {
              ?reel a guji:MicrofilmReel ; dcterms:identifier ?reelId .
              ?copy guji:onReel ?reel ; bf:itemOf ?mf . ?mf bf:generation ?generation ; bf:reproductionOf ?edition .
              ?book a guji:PhysicalBook ; bf:itemOf ?edition ; bf:identifiedBy/rdf:value ?census .
              ?edition bf:instanceOf/rdfs:label ?title .
              OPTIONAL { ?copy guji:frameRange ?fr . ?fr guji:onReel ?reel ; guji:startFrame ?start ; guji:endFrame ?end .
                         OPTIONAL { ?fr guji:juanNumber ?juan } OPTIONAL { ?fr guji:startFolio ?folioStart } OPTIONAL { ?fr guji:endFolio ?folioEnd }
                         OPTIONAL { ?fr guji:startPage ?pageStart } OPTIONAL { ?fr guji:endPage ?pageEnd } }
            }""", reelId=ox.Literal(reel_id))
        if not rows:
            return self._serial_reel_frame(reel_id, frame)
        for r in rows:
            if r["start"] is not None and int(r["start"]) <= frame <= int(r["end"]):
                out = {"reel": reel_id, "frame": frame, "reel_iri": r["reel"], "book": r["book"], "census_no": r["census"],
                       "title": r["title"], "generation": r["generation"], "juan": r["juan"],
                       "frames": {"start": int(r["start"]), "end": int(r["end"])},
                       "folios": {"start": r["folioStart"], "end": r["folioEnd"]},
                       **frame_folio(frame, int(r["start"]), int(r["end"]), r["folioStart"], r["folioEnd"])}
                if r["pageStart"] is not None:  # a 民国 book: pages, not folios
                    out["pages"] = {"start": int(r["pageStart"]), "end": int(r["pageEnd"])}
                    out.update(frame_page(frame, int(r["start"]), int(r["end"]), r["pageStart"], r["pageEnd"]))
                return out
        ranges = sorted((int(r["start"]), int(r["end"])) for r in rows if r["start"] is not None)
        raise NotFoundError(f"frame {frame} of reel {reel_id} is not in any recorded frame range ({', '.join(f'{a}-{b}' for a, b in ranges) or 'none'})",
                            reel=reel_id, frame=frame)

    # -- serials (package v2, ADR 0021) -------------------------------------------------------------

    def _serial_reel_frame(self, reel_id: str, frame: int) -> dict:
        """frame → issue/page on a serial's reel (a reel holds many issues): the reel, then the one
        range holding the frame (a range scan on this reel), then that range's issue."""
        head = self._select("""
            SELECT ?reel ?serial ?title ?generation WHERE {
              ?reel a guji:MicrofilmReel ; dcterms:identifier ?reelId .
              ?copy guji:onReel ?reel ; bf:itemOf ?mf . ?mf bf:generation ?generation ; bf:reproductionOf ?serial .
              ?serial a guji:Serial ; rdfs:label ?title . } LIMIT 1""", reelId=ox.Literal(reel_id))
        if not head:
            raise NotFoundError(f"no reel {reel_id}", reel=reel_id)
        h = head[0]
        reel = ox.NamedNode(h["reel"])
        found = self._select("""
            SELECT ?start ?end ?issue ?issueId ?date ?pageStart ?pageEnd WHERE {
              ?fr guji:onReel ?reel ; guji:startFrame ?start ; guji:endFrame ?end .
              FILTER(?start <= ?frame && ?frame <= ?end)
              ?fr guji:showsIssue ?issue . ?issue dcterms:identifier ?issueId . OPTIONAL { ?issue guji:issueDate ?date }
              OPTIONAL { ?fr guji:startPage ?pageStart } OPTIONAL { ?fr guji:endPage ?pageEnd }
            } LIMIT 1""", reel=reel, frame=ox.Literal(str(frame), datatype=ox.NamedNode(XSD_INTEGER)))
        if not found:  # only the ranges, for the message (a reel holds hundreds)
            rows = self._select("SELECT ?start ?end WHERE { ?fr guji:onReel ?reel ; guji:startFrame ?start ; guji:endFrame ?end }", reel=reel)
            ranges = sorted((int(r["start"]), int(r["end"])) for r in rows)
            shown = ", ".join(f"{a}-{b}" for a, b in ranges[:12]) + (f" … {len(ranges)} ranges, the last {ranges[-1][0]}-{ranges[-1][1]}"
                                                                      if len(ranges) > 12 else "")
            raise NotFoundError(f"frame {frame} of reel {reel_id} is not in any recorded frame range ({shown or 'none'})",
                                reel=reel_id, frame=frame)
        r = found[0]
        return {"reel": reel_id, "frame": frame, "reel_iri": h["reel"], "book": None, "census_no": None,
                "title": h["title"], "generation": h["generation"], "juan": None, "serial": h["serial"],
                "serial_path": serial_path(h["serial"]), "issue": r["issue"], "issue_id": r["issueId"],
                "issue_path": serial_path(r["issue"]), "date": r["date"],
                "frames": {"start": int(r["start"]), "end": int(r["end"])},
                "folios": {"start": None, "end": None}, "folio": None, "folio_exact": False,
                "pages": {"start": _int_or_none(r["pageStart"]), "end": _int_or_none(r["pageEnd"])},
                **frame_page(frame, int(r["start"]), int(r["end"]), r["pageStart"], r["pageEnd"])}

    def serial(self, batch: str, serial_id: str) -> dict:
        """A serial with its issues (date, enumeration, pages, articles) for the issue calendar, and its reels."""
        iri = ox.NamedNode(f"{ID}serial/{quote(batch, safe='')}/{quote(serial_id, safe='')}")
        rows = self._select("""
            SELECT ?title ?material ?frequency ?issn ?cn ?publisher ?place ?first ?last ?library ?callNumber ?note WHERE {
              ?serial a guji:Serial ; rdfs:label ?title .
              OPTIONAL { ?serial guji:materialType ?material } OPTIONAL { ?serial bf:frequency ?frequency }
              OPTIONAL { ?serial bf:identifiedBy ?i1 . ?i1 a bf:Issn ; rdf:value ?issn }
              OPTIONAL { ?serial bf:identifiedBy ?i2 . ?i2 a guji:CnNumber ; rdf:value ?cn }
              OPTIONAL { ?serial bf:provisionActivity/bf:agent/rdfs:label ?publisher }
              OPTIONAL { ?serial bf:provisionActivity/bf:place/rdfs:label ?place }
              OPTIONAL { ?serial guji:firstIssueDate ?first } OPTIONAL { ?serial guji:lastIssueDate ?last }
              OPTIONAL { ?h bf:itemOf ?serial ; bf:heldBy/rdfs:label ?library . OPTIONAL { ?h guji:callNumber ?callNumber } }
              OPTIONAL { ?serial bf:note ?note }
            }""", serial=iri)
        if not rows:
            raise NotFoundError(f"no serial {serial_id} in batch {batch}", batch=batch, serial=serial_id)
        s = rows[0]
        issues = self._select("""
            SELECT ?issue ?issueId ?date ?written ?volume ?number ?whole ?pages ?special WHERE {
              ?serial bf:hasPart ?issue . ?issue a guji:Issue ; dcterms:identifier ?issueId ; guji:issueDate ?date .
              OPTIONAL { ?issue bf:provisionActivityStatement ?written } OPTIONAL { ?issue guji:volumeNumber ?volume }
              OPTIONAL { ?issue guji:issueNumber ?number } OPTIONAL { ?issue guji:wholeNumber ?whole }
              OPTIONAL { ?issue guji:pageCount ?pages } OPTIONAL { ?issue guji:issueTitle ?special }
            } ORDER BY ?date ?issueId""", serial=iri)
        articles = self._select("""
            SELECT ?issue ?article ?title ?start ?end (GROUP_CONCAT(?author; separator="；") AS ?authors) WHERE {
              ?serial bf:hasPart ?issue . ?issue bf:hasPart ?article . ?article a guji:Article ; rdfs:label ?title .
              OPTIONAL { ?article guji:startPage ?start } OPTIONAL { ?article guji:endPage ?end }
              OPTIONAL { ?article bf:contribution/bf:agent/rdfs:label ?author }
            } GROUP BY ?issue ?article ?title ?start ?end ORDER BY ?issue ?start""", serial=iri)
        reels = self._select("""
            SELECT DISTINCT ?reelId ?generation ?colour WHERE {
              ?mf bf:reproductionOf ?serial ; bf:generation ?generation . ?copy bf:itemOf ?mf ; guji:onReel ?reel .
              ?reel dcterms:identifier ?reelId . OPTIONAL { ?reel guji:filmColour ?colour }
            } ORDER BY ?reelId""", serial=iri)
        by_issue: dict[str, list[dict]] = defaultdict(list)
        for a in articles:
            by_issue[a["issue"]].append({"iri": a["article"], "title": a["title"], "authors": a["authors"] or None,
                                         "page_start": _int_or_none(a["start"]), "page_end": _int_or_none(a["end"])})
        out_issues = [{"iri": i["issue"], "issue_id": i["issueId"], "path": serial_path(i["issue"]), "date": i["date"],
                       "date_as_written": i["written"], "volume": _int_or_none(i["volume"]), "number": _int_or_none(i["number"]),
                       "whole_number": _int_or_none(i["whole"]), "pages": _int_or_none(i["pages"]), "title": i["special"],
                       "articles": by_issue.get(i["issue"], [])} for i in issues]
        return {"iri": iri.value, "batch": batch, "serial_id": serial_id, "title": s["title"], "material_type": s["material"],
                "frequency": s["frequency"], "issn": s["issn"], "cn": s["cn"], "publisher": s["publisher"], "place": s["place"],
                "first_issue": s["first"], "last_issue": s["last"], "holding_library": s["library"], "call_number": s["callNumber"],
                "note": s["note"], "issues": out_issues, "calendar": issue_calendar(out_issues),
                "reels": [{"reel_id": r["reelId"], "generation": r["generation"], "colour": r["colour"]} for r in reels]}

    def issue(self, batch: str, issue_id: str) -> dict:
        """One issue: enumeration, chronology, articles, the frames that show it, its text."""
        iri = ox.NamedNode(f"{ID}issue/{quote(batch, safe='')}/{quote(issue_id, safe='')}")
        rows = self._select("""
            SELECT ?serial ?title ?date ?written ?label ?volume ?number ?whole ?pages ?special ?material WHERE {
              ?issue a guji:Issue ; bf:partOf ?serial ; guji:issueDate ?date ; rdfs:label ?label . ?serial rdfs:label ?title .
              OPTIONAL { ?issue bf:provisionActivityStatement ?written } OPTIONAL { ?issue guji:volumeNumber ?volume }
              OPTIONAL { ?issue guji:issueNumber ?number } OPTIONAL { ?issue guji:wholeNumber ?whole }
              OPTIONAL { ?issue guji:pageCount ?pages } OPTIONAL { ?issue guji:issueTitle ?special }
              OPTIONAL { ?issue guji:materialType ?material }
            }""", issue=iri)
        if not rows:
            raise NotFoundError(f"no issue {issue_id} in batch {batch}", batch=batch, issue=issue_id)
        r = rows[0]
        articles = self._select("""
            SELECT ?article ?title ?section ?start ?end (GROUP_CONCAT(?author; separator="；") AS ?authors) WHERE {
              ?issue bf:hasPart ?article . ?article a guji:Article ; rdfs:label ?title .
              OPTIONAL { ?article guji:section ?section }
              OPTIONAL { ?article guji:startPage ?start } OPTIONAL { ?article guji:endPage ?end }
              OPTIONAL { ?article bf:contribution/bf:agent/rdfs:label ?author }
            } GROUP BY ?article ?title ?section ?start ?end ORDER BY ?start ?article""", issue=iri)
        frames = self._select("""
            SELECT ?reelId ?start ?end ?pageStart ?pageEnd ?colour WHERE {
              ?fr guji:showsIssue ?issue ; guji:onReel ?reel ; guji:startFrame ?start ; guji:endFrame ?end .
              ?reel dcterms:identifier ?reelId . OPTIONAL { ?reel guji:filmColour ?colour }
              OPTIONAL { ?fr guji:startPage ?pageStart } OPTIONAL { ?fr guji:endPage ?pageEnd }
            } ORDER BY ?reelId ?start""", issue=iri)
        texts = self._select("""
            SELECT ?juan ?chars ?text WHERE {
              ?e bf:reproductionOf ?issue . ?copy bf:itemOf ?e ; a guji:DigitalCopy . ?juan a guji:Juan ; dcterms:isPartOf ?copy ; guji:text ?text .
              OPTIONAL { ?juan guji:charCount ?chars }
            } ORDER BY ?juan""", issue=iri)
        return {"iri": iri.value, "batch": batch, "issue_id": issue_id, "serial": r["serial"], "serial_path": serial_path(r["serial"]),
                "serial_title": r["title"], "label": r["label"], "date": r["date"], "date_as_written": r["written"],
                "volume": _int_or_none(r["volume"]), "number": _int_or_none(r["number"]), "whole_number": _int_or_none(r["whole"]),
                "pages": _int_or_none(r["pages"]), "title": r["special"], "material_type": r["material"],
                "articles": [{"iri": a["article"], "title": a["title"], "section": a["section"], "authors": a["authors"] or None,
                              "page_start": _int_or_none(a["start"]), "page_end": _int_or_none(a["end"])} for a in articles],
                "frames": [{"reel_id": f["reelId"], "start": int(f["start"]), "end": int(f["end"]), "colour": f["colour"],
                            "page_start": _int_or_none(f["pageStart"]), "page_end": _int_or_none(f["pageEnd"])} for f in frames],
                "texts": [{"iri": t["juan"], "chars": _int_or_none(t["chars"]), "text": t["text"]} for t in texts]}

    # -- works and items --------------------------------------------------------------------------

    def resolve_work(self, identifier: str) -> tuple[str, str | None]:
        """(work IRI, the id it is shown under) for an identifier (``KR2a0001``) or an IRI path under
        ``id:work/`` (``census/110000-0001-0000001``). A work merged into another (owl:sameAs,
        kg.works) resolves to the work it now is; the caller redirects."""
        rows = self._select("""SELECT ?work WHERE { ?work a bf:Work ; dcterms:identifier ?id }""", id=ox.Literal(identifier))
        if rows:
            return rows[0]["work"], identifier
        iri = f"{ID}work/{identifier}"
        try:
            node = ox.NamedNode(iri)
        except ValueError:
            raise NotFoundError(f"no work {identifier}", work=identifier) from None
        rows = self._select("""SELECT ?same ?isWork ?sid WHERE { OPTIONAL { ?work owl:sameAs ?same OPTIONAL { ?same dcterms:identifier ?sid } }
            OPTIONAL { ?work a bf:Work BIND(true AS ?isWork) } }""", work=node)
        r = rows[0] if rows else {}
        if r.get("isWork"):
            return iri, None
        if r.get("same"):
            return r["same"], r.get("sid") or r["same"][len(ID + "work/"):]
        raise NotFoundError(f"no work {identifier}", work=identifier)

    def work(self, identifier: str) -> dict:
        """A work with every edition, copy and text: Kanripo editions and digital texts, physical
        books with their microfilm and digital copies (one bf:Work across sources, kg.works)."""
        work_iri, shown = self.resolve_work(identifier)
        if shown is not None and shown != identifier:
            raise WorkMovedError(f"work {identifier} is now {shown}", work=identifier, location=shown)
        node = ox.NamedNode(work_iri)
        rows = self._select("""
            SELECT ?title ?classification WHERE { ?work a bf:Work ; rdfs:label ?title .
              OPTIONAL { ?work guji:classification ?classification } } ORDER BY DESC(LANG(?title) = "zh-Hant")""", work=node)
        w = rows[0]
        copies = self._select("""
            SELECT ?item ?code ?label (COUNT(DISTINCT ?juan) AS ?juans) (COUNT(DISTINCT ?folio) AS ?folios) WHERE {
              ?item a guji:DigitalCopy ; bf:itemOf/bf:instanceOf ?work ; rdfs:label ?label .
              OPTIONAL { ?item guji:editionCode ?code }
              OPTIONAL { ?juan dcterms:isPartOf ?item ; a guji:Juan . OPTIONAL { ?folio dcterms:isPartOf ?juan ; a guji:FolioSide } }
            } GROUP BY ?item ?code ?label ORDER BY ?code ?item""", work=node)
        editions = self._select("""
            SELECT ?edition ?code ?label WHERE { ?edition a bf:Instance ; bf:instanceOf ?work .
              OPTIONAL { ?edition guji:editionCode ?code } OPTIONAL { ?edition rdfs:label ?label }
              FILTER NOT EXISTS { ?edition bf:reproductionOf ?x } } ORDER BY ?code ?edition""", work=node)
        books = self._select("""
            SELECT ?book ?census ?label ?library WHERE { ?book a guji:PhysicalBook ; bf:itemOf/bf:instanceOf ?work ;
              bf:identifiedBy/rdf:value ?census . OPTIONAL { ?book rdfs:label ?label }
              OPTIONAL { ?book bf:heldBy/rdfs:label ?library } } ORDER BY ?census""", work=node)
        film = self._select("""
            SELECT ?copy ?label ?generation ?census WHERE { ?copy a guji:MicrofilmCopy ; bf:itemOf ?mf ; rdfs:label ?label .
              ?mf bf:instanceOf ?work ; bf:generation ?generation .
              OPTIONAL { ?mf bf:reproductionOf/^bf:itemOf/bf:identifiedBy/rdf:value ?census } } ORDER BY ?copy""", work=node)
        merged = self._select("""SELECT ?old WHERE { ?old owl:sameAs ?work } ORDER BY ?old""", work=node)
        return {"iri": work_iri, "id": shown or work_iri[len(ID + "work/"):], "title": w["title"], "classification": w["classification"],
                "editions": editions,
                "copies": [{**c, "juans": int(c["juans"]), "folios": int(c["folios"])} for c in copies],
                "books": books, "microfilm": film, "same_as": [m["old"] for m in merged]}

    def item(self, path: str) -> dict:
        iri = ox.NamedNode(f"{ID}item/{path}")
        rows = self._select("""
            SELECT ?type ?label ?instance ?level WHERE { ?item a bf:Item ; a ?type ; bf:itemOf ?instance .
              OPTIONAL { ?item rdfs:label ?label } OPTIONAL { ?item guji:accessLevel ?level } }""", item=iri)
        if not rows:
            raise NotFoundError(f"no item {path}", item=path)
        toc = self._select("""
            SELECT ?seq ?label ?target WHERE { ?e a guji:TocEntry ; dcterms:isPartOf ?item ; guji:sequence ?seq ; rdfs:label ?label .
              OPTIONAL { ?e guji:pointsTo ?target } } ORDER BY ?seq""", item=iri)
        juans = self._select("""
            SELECT ?juan ?number ?label ?chars (COUNT(?f) AS ?folios) WHERE { ?juan a guji:Juan ; dcterms:isPartOf ?item ;
              guji:juanNumber ?number ; guji:charCount ?chars . OPTIONAL { ?juan guji:juanLabel ?label }
              OPTIONAL { ?f a guji:FolioSide ; dcterms:isPartOf ?juan } } GROUP BY ?juan ?number ?label ?chars ORDER BY ?number""", item=iri)
        return {"iri": iri.value, "types": sorted({r["type"] for r in rows}), "label": rows[0]["label"],
                "instance": rows[0]["instance"], "access_level": rows[0]["level"],
                "toc": [{"sequence": int(t["seq"]), "label": t["label"], "target": t["target"]} for t in toc],
                "juans": [{"iri": j["juan"], "juan": j["number"], "label": j["label"], "chars": int(j["chars"]),
                           "folios": int(j["folios"])} for j in juans]}

    def juan_text(self, iri: str) -> dict:
        rows = self._select("""
            SELECT ?text ?layout ?item WHERE { ?juan a guji:Juan ; guji:text ?text ; guji:layout ?layout ; dcterms:isPartOf ?item }""",
                            juan=ox.NamedNode(iri))
        if not rows:
            raise NotFoundError(f"no text {iri}", text=iri)
        folios = self._select("""
            SELECT ?folio ?page ?start ?end ?image WHERE { ?folio a guji:FolioSide ; dcterms:isPartOf ?juan ; guji:pageId ?page ;
              guji:startOffset ?start ; guji:endOffset ?end . OPTIONAL { ?folio guji:pageImage ?image } } ORDER BY ?start""",
                              juan=ox.NamedNode(iri))
        return {"iri": iri, "item": rows[0]["item"], "text": rows[0]["text"], "layout": rows[0]["layout"],
                "folios": [{"iri": f["folio"], "page": f["page"], "start": int(f["start"]), "end": int(f["end"]), "image": f["image"]}
                           for f in folios]}

    def neighbourhood(self, iri: str, *, limit: int = 50) -> dict:
        """Resources linked to ``iri`` in either direction, with labels, over every public graph
        including approved annotations (the SPARQL fallback of the graph view). Edges and labels
        both come from public graphs only: a public edge may point at a preservation copy or at a
        record only a private draft names, and their labels stay where they are."""
        node = str(ox.NamedNode(iri))

        def rows(query: str) -> list[dict]:
            result = self.store.query(PREFIXES + query)
            return [{v.value: (None if r[v] is None else r[v].value) for v in result.variables} for r in result]

        out = rows(f"""SELECT DISTINCT ?p ?o ?label WHERE {{ GRAPH ?g {{ {node} ?p ?o }} {PUBLIC_G} FILTER(isIRI(?o) && ?p != rdf:type)
            OPTIONAL {{ GRAPH ?h {{ ?o rdfs:label ?label }} {public_filter("h")} }} }} LIMIT {int(limit)}""")
        inc = rows(f"""SELECT DISTINCT ?p ?s ?label WHERE {{ GRAPH ?g {{ ?s ?p {node} }} {PUBLIC_G} FILTER(isIRI(?s))
            OPTIONAL {{ GRAPH ?h {{ ?s rdfs:label ?label }} {public_filter("h")} }} }} LIMIT {int(limit)}""")
        me = rows(f"""SELECT ?label ?type WHERE {{ GRAPH ?g {{ {{ {node} rdfs:label ?label }} UNION {{ {node} a ?type }} }} {PUBLIC_G} }}""")
        if not out and not inc and not me:
            raise NotFoundError(f"nothing is known about {iri}", iri=iri)
        return {"iri": iri, "label": next((r["label"] for r in me if r["label"]), None),
                "types": sorted({r["type"] for r in me if r["type"]}),
                "edges": [{"predicate": r["p"], "iri": r["o"], "label": r["label"], "out": True} for r in out]
                + [{"predicate": r["p"], "iri": r["s"], "label": r["label"], "out": False} for r in inc]}
