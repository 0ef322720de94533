"""A read package → RDF: the physical book, its microfilm generations and its digital copies.

Two graphs per package: ``gg:package/<batch>`` (public) and ``gg:preservation/package/<batch>``
(preservation-level files, the derivations that touch them, contact details: never public).
Every node remembers the file and row it came from, so SHACL results map back to a row and a
field in the validation report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import quote

import pyoxigraph as ox

from kg import kanripo, works
from kg.ingest_kanripo import WorkGraph, add_juan
from kg.namespaces import BF, DCTERMS, GG, GUJI, GUJIV, ID, IIIF, PREMIS, PROV, RDF, RDFS, XSD
from kg.package import vocab
from kg.package.reader import Package, Row, glyph_data_uri

N, L, T = ox.NamedNode, ox.Literal, ox.Triple
A = N(RDF + "type")
LABEL = N(RDFS + "label")
VALUE = N(RDF + "value")
INT = N(XSD + "integer")
DECIMAL = N(XSD + "decimal")
HASH_SHA256 = N("http://id.loc.gov/vocabulary/preservation/cryptographicHashFunctions/sha256")


def g(local: str) -> ox.NamedNode:
    return N(GUJI + local)


def bf(local: str) -> ox.NamedNode:
    return N(BF + local)


def prov(local: str) -> ox.NamedNode:
    return N(PROV + local)


def premis(local: str) -> ox.NamedNode:
    return N(PREMIS + local)


def dct(local: str) -> ox.NamedNode:
    return N(DCTERMS + local)


def slug(value: str) -> str:
    return quote(value.strip(), safe="")


def package_graph(batch: str) -> str:
    return f"{GG}package/{slug(batch)}"


def preservation_graph(batch: str) -> str:
    return f"{GG}preservation/package/{slug(batch)}"


def _date_literal(value: str) -> ox.Literal:
    v = value.strip()
    kind = {4: "gYear", 7: "gYearMonth", 10: "date"}.get(len(v), "string")
    return L(v, datatype=N(XSD + kind))


def _datetime_literal(value: str) -> ox.Literal:
    v = value.strip()
    full = {4: f"{v}-01-01", 7: f"{v}-01", 10: v}.get(len(v), v)
    return L(f"{full}T00:00:00", datatype=N(XSD + "dateTime"))


@dataclass
class PackageGraphs:
    batch: str
    public: list[ox.Triple] = field(default_factory=list)
    preservation: list[ox.Triple] = field(default_factory=list)
    origin: dict[str, tuple[str, int]] = field(default_factory=dict)  # node IRI -> (file, row)
    columns: dict[tuple[str, str], str] = field(default_factory=dict)  # (file, predicate IRI) -> column
    private_nodes: set[str] = field(default_factory=set)

    @property
    def graphs(self) -> dict[str, list[ox.Triple]]:
        return {package_graph(self.batch): self.public, preservation_graph(self.batch): self.preservation}

    def add(self, s: ox.NamedNode, p: ox.NamedNode, o, *, private: bool = False) -> None:
        private = private or s.value in self.private_nodes or (isinstance(o, ox.NamedNode) and o.value in self.private_nodes)
        (self.preservation if private else self.public).append(T(s, p, o))

    def node(self, iri: str, row: Row | None, file: str, *, private: bool = False) -> ox.NamedNode:
        if row is not None:
            self.origin.setdefault(iri, (file, row.line))
        if private:
            self.private_nodes.add(iri)
        return N(iri)

    def apply_identity(self, mapping: dict[str, str]) -> None:
        """Fold merged works into their canonical work (explicit ``work_id`` or confirmed decisions)."""
        if mapping:
            self.public = works.rewrite(self.public, mapping)
            self.preservation = works.rewrite(self.preservation, mapping)

    def col(self, file: str, predicate: ox.NamedNode, column: str) -> ox.NamedNode:
        self.columns[(file, predicate.value)] = column
        return predicate


def build(pkg: Package) -> PackageGraphs:
    sub = pkg.submission
    batch = str(sub.get("batch") or pkg.bag_info.get("External-Identifier") or pkg.root.name)
    pg = PackageGraphs(batch)
    submission = pg.node(f"{ID}submission/{slug(batch)}", None, "data/submission.json")
    unit = _agent(pg, "org", str(sub.get("submitting_unit", "")))
    pg.add(submission, A, g("Submission"))
    pg.add(submission, A, prov("Activity"))
    pg.add(submission, dct("identifier"), L(batch))
    if unit is not None:
        pg.add(submission, prov("wasAssociatedWith"), unit)
    if isinstance(sub.get("date"), str):
        pg.add(submission, prov("endedAtTime"), _datetime_literal(sub["date"]))
    if isinstance(sub.get("rights"), str) and re.match(r"^https?://\S+$", sub["rights"]):
        pg.add(submission, dct("rights"), N(sub["rights"]))  # shown on every manifest of the package
    contact = sub.get("contact")
    if isinstance(contact, dict):
        c = pg.node(f"{ID}submission/{slug(batch)}/contact", None, "data/submission.json", private=True)
        pg.add(submission, g("contact"), c)
        for k in ("name", "email", "phone"):
            if contact.get(k):
                pg.add(c, g(f"contact{k.title()}"), L(str(contact[k])))

    books = {r.get("book_id").strip(): r for r in pkg.rows("books")}
    reels = {r.get("reel_id").strip(): r for r in pkg.rows("reels")}
    files = {r.get("file_id").strip(): r for r in pkg.rows("files")}
    iris = _Iris(pkg, books, reels, files)

    for book_id, row in books.items():
        _book(pg, iris, book_id, row, submission)
    for row in pkg.rows("collation"):
        _collation(pg, iris, row)
    for row in pkg.rows("gaiji"):
        _gaiji(pg, batch, row, pkg.root)
    _microfilm(pg, iris, pkg)
    _digital(pg, iris, pkg)
    from kg.package import serials  # v2: serials, issues, articles, 民国 books, colour film (ADR 0021)

    serials.build(pg, pkg, iris)
    if unit is not None:
        _credit(pg, unit)
    # work identity (kg.works): a book naming its work is folded into it; the census work IRI stays
    # resolvable through owl:sameAs
    named = {iris.work(b): works.work_iri_for(r.get("work_id")) for b, r in books.items() if r.get("work_id").strip()}
    pg.apply_identity({k: v for k, v in named.items() if v and v != k})
    return pg


USE_TERMS = f"{ID}terms/service-level"  # 权益保障: only service-level data is published, free, non-commercial


def _credit(pg: PackageGraphs, unit: ox.NamedNode) -> None:
    """Rights and credit (权益保障): every published digital copy names the submitting unit that owns
    it and the terms of use; the terms are described in the graph itself."""
    service = N(f"{GUJIV}access-level/service")
    public = set(pg.public)
    copies = {t.subject for t in public if t.predicate == g("accessLevel") and t.object == service
              and ox.Triple(t.subject, A, g("DigitalCopy")) in public}
    terms = N(USE_TERMS)
    for copy in sorted(copies, key=str):
        pg.add(copy, prov("wasAttributedTo"), unit)
        pg.add(copy, dct("rightsHolder"), unit)
        pg.add(copy, dct("license"), terms)
    if copies:
        pg.add(terms, A, dct("LicenseDocument"))
        pg.add(terms, LABEL, L("服务级数据，免费提供，仅限非商业使用；版权归承建单位所有", language="zh"))
        pg.add(terms, LABEL, L("service-level data, free of charge, for non-commercial use only; the submitting unit owns it", language="en"))


class _Iris:
    """Deterministic IRIs; the physical book is keyed by its census number."""

    def __init__(self, pkg: Package, books: dict, reels: dict, files: dict) -> None:
        self.pkg, self.books, self.reels, self.files = pkg, books, reels, files
        self.batch = str(pkg.submission.get("batch") or pkg.root.name)

    def census(self, book_id: str) -> str:
        return slug(self.books[book_id].get("census_no"))

    def work(self, b: str) -> str: return f"{ID}work/census/{self.census(b)}"
    def instance(self, b: str) -> str: return f"{ID}instance/census/{self.census(b)}"
    def book(self, b: str) -> str: return f"{ID}item/census/{self.census(b)}"
    def microform(self, b: str, gen: str) -> str: return f"{self.instance(b)}/microform/{gen}"
    def film_copy(self, b: str, gen: str) -> str: return f"{self.book(b)}/film/{gen}"
    def electronic(self, b: str) -> str: return f"{self.instance(b)}/electronic"
    def digital(self, b: str, level: str) -> str: return f"{self.book(b)}/digital/{level}"
    def reel(self, reel_id: str) -> str: return f"{ID}reel/{slug(self.batch)}/{slug(reel_id)}"
    def file(self, file_id: str) -> str: return f"{ID}file/{slug(self.batch)}/{slug(file_id)}"

    def generation(self, reel_id: str) -> str:
        iri = vocab.lookup("film-generation", self.reels[reel_id].get("generation"))
        return iri.rsplit("/", 1)[1]

    def level(self, file_id: str) -> str:
        iri = vocab.lookup("access-level", self.files[file_id].get("level"))
        return iri.rsplit("/", 1)[1]

    def source(self, ref: str) -> str | None:
        """The copy a derived_from value names: the physical book, a film copy, a digital copy."""
        kind, _, key = ref.strip().partition(":")
        if kind == "reel" and key in self.reels and self.reels[key].get("book_id").strip() in self.books:
            b = self.reels[key].get("book_id").strip()
            return self.film_copy(b, self.generation(key))
        if kind == "file" and key in self.files and self.files[key].get("book_id").strip() in self.books:
            b = self.files[key].get("book_id").strip()
            return self.digital(b, self.level(key))
        return None


def _agent(pg: PackageGraphs, kind: str, name: str) -> ox.NamedNode | None:
    name = name.strip()
    if not name:
        return None
    node = N(f"{ID}agent/{kind}/{slug(name)}")
    pg.add(node, A, bf("Organization" if kind == "org" else "Person"))
    pg.add(node, A, prov("Organization" if kind == "org" else "Person"))
    pg.add(node, LABEL, L(name, language="zh"))
    return node


def _concept(scheme: str, value: str) -> ox.NamedNode | None:
    iri = vocab.lookup(scheme, value) if value.strip() else None
    return N(iri) if iri else None


def _book(pg: PackageGraphs, iris: _Iris, b: str, row: Row, submission: ox.NamedNode) -> None:
    F = "data/books.csv"
    v = row.get
    work = pg.node(iris.work(b), row, F)
    inst = pg.node(iris.instance(b), row, F)
    item = pg.node(iris.book(b), row, F)
    title = v("title").strip()
    pg.add(work, A, bf("Work"))
    pg.add(work, pg.col(F, LABEL, "title"), L(title, language="zh"))
    t = N(f"{work.value}/title")
    pg.add(work, bf("title"), t)
    pg.add(t, A, bf("Title"))
    pg.add(t, bf("mainTitle"), L(title, language="zh"))
    if (c := _concept("sibu", v("sibu"))) is not None:
        pg.add(work, pg.col(F, g("classification"), "sibu"), c)
    if (c := _concept("dynasty", v("responsibility_dynasty"))) is not None:
        pg.add(work, pg.col(F, g("dynasty"), "responsibility_dynasty"), c)
    if v("responsibility").strip():
        person = _agent(pg, "person", v("responsibility"))
        contribution = N(f"{work.value}/contribution/1")
        pg.add(work, bf("contribution"), contribution)
        pg.add(contribution, A, bf("Contribution"))
        pg.add(contribution, bf("agent"), person)
        if v("responsibility_mode").strip():
            pg.add(contribution, bf("role"), L(v("responsibility_mode").strip(), language="zh"))

    pg.add(inst, A, bf("Instance"))
    pg.add(inst, bf("instanceOf"), work)
    pg.add(inst, LABEL, L(f"{title} {v('edition_statement').strip()}".strip(), language="zh"))
    if (c := _concept("edition-type", v("edition_type"))) is not None:
        pg.add(inst, pg.col(F, g("editionType"), "edition_type"), c)
    if v("juan_count").strip().isdigit():
        pg.add(inst, pg.col(F, g("juanCount"), "juan_count"), L(v("juan_count").strip(), datatype=INT))
    for col, pred in (("edition_statement", bf("editionStatement")), ("date_as_written", bf("provisionActivityStatement"))):
        if v(col).strip():
            pg.add(inst, pg.col(F, pred, col), L(v(col).strip(), language="zh"))
    if v("responsibility").strip():
        pg.add(inst, bf("responsibilityStatement"), L(
            "".join(x.strip() for x in (_label_of(v("responsibility_dynasty")), v("responsibility"), v("responsibility_mode"))), language="zh"))
    if re.fullmatch(r"-?\d+", v("year").strip()):
        pg.add(inst, pg.col(F, g("year"), "year"), L(v("year").strip(), datatype=INT))
    if (c := _concept("binding", v("binding"))) is not None:
        pg.add(inst, pg.col(F, bf("binding"), "binding"), c)
    layout_parts = [(c, v(c).strip()) for c in ("layout", "frame_size", "banxin", "yuwei", "bianlan") if v(c).strip()]
    for col, value in layout_parts:
        pg.add(inst, pg.col(F, g({"layout": "hangkuan", "frame_size": "frameSize", "banxin": "banxin", "yuwei": "yuwei", "bianlan": "bianlan"}[col]), col),
               L(value, language="zh"))

    pg.add(item, A, bf("Item"))
    pg.add(item, A, g("PhysicalBook"))
    pg.add(item, bf("itemOf"), inst)
    pg.add(item, LABEL, L(f"{title} ({v('holding_library').strip()} {v('call_number').strip()})", language="zh"))
    library = _agent(pg, "org", v("holding_library"))
    if library is not None:
        pg.add(item, pg.col(F, bf("heldBy"), "holding_library"), library)
    if v("call_number").strip():
        sm = N(f"{item.value}/shelfmark")
        pg.add(item, pg.col(F, bf("shelfMark"), "call_number"), sm)
        pg.add(sm, A, bf("ShelfMark"))
        pg.add(sm, VALUE, L(v("call_number").strip()))
    if v("census_no").strip():
        cn = N(f"{item.value}/census-number")
        pg.add(item, pg.col(F, bf("identifiedBy"), "census_no"), cn)
        pg.add(cn, A, g("CensusNumber"))
        pg.add(cn, VALUE, L(v("census_no").strip()))
    if v("volumes").strip().isdigit():
        pg.add(item, pg.col(F, g("volumeCount"), "volumes"), L(v("volumes").strip(), datatype=INT))
    for col, pred in (("juan_extant", g("juanExtant")), ("juan_missing", g("juanMissing")), ("notes", bf("note"))):
        if v(col).strip():
            pg.add(item, pg.col(F, pred, col), L(v(col).strip(), language="zh"))
    for seal in re.split(r"[；;]", v("seals")):
        if seal.strip():
            pg.add(item, pg.col(F, g("seal"), "seals"), L(seal.strip(), language="zh"))
    if (c := _concept("grade", v("grade"))) is not None:
        pg.add(item, pg.col(F, g("grade"), "grade"), c)
    pg.add(item, g("submittedIn"), submission)


def _label_of(value: str) -> str:
    return value.strip()


def _collation(pg: PackageGraphs, iris: _Iris, row: Row) -> None:
    F = "data/collation.csv"
    b = row.get("book_id").strip()
    if b not in iris.books:
        return
    act = pg.node(f"{iris.book(b)}/collation/{row.line}", row, F)
    pg.add(act, A, g("CollationActivity"))
    pg.add(act, A, prov("Activity"))
    pg.add(act, prov("used"), N(iris.book(b)))
    pg.add(act, pg.col(F, g("collationKind"), "kind"), L(row.get("kind").strip(), language="zh"))
    pg.add(act, pg.col(F, g("baseText"), "base_text"), L(row.get("base_text").strip(), language="zh"))
    for w in re.split(r"[；;]", row.get("witnesses")):
        if w.strip():
            pg.add(act, pg.col(F, g("witness"), "witnesses"), L(w.strip(), language="zh"))
    for person in re.split(r"[；;]", row.get("people")):
        if person.strip():
            pg.add(act, pg.col(F, prov("wasAssociatedWith"), "people"), _agent(pg, "person", person))
    if row.get("start_date").strip():
        pg.add(act, pg.col(F, prov("startedAtTime"), "start_date"), _datetime_literal(row.get("start_date")))
    if row.get("end_date").strip():
        pg.add(act, pg.col(F, prov("endedAtTime"), "end_date"), _datetime_literal(row.get("end_date")))


def _gaiji(pg: PackageGraphs, batch: str, row: Row, root=None) -> None:
    F = "data/gaiji.csv"
    ch = pg.node(f"{ID}char/{slug(batch)}/{slug(row.get('local_id'))}", row, F)
    pg.add(ch, A, g("NonUnicodeCharacter"))
    pg.add(ch, pg.col(F, g("localId"), "local_id"), L(row.get("local_id").strip()))
    pg.add(ch, pg.col(F, g("puaCodePoint"), "pua"), L(row.get("pua").strip().upper().replace("U+", "U+")))
    if row.get("ids").strip():
        pg.add(ch, pg.col(F, g("ids"), "ids"), L(row.get("ids").strip()))
    if row.get("glyph_image").strip():
        pg.add(ch, pg.col(F, g("glyphImage"), "glyph_image"), L(row.get("glyph_image").strip()))
        uri = glyph_data_uri(root, row.get("glyph_image").strip()) if root is not None else None
        if uri:  # the image itself, so that every page (and SPARQL) can draw the character
            pg.add(ch, g("glyphImageData"), L(uri, datatype=N(XSD + "anyURI")))
    if row.get("nearest").strip():
        pg.add(ch, pg.col(F, g("normalizedForm"), "nearest"), L(row.get("nearest").strip()))
    if row.get("occurrences").strip().isdigit():
        pg.add(ch, pg.col(F, g("occurrences"), "occurrences"), L(row.get("occurrences").strip(), datatype=INT))


def _microfilm(pg: PackageGraphs, iris: _Iris, pkg: Package) -> None:
    F = "data/reels.csv"
    copies: dict[tuple[str, str], ox.NamedNode] = {}
    for reel_id, row in iris.reels.items():
        b = row.get("book_id").strip()
        if b not in iris.books or vocab.lookup("film-generation", row.get("generation")) is None:
            continue
        gen = iris.generation(reel_id)
        inst = pg.node(iris.microform(b, gen), row, F)
        copy = pg.node(iris.film_copy(b, gen), row, F)
        reel = pg.node(iris.reel(reel_id), row, F)
        if (b, gen) not in copies:
            copies[(b, gen)] = copy
            pg.add(inst, A, bf("Instance"))
            pg.add(inst, A, bf("Microform"))
            pg.add(inst, bf("instanceOf"), N(iris.work(b)))
            pg.add(inst, bf("reproductionOf"), N(iris.instance(b)))
            pg.add(N(iris.instance(b)), bf("hasReproduction"), inst)
            pg.add(inst, pg.col(F, bf("generation"), "generation"), _concept("film-generation", row.get("generation")))
            pg.add(copy, A, bf("Item"))
            pg.add(copy, A, g("MicrofilmCopy"))
            pg.add(copy, bf("itemOf"), inst)
            pg.add(copy, LABEL, L(f"{iris.books[b].get('title').strip()} 缩微品（{row.get('generation').strip()}）", language="zh"))
        if (c := _concept("polarity", row.get("polarity"))) is not None:
            pg.add(inst, pg.col(F, bf("polarity"), "polarity"), c)
        if row.get("reduction_ratio").strip():
            ratio = N(f"{inst.value}/reduction-ratio")
            pg.add(inst, pg.col(F, bf("reductionRatio"), "reduction_ratio"), ratio)
            pg.add(ratio, A, bf("ReductionRatio"))
            pg.add(ratio, LABEL, L(row.get("reduction_ratio").strip()))
        pg.add(copy, g("onReel"), reel)
        src = iris.source(row.get("derived_from")) if row.get("derived_from").strip() != "book" else iris.book(b)
        if src:
            pg.add(copy, pg.col(F, prov("wasDerivedFrom"), "derived_from"), N(src))
            kind = row.get("derived_from").split(":")[0]
            method = {"book": "filming", "reel": "film-duplication", "file": "digital-to-film"}[kind]
            pg.add(copy, g("derivationMethod"), N(f"{GUJIV}derivation-method/{method}"))
        if row.get("shooting_date").strip():
            pg.add(copy, pg.col(F, dct("created"), "shooting_date"), _date_literal(row.get("shooting_date")))
        unit = _agent(pg, "org", row.get("shooting_unit"))
        if unit is not None:
            pg.add(copy, pg.col(F, prov("wasAttributedTo"), "shooting_unit"), unit)
        pg.add(reel, A, g("MicrofilmReel"))
        pg.add(reel, pg.col(F, dct("identifier"), "reel_id"), L(reel_id))
        if (c := _concept("film-base", row.get("base"))) is not None:
            pg.add(reel, pg.col(F, bf("baseMaterial"), "base"), c)
        if row.get("storage_location").strip():
            pg.add(reel, pg.col(F, bf("physicalLocation"), "storage_location"), L(row.get("storage_location").strip(), language="zh"))
        if row.get("width_mm").strip().isdigit():
            pg.add(reel, pg.col(F, g("filmWidthMm"), "width_mm"), L(row.get("width_mm").strip(), datatype=INT))
        # the filming (or duplication, or writing from digital files) as a PREMIS event
        ev = pg.node(f"{reel.value}/event/creation", row, F)
        pg.add(ev, A, premis("Event"))
        pg.add(ev, A, prov("Activity"))
        pg.add(ev, A, N("http://id.loc.gov/vocabulary/preservation/eventType/cre"))  # PREMIS 3 types events by the LC vocabulary
        pg.add(ev, prov("generated"), reel)
        if src:
            pg.add(ev, prov("used"), N(src))
        if row.get("shooting_date").strip():
            pg.add(ev, prov("endedAtTime"), _datetime_literal(row.get("shooting_date")))
        if unit is not None:
            pg.add(ev, prov("wasAssociatedWith"), unit)

    Fr = "data/frames.csv"
    for row in pkg.rows("frames"):
        reel_id = row.get("reel_id").strip()
        if reel_id not in iris.reels or not (row.get("frame_start").strip().isdigit() and row.get("frame_end").strip().isdigit()):
            continue
        b = iris.reels[reel_id].get("book_id").strip()
        if b not in iris.books or vocab.lookup("film-generation", iris.reels[reel_id].get("generation")) is None:
            continue
        fr = pg.node(f"{iris.reel(reel_id)}/frames/{row.get('frame_start').strip()}-{row.get('frame_end').strip()}", row, Fr)
        pg.add(N(iris.film_copy(b, iris.generation(reel_id))), g("frameRange"), fr)
        pg.add(fr, A, g("FrameRange"))
        pg.add(fr, pg.col(Fr, g("onReel"), "reel_id"), N(iris.reel(reel_id)))
        pg.add(fr, pg.col(Fr, g("startFrame"), "frame_start"), L(row.get("frame_start").strip(), datatype=INT))
        pg.add(fr, pg.col(Fr, g("endFrame"), "frame_end"), L(row.get("frame_end").strip(), datatype=INT))
        if row.get("juan").strip().isdigit():
            pg.add(fr, pg.col(Fr, g("juanNumber"), "juan"), L(f"{int(row.get('juan')):03d}"))
        for col, pred in (("folio_start", "startFolio"), ("folio_end", "endFolio")):
            if row.get(col).strip():
                pg.add(fr, pg.col(Fr, g(pred), col), L(row.get(col).strip()))

    Fi = "data/inspections.csv"
    for row in pkg.rows("inspections"):
        reel_id = row.get("reel_id").strip()
        if reel_id not in iris.reels or not row.get("date").strip():
            continue
        ev = pg.node(f"{iris.reel(reel_id)}/inspection/{row.line}", row, Fi)
        pg.add(ev, A, g("InspectionEvent"))
        pg.add(ev, A, premis("Event"))
        pg.add(ev, pg.col(Fi, prov("used"), "reel_id"), N(iris.reel(reel_id)))
        pg.add(ev, pg.col(Fi, prov("endedAtTime"), "date"), _datetime_literal(row.get("date")))
        level = _concept("vinegar-syndrome", row.get("vinegar_level"))
        kind = "ad-strip-test" if level is not None else "visual"
        pg.add(ev, pg.col(Fi, g("inspectionType"), "vinegar_level"), N(f"{GUJIV}inspection-type/{kind}"))
        if level is not None:
            pg.add(ev, pg.col(Fi, g("vinegarSyndromeLevel"), "vinegar_level"), level)
        inspector = _agent(pg, "person", row.get("inspector"))
        if inspector is not None:
            pg.add(ev, pg.col(Fi, prov("wasAssociatedWith"), "inspector"), inspector)
        for col, pred in (("density", "density"), ("resolution", "resolutionLpMm"), ("residual_thiosulfate", "residualThiosulfate")):
            if row.get(col).strip():
                pg.add(ev, pg.col(Fi, g(pred), col), L(row.get(col).strip(), datatype=DECIMAL))
        if row.get("defects").strip():
            pg.add(ev, pg.col(Fi, premis("outcomeNote"), "defects"), L(row.get("defects").strip(), language="zh"))


def _digital(pg: PackageGraphs, iris: _Iris, pkg: Package) -> None:
    F = "data/files.csv"
    declared: set[tuple[str, str]] = set()
    for file_id, row in iris.files.items():
        b = row.get("book_id").strip()
        if b not in iris.books or vocab.lookup("access-level", row.get("level")) is None:
            continue
        level = iris.level(file_id)
        private = level == "preservation"
        electronic = pg.node(iris.electronic(b), row, F)
        copy = pg.node(iris.digital(b, level), row, F, private=private)
        f = pg.node(iris.file(file_id), row, F, private=private)
        if (b, level) not in declared:
            declared.add((b, level))
            if (b, "") not in declared:
                declared.add((b, ""))
                pg.add(electronic, A, bf("Instance"))
                pg.add(electronic, A, bf("Electronic"))
                pg.add(electronic, bf("instanceOf"), N(iris.work(b)))
                pg.add(electronic, bf("reproductionOf"), N(iris.instance(b)))
                pg.add(N(iris.instance(b)), bf("hasReproduction"), electronic)
            pg.add(copy, A, bf("Item"))
            pg.add(copy, A, g("DigitalCopy"))
            pg.add(copy, bf("itemOf"), electronic)
            pg.add(copy, g("accessLevel"), N(f"{GUJIV}access-level/{level}"))
            pg.add(copy, LABEL, L(f"{iris.books[b].get('title').strip()} 数字化（{row.get('level').strip()}）", language="zh"))
        pg.add(f, A, premis("File"))
        pg.add(f, dct("isPartOf"), copy)
        pg.add(f, pg.col(F, dct("identifier"), "file_id"), L(file_id))
        pg.add(f, pg.col(F, g("accessLevel"), "level"), N(f"{GUJIV}access-level/{level}"))
        pg.add(f, pg.col(F, premis("originalName"), "path"), L(row.get("path").strip()))
        pg.add(f, pg.col(F, dct("format"), "format"), L(row.get("format").strip()))
        if row.get("size").strip().isdigit():
            pg.add(f, pg.col(F, premis("size"), "size"), L(row.get("size").strip(), datatype=INT))
        if row.get("resolution_dpi").strip().isdigit():
            pg.add(f, pg.col(F, g("resolutionDpi"), "resolution_dpi"), L(row.get("resolution_dpi").strip(), datatype=INT))
        if row.get("sha256").strip():
            fx = N(f"{f.value}/fixity/sha256")
            pg.private_nodes.add(fx.value) if private else None
            pg.add(f, pg.col(F, premis("fixity"), "sha256"), fx)
            pg.add(fx, A, premis("Fixity"))
            pg.add(fx, A, HASH_SHA256)
            pg.add(fx, VALUE, L(row.get("sha256").strip()))
        if row.get("juan").strip().isdigit():
            pg.add(f, g("juanNumber"), L(f"{int(row.get('juan')):03d}"))
        ref = row.get("derived_from").strip()
        src_copy = iris.book(b) if ref == "book" else iris.source(ref)
        if src_copy and src_copy != copy.value:  # a text transcribed from this copy's own images is no new source
            pg.add(copy, pg.col(F, prov("wasDerivedFrom"), "derived_from"), N(src_copy))
            kind = ref.split(":")[0]
            method = {"book": "scanning-original", "reel": "scanning-film", "file": None}[kind]
            if method:
                pg.add(copy, g("derivationMethod"), N(f"{GUJIV}derivation-method/{method}"))
        if ref.startswith("file:"):
            pg.add(f, pg.col(F, prov("wasDerivedFrom"), "derived_from"), N(iris.file(ref[5:])))
        elif ref.startswith("reel:"):
            pg.add(f, pg.col(F, prov("wasDerivedFrom"), "derived_from"), N(iris.reel(ref[5:])))

    # service-level texts become juan with folio structure, like a Kanripo text
    texts_by_copy: dict[str, list[tuple[str, Row, kanripo.Juan]]] = {}
    for file_id, (row, juan) in pkg.texts.items():
        b = row.get("book_id").strip()
        if b in iris.books and iris.level(file_id) == "service":
            texts_by_copy.setdefault(b, []).append((file_id, row, juan))
    for b, items in texts_by_copy.items():
        copy = N(iris.digital(b, "service"))
        wg = WorkGraph(iris.census(b))
        for seq, (file_id, row, juan) in enumerate(sorted(items, key=lambda x: (int(x[1].get("juan") or 0), x[0])), start=1):
            juan_no = f"{int(row.get('juan')):03d}" if row.get("juan").strip().isdigit() else f"{seq:03d}"
            jn = N(f"{copy.value}/text/{juan_no}")
            add_juan(wg, copy, jn, seq, juan_no, juan, source_file=row.get("path").strip())
            wg.add(jn, prov("wasDerivedFrom"), N(iris.file(file_id)))
            pg.origin.setdefault(jn.value, (F, row.line))
        pg.public.extend(wg.triples)
    _canvases(pg, iris, pkg)


_FOLIO = re.compile(r"^(\d+)([ab])$")
_PAGE = re.compile(r"(\d+)-(\d+[ab])$")


def _folio_index(folio: str) -> int | None:
    m = _FOLIO.match(folio.strip())
    return None if m is None else 2 * (int(m.group(1)) - 1) + (m.group(2) == "b")


def _frame_of(pkg: Package, reel_id: str, juan: str, folio: str) -> int | None:
    """The frame on ``reel_id`` that shows folio side ``folio`` of ``juan``, by frames.csv: a range
    of folio sides filmed one side to a frame (ranges that are not one-to-one give no frame)."""
    at = _folio_index(folio)
    for row in pkg.rows("frames"):
        if row.get("reel_id").strip() != reel_id or row.get("juan").strip().lstrip("0") != juan.lstrip("0"):
            continue
        lo, hi = _folio_index(row.get("folio_start")), _folio_index(row.get("folio_end"))
        try:
            first, last = int(row.get("frame_start")), int(row.get("frame_end"))
        except ValueError:
            continue
        if None in (at, lo, hi) or not lo <= at <= hi or last - first != hi - lo:
            continue
        return first + at - lo
    return None


def _canvases(pg: PackageGraphs, iris: _Iris, pkg: Package) -> None:
    """Every service-level page image becomes a IIIF canvas of its digital copy, in reading order
    (juan, folio side), linked to the folio side of the text it shows and, for an image scanned
    from film, to the frame on the reel: SPARQL goes text ↔ folio ↔ canvas ↔ frame."""
    F = "data/files.csv"
    sides: dict[tuple[str, str, str], ox.NamedNode] = {}  # (copy IRI, juan "001", folio "1a") -> folio side
    folio_type = g("FolioSide")
    typed = {t.subject for t in pg.public if t.predicate == A and t.object == folio_type}
    for t in pg.public:
        if t.subject in typed and t.predicate == g("pageId") and (m := _PAGE.search(t.object.value)):
            copy = t.subject.value.split("/text/", 1)[0]
            sides[(copy, f"{int(m.group(1)):03d}", m.group(2))] = t.subject
    by_book: dict[str, list[tuple]] = {}
    for file_id, (info, _sha) in pkg.images.items():
        row = iris.files[file_id]
        juan = f"{int(row.get('juan')):03d}" if row.get("juan").strip().isdigit() else ""
        folio = row.get("folio").strip()
        order = (juan or "999", _folio_index(folio) if _folio_index(folio) is not None else 10**6, file_id)
        if row.get("book_id").strip() not in iris.books:
            continue  # a v2 issue's page image (kg.package.serials)
        by_book.setdefault(row.get("book_id").strip(), []).append((order, file_id, row, info, juan, folio))
    for b, items in by_book.items():
        copy = N(iris.digital(b, "service"))
        for seq, (_o, file_id, row, info, juan, folio) in enumerate(sorted(items, key=lambda x: x[0]), start=1):
            f = N(iris.file(file_id))
            pg.add(f, pg.col(F, g("pixelWidth"), "path"), L(str(info.width), datatype=INT))
            pg.add(f, pg.col(F, g("pixelHeight"), "path"), L(str(info.height), datatype=INT))
            canvas = pg.node(f"{ID}canvas/{slug(iris.batch)}/{slug(file_id)}", row, F)
            pg.add(canvas, A, N(IIIF + "Canvas"))
            pg.add(canvas, dct("isPartOf"), copy)
            pg.add(canvas, g("sequence"), L(str(seq), datatype=INT))
            pg.add(canvas, g("imageFile"), f)
            pg.add(canvas, prov("wasGeneratedBy"), N(f"{ID}submission/{slug(iris.batch)}"))
            label = f"卷{int(juan)} 葉{folio}" if juan and folio else file_id
            pg.add(canvas, LABEL, L(label, language="zh"))
            if folio:
                pg.add(canvas, pg.col(F, g("folioLabel"), "folio"), L(folio))
            side = sides.get((copy.value, juan, folio))
            if side is not None:
                pg.add(canvas, g("showsFolio"), side)
            ref = row.get("derived_from").strip()
            if ref.startswith("reel:") and ref[5:] in iris.reels and juan and folio:
                n = _frame_of(pkg, ref[5:], juan, folio)
                if n is not None:
                    frame = N(f"{iris.reel(ref[5:])}/frame/{n}")
                    pg.add(frame, A, g("Frame"))
                    pg.add(frame, g("onReel"), N(iris.reel(ref[5:])))
                    pg.add(frame, g("frameNumber"), L(str(n), datatype=INT))
                    pg.add(canvas, g("showsFrame"), frame)
                    if side is not None:
                        pg.add(frame, g("showsFolio"), side)
