"""Kanripo repositories → the canonical graph.

One Kanripo work (a folder ``KR2a0031/`` holding one folder per edition branch: ``master``,
``WYG``, ``SBCK``, ``tls`` ...) becomes one named graph ``gg:kanripo/KR2a0031``:

- a ``bf:Work``; per edition a ``bf:Instance``; per branch a digital copy (``bf:Item`` of an
  electronic ``bf:Instance`` that reproduces the edition);
- per juan file a ``guji:Juan`` holding the plain text and its layout (``kg.kanripo``);
- per ``<pb:...>`` a ``guji:FolioSide`` with code-point offsets; per ``<md:...>`` a
  ``guji:ParallelFolioBoundary`` naming the other edition;
- the table of contents from ``Readme.org``; page images from ``_data/imglist``;
- every ``#+PROPERTY`` header as data; each ``&KRnnnn;`` as a ``guji:NonUnicodeCharacter``.

IRIs are derived from the source only (no blank nodes), so re-ingesting gives the same triples
and the store's diff makes it a no-op.

A re-ingest of an unchanged work does not even parse it (ADR 0018): the digest of its files, of
this reader's code and of the curator-confirmed work identities is written with the work's graph,
in the same transaction, to the private graph ``gg:private/ingest/kanripo/<id>``; a later run that
computes the same digest, and finds no later change of the work's graph by anyone else, skips it.
"""

from __future__ import annotations

import configparser
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from kg import byline
from kg import kanripo as fmt
from kg.errors import ValidationError
from kg.namespaces import BF, DCTERMS, GG, GUJI, GUJIV, ID, PROV, RDF, RDFS, XSD
from kg.store import Change, OxigraphStore

N = ox.NamedNode
L = ox.Literal
T = ox.Triple

A = N(RDF + "type")
LABEL = N(RDFS + "label")
VALUE = N(RDF + "value")
IS_PART_OF = N(DCTERMS + "isPartOf")
IDENTIFIER = N(DCTERMS + "identifier")
JSON_DT = N(RDF + "JSON")
INT = N(XSD + "integer")

# Kanripo's top-level divisions → the 四部 scheme (道/佛 are their own concepts, see ontologies/)
KR_CLASSIFICATION = {"1": "jing", "2": "shi", "3": "zi", "4": "ji", "5": "dao", "6": "fo"}
# branches that are Kanripo's own digital editions rather than reproductions of a printed one
DIGITAL_EDITIONS = {"master": "Kanripo 校訂本 (master)", "tls": "TLS 本 (Thesaurus Linguae Sericae)"}
_ID = re.compile(r"^[A-Z]{2}\d[a-z]\d{4}$")  # KR2a0031; our own samples use GJ
_JUAN_FILE = re.compile(r"^([A-Z]{2}\d[a-z]\d{4})_(\w+)\.txt$")
_TOC_LINK = re.compile(r"\[\[file:([^\]:]+?)(?:::([^\]]+))?\]\[([^\]]*)\]\]")
_EDITION_ROW = re.compile(r"^\s*\|\s*([^|]+?)\s*\|\s*【?([^|】]*)】?\s*\|")
_SAFE = re.compile(r"^[0-9A-Za-z._-]+$")


def p(local: str) -> ox.NamedNode:
    return N(GUJI + local)


def bf(local: str) -> ox.NamedNode:
    return N(BF + local)


def work_iri(text_id: str) -> str:
    return f"{ID}work/{text_id}"


def graph_iri(text_id: str) -> str:
    return f"{GG}kanripo/{text_id}"


def is_work_dir(path: Path) -> bool:
    return path.is_dir() and bool(_ID.match(path.name))


def find_works(paths: list[Path]) -> list[Path]:
    """Work folders named by the paths: a work folder itself, or a folder of work folders."""
    works: list[Path] = []
    for path in paths:
        if not path.exists():
            raise ValidationError(f"no such file or directory: {path}", file=str(path))
        if is_work_dir(path):
            works.append(path)
        elif path.is_dir():
            found = sorted(c for c in path.iterdir() if is_work_dir(c))
            if not found:
                raise ValidationError(f"no Kanripo work folders (named like KR2a0031) in {path}", file=str(path))
            works.extend(found)
        else:
            raise ValidationError(f"not a Kanripo work folder: {path}", file=str(path))
    return works


@dataclass
class WorkGraph:
    text_id: str
    triples: list[ox.Triple] = field(default_factory=list)
    juan_count: int = 0
    folio_count: int = 0
    char_count: int = 0
    warnings: list[str] = field(default_factory=list)

    def add(self, s: ox.NamedNode, pred: ox.NamedNode, o: ox.NamedNode | ox.Literal) -> None:
        self.triples.append(T(s, pred, o))


def read_work(work_dir: Path) -> WorkGraph:
    """Build the graph of one Kanripo work folder (nothing is written)."""
    text_id = work_dir.name
    wg = WorkGraph(text_id)
    work = N(work_iri(text_id))
    branches = sorted(d for d in work_dir.iterdir() if d.is_dir() and not d.name.startswith(("_", ".")))
    if not branches:
        raise ValidationError(f"{text_id}: no edition folders", file=str(work_dir))

    readmes = {b.name: _read_readme(b / "Readme.org") for b in branches}
    edition_labels: dict[str, str] = {}
    for r in readmes.values():
        edition_labels.update(r.editions)
    image_bases = _read_imginfo(work_dir / "_data" / "imglist" / "imginfo.cfg")
    known_editions = frozenset({b.name for b in branches} | set(edition_labels) | set(image_bases))

    # -- the work ------------------------------------------------------------------------------
    juans_by_branch = {b.name: _read_juans(b) for b in branches}
    title = _work_title(readmes, juans_by_branch)
    wg.add(work, A, bf("Work"))
    wg.add(work, LABEL, L(title, language="zh-Hant"))
    title_node = N(f"{work.value}/title")
    wg.add(work, bf("title"), title_node)
    wg.add(title_node, A, bf("Title"))
    wg.add(title_node, bf("mainTitle"), L(title, language="zh-Hant"))
    wg.add(work, IDENTIFIER, L(text_id))
    ident = N(f"{work.value}/kanripo-id")
    wg.add(work, bf("identifiedBy"), ident)
    wg.add(ident, A, p("KanripoIdentifier"))
    wg.add(ident, VALUE, L(text_id))
    cls = KR_CLASSIFICATION.get(text_id[2])
    if cls:
        wg.add(work, p("classification"), N(f"{GUJIV}sibu/{cls}"))
    cats = sorted({v for js in juans_by_branch.values() for _, j in js for k, v in j.properties if k == "CAT"})
    for cat in cats:
        wg.add(work, p("kanripoCategory"), L(cat))
    _add_responsibility(wg, work, juans_by_branch)

    # -- editions (instances) --------------------------------------------------------------------
    def edition(code: str) -> ox.NamedNode:
        return N(f"{ID}instance/{text_id}/{code}")

    declared: set[str] = set()

    def declare_edition(code: str) -> ox.NamedNode:
        inst = edition(code)
        if code in declared:
            return inst
        declared.add(code)
        wg.add(inst, A, bf("Instance"))
        wg.add(inst, bf("instanceOf"), work)
        wg.add(inst, p("editionCode"), L(code))
        label = edition_labels.get(code) or DIGITAL_EDITIONS.get(code)
        if label:
            wg.add(inst, LABEL, L(label, language="zh-Hant"))
            wg.add(inst, bf("editionStatement"), L(label, language="zh-Hant"))
        if code in DIGITAL_EDITIONS:
            wg.add(inst, A, bf("Electronic"))
        if code in image_bases:
            wg.add(inst, p("imageBaseUrl"), L(image_bases[code]))
        return inst

    for code in sorted(edition_labels):
        declare_edition(code)

    # -- digital copies, one per branch ------------------------------------------------------------
    folio_index: dict[tuple[str, str], list[ox.NamedNode]] = {}  # (edition, page) -> folio sides
    gaiji: set[str] = set()
    for branch in branches:
        code = branch.name
        inst = declare_edition(code)
        if code in DIGITAL_EDITIONS:
            electronic = inst
        else:
            electronic = N(f"{inst.value}/electronic")
            wg.add(inst, bf("hasReproduction"), electronic)
            wg.add(electronic, A, bf("Instance"))
            wg.add(electronic, A, bf("Electronic"))
            wg.add(electronic, bf("instanceOf"), work)
            wg.add(electronic, bf("reproductionOf"), inst)
            wg.add(electronic, LABEL, L(f"{title} {code} (Kanripo 電子本)", language="zh-Hant"))
        item = N(f"{ID}item/{text_id}/{code}")
        wg.add(item, A, bf("Item"))
        wg.add(item, A, p("DigitalCopy"))
        wg.add(item, bf("itemOf"), electronic)
        wg.add(item, LABEL, L(f"{title} {code}", language="zh-Hant"))
        wg.add(item, p("accessLevel"), N(f"{GUJIV}access-level/service"))
        wg.add(item, p("sourceRepository"), L(f"kanripo:{text_id}/{code}"))
        wg.add(item, p("editionCode"), L(code))  # shortcut for queries; the BIBFRAME path is itemOf/reproductionOf
        base_codes = {v.strip() for _, j in juans_by_branch[code] for k, v in j.properties if k == "BASEEDITION" and v.strip()}
        for base in sorted(base_codes):
            if base != code:
                wg.add(item, p("baseEdition"), declare_edition(base))
                wg.add(item, N(PROV + "wasDerivedFrom"), declare_edition(base))

        for seq, (juan_no, juan) in enumerate(juans_by_branch[code], start=1):
            jn = N(f"{ID}text/{text_id}/{code}/{juan_no}")
            add_juan(wg, item, jn, seq, juan_no, juan, source_file=f"{text_id}_{juan_no}.txt",
                     editions=known_editions, declare_edition=declare_edition, folio_index=folio_index)
            for _, src in juan.items(fmt.GAIJI):
                gaiji.add(src[1:-1])

        toc = readmes[code].toc
        for n, (file, page, label) in enumerate(toc, start=1):
            entry = N(f"{ID}toc/{text_id}/{code}/{n}")
            wg.add(entry, A, p("TocEntry"))
            wg.add(entry, IS_PART_OF, item)
            wg.add(entry, p("sequence"), L(str(n), datatype=INT))
            wg.add(entry, LABEL, L(label, language="zh-Hant"))
            m = _JUAN_FILE.match(file)
            target = None
            if m:
                juan_iri = N(f"{ID}text/{text_id}/{code}/{m.group(2)}")
                if page:
                    sides = [f for (ed, pg), fs in folio_index.items() if pg == page for f in fs if f.value.startswith(juan_iri.value + "/")]
                    target = sides[0] if sides else None
                if target is None and any(j == m.group(2) for j, _ in juans_by_branch[code]):
                    target = juan_iri
            if target is not None:
                wg.add(entry, p("pointsTo"), target)
            else:
                wg.warnings.append(f"{code}/Readme.org: table-of-contents entry {label!r} points to {file}::{page or ''}, not found")

    for local_id in sorted(gaiji):
        ch = N(f"{ID}char/{local_id}")
        wg.add(ch, A, p("NonUnicodeCharacter"))
        wg.add(ch, p("localId"), L(local_id))
        wg.add(ch, p("puaCodePoint"), L(f"U+{ord(fmt.gaiji_char(local_id)):04X}"))
        wg.add(ch, p("source"), L("Kanripo"))

    _add_images(wg, work_dir, folio_index)
    return wg


def responsibilities(juans_by_branch: dict[str, list[tuple[str, fmt.Juan]]]) -> list[byline.Byline]:
    """Who is responsible for the work, from the bylines at the head of its juan (master first):
    the most frequent byline, and any other seen in two juan or more (a preface's signature is not
    the work's author)."""
    order = ["master", *sorted(b for b in juans_by_branch if b != "master")]
    texts = [fmt.render_juan(j.text, j.layout) for b in order for _, j in juans_by_branch.get(b, [])]
    found = byline.bylines(texts)
    if not found:
        return []
    counts = {b.key(): sum(1 for t in texts if any((x := byline.parse_line(line)) is not None and x.key() == b.key()
                                                    for line in t.split("\n")[:byline.HEAD_LINES])) for b in found}
    # the same person once with and once without a dynasty (王　肅　注 / 魏　王肅　注): keep the fuller one
    dated = {b.person: b for b in reversed(found) if b.dynasty_iri}
    found = list(dict.fromkeys(dated.get(b.person, b) for b in found))
    kept = [found[0]]
    for b in found[1:]:
        if counts.get(b.key(), 0) >= 2 and not any(_variant_of(b, k) or b.person == k.person for k in kept):
            kept.append(b)
    return kept[:3]


def _variant_of(a: byline.Byline, b: byline.Byline) -> bool:
    """The same person written with a variant character (李延夀 / 李延壽, 吳縝 / 呉縝): same dynasty and
    mode, same length, at most one character apart."""
    return (a.dynasty_iri == b.dynasty_iri and a.mode == b.mode and len(a.person) == len(b.person)
            and sum(x != y for x, y in zip(a.person, b.person)) <= 1)


def _add_responsibility(wg: WorkGraph, work: ox.NamedNode, juans_by_branch: dict) -> None:
    from urllib.parse import quote

    for n, b in enumerate(responsibilities(juans_by_branch), start=1):
        person = N(f"{ID}agent/person/{quote(b.person, safe='')}")  # the same node a package's 著者 makes
        wg.add(person, A, bf("Person"))
        wg.add(person, A, N(PROV + "Person"))
        wg.add(person, LABEL, L(b.person, language="zh"))
        contribution = N(f"{work.value}/contribution/{n}")
        wg.add(work, bf("contribution"), contribution)
        wg.add(contribution, A, bf("Contribution"))
        wg.add(contribution, bf("agent"), person)
        wg.add(contribution, bf("role"), L(b.mode, language="zh"))
        wg.add(contribution, p("bylineText"), L(b.line))
        if b.dynasty_iri:
            wg.add(contribution, p("dynasty"), N(b.dynasty_iri))
            if n == 1:
                wg.add(work, p("dynasty"), N(b.dynasty_iri))
        if n == 1:
            wg.add(work, bf("responsibilityStatement"), L(b.line, language="zh-Hant"))


def add_juan(wg: WorkGraph, item: ox.NamedNode, jn: ox.NamedNode, seq: int, juan_no: str, juan: fmt.Juan, *,
             source_file: str, editions: frozenset[str] = frozenset(),
             declare_edition: Callable[[str], ox.NamedNode] | None = None, folio_index: dict | None = None) -> None:
    """The triples of one juan of a digital copy: text, layout, headers as data, folio sides."""
    wg.juan_count += 1
    wg.char_count += len(juan.text)
    wg.add(item, p("hasJuan"), jn)
    wg.add(jn, A, p("Juan"))
    wg.add(jn, IS_PART_OF, item)
    wg.add(jn, p("sequence"), L(str(seq), datatype=INT))
    wg.add(jn, p("juanNumber"), L(juan_no))
    label = juan.property("JUAN")
    if label:
        wg.add(jn, p("juanLabel"), L(label, language="zh-Hant"))
    wg.add(jn, p("text"), L(juan.text))
    wg.add(jn, p("layout"), L(encode_layout(juan.layout), datatype=JSON_DT))
    wg.add(jn, p("charCount"), L(str(len(juan.text)), datatype=INT))
    wg.add(jn, p("sourceFile"), L(source_file))
    if juan.title:
        wg.add(jn, p("fileTitle"), L(juan.title, language="zh-Hant"))
    for i, (key, value) in enumerate(juan.properties, start=1):
        prop = N(f"{jn.value}/property/{i}")
        wg.add(jn, p("property"), prop)
        wg.add(prop, A, p("PropertyValue"))
        wg.add(prop, p("propertyName"), L(key))
        wg.add(prop, VALUE, L(value))
    _add_folios(wg, jn, juan, editions, declare_edition, folio_index if folio_index is not None else {})


def _add_folios(wg: WorkGraph, jn: ox.NamedNode, juan: fmt.Juan, editions: frozenset[str],
                declare_edition: Callable[[str], ox.NamedNode] | None, folio_index: dict) -> None:
    pages = [(o, k, s) for o, k, s in juan.layout if k in (fmt.PAGE, fmt.MILESTONE)]
    own = [(o, s) for o, k, s in pages if k == fmt.PAGE]
    seen: dict[str, int] = {}
    for n, (offset, src) in enumerate(own):
        ref = fmt.parse_page_ref(src[4:-1], editions)
        end = own[n + 1][0] if n + 1 < len(own) else len(juan.text)
        key = ref.page if _SAFE.match(ref.page or "") else f"pb{n + 1}"
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            key = f"{key}~{seen[key]}"
        side = N(f"{jn.value}/{key}")
        wg.folio_count += 1
        _page_break(wg, side, "FolioSide", jn, ref, offset, declare_edition)
        wg.add(side, p("sequence"), L(str(n + 1), datatype=INT))
        wg.add(side, p("endOffset"), L(str(end), datatype=INT))
        folio_index.setdefault((ref.edition, ref.page), []).append(side)
    mseen: dict[str, int] = {}
    for offset, kind, src in pages:
        if kind != fmt.MILESTONE:
            continue
        ref = fmt.parse_page_ref(src[4:-1], editions)
        key = f"{ref.edition}/{ref.page}" if _SAFE.match(ref.page or "") and _SAFE.match(ref.edition or "") else "x"
        mseen[key] = mseen.get(key, 0) + 1
        node = N(f"{jn.value}/md/{key}" + (f"~{mseen[key]}" if mseen[key] > 1 else ""))
        _page_break(wg, node, "ParallelFolioBoundary", jn, ref, offset, declare_edition)


def _page_break(wg: WorkGraph, node: ox.NamedNode, cls: str, jn: ox.NamedNode, ref: fmt.PageRef, offset: int,
                declare_edition: Callable[[str], ox.NamedNode] | None) -> None:
    """What a folio side and another edition's page break have in common."""
    wg.add(node, A, p(cls))
    wg.add(node, IS_PART_OF, jn)
    wg.add(node, p("pageId"), L(ref.raw))
    if ref.edition and declare_edition is not None:
        wg.add(node, p("ofEdition"), declare_edition(ref.edition))
    if ref.folio is not None:
        wg.add(node, p("folio"), L(str(ref.folio), datatype=INT))
        wg.add(node, p("side"), L(ref.side))
    wg.add(node, p("startOffset"), L(str(offset), datatype=INT))


def _add_images(wg: WorkGraph, work_dir: Path, folio_index: dict) -> None:
    folder = work_dir / "_data" / "imglist"
    if not folder.is_dir():
        return
    unmatched = 0
    for path in sorted(folder.glob("*.txt")):
        text = fmt.decode(path.read_bytes(), file=str(path))
        for line_no, line in enumerate(text.splitlines(), start=1):
            cols = line.split("\t")
            if len(cols) < 3 or not cols[1].strip():
                continue
            parts = cols[1].split(None, 1)
            if len(parts) != 2:
                continue
            sides = folio_index.get((parts[0], parts[1]))
            if not sides:
                unmatched += 1
                continue
            for side in sides:
                wg.add(side, p("pageImage"), L(cols[2].strip()))
    if unmatched:
        wg.warnings.append(f"_data/imglist: {unmatched} image rows name a page with no matching <pb:> in any branch")


@dataclass
class _Readme:
    title: str | None = None
    editions: dict[str, str] = field(default_factory=dict)
    toc: list[tuple[str, str | None, str]] = field(default_factory=list)


def _read_readme(path: Path) -> _Readme:
    r = _Readme()
    if not path.is_file():
        return r
    text = fmt.decode(path.read_bytes(), file=str(path))
    for line in text.splitlines():
        if line.startswith("#+TITLE:"):
            r.title = line[len("#+TITLE:"):].split(" / ")[0].strip()
        m = _EDITION_ROW.match(line)
        if m and m.group(2).strip():
            r.editions[m.group(1).strip()] = m.group(2).strip()
        for lm in _TOC_LINK.finditer(line):
            r.toc.append((lm.group(1), lm.group(2), lm.group(3).strip()))
    return r


def _read_imginfo(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    cp = configparser.ConfigParser(interpolation=None)
    cp.optionxform = str  # edition codes are case-sensitive
    try:
        cp.read_string(fmt.decode(path.read_bytes(), file=str(path)))
    except configparser.Error as exc:
        raise ValidationError(f"cannot read image info: {exc}", file=str(path)) from None
    out: dict[str, str] = {}
    for section in cp.sections():
        for key, value in cp.items(section):
            if value.startswith(("http://", "https://")):
                out[key] = value
    return out


def _read_juans(branch: Path) -> list[tuple[str, fmt.Juan]]:
    out = []
    for path in sorted(branch.glob("*.txt")):
        m = _JUAN_FILE.match(path.name)
        if not m:
            continue
        out.append((m.group(2), fmt.read_juan(path)))
    return out


def _work_title(readmes: dict[str, _Readme], juans: dict[str, list]) -> str:
    for branch in ["master", *sorted(juans)]:
        for _, j in juans.get(branch, []):
            if j.title:
                return j.title
    for r in readmes.values():
        if r.title:
            return r.title
    return next(iter(juans))


def encode_layout(layout: list[tuple[int, str, str]]) -> str:
    """Compact JSON: ``[offset, kind]`` when the source string is implied by the kind, else
    ``[offset, kind, source]``."""
    implied = {fmt.NEWLINE: "\n", fmt.LINE_END: "¶", fmt.NOTE_OPEN: "(", fmt.NOTE_SPLIT: "/", fmt.NOTE_CLOSE: ")"}
    rows = [[o, k] if implied.get(k) == s else [o, k, s] for o, k, s in layout]
    return json.dumps(rows, ensure_ascii=False, separators=(",", ":"))


def decode_layout(data: str) -> list[tuple[int, str, str]]:
    implied = {fmt.NEWLINE: "\n", fmt.LINE_END: "¶", fmt.NOTE_OPEN: "(", fmt.NOTE_SPLIT: "/", fmt.NOTE_CLOSE: ")"}
    return [(r[0], r[1], r[2] if len(r) > 2 else implied[r[1]]) for r in json.loads(data)]


@dataclass
class IngestResult:
    text_id: str
    graph: str
    change: Change | None
    triples: int
    juans: int
    folios: int
    chars: int
    warnings: list[str]


DIGEST = N(GUJI + "sourceDigest")
_READER = (Path(__file__), Path(fmt.__file__), Path(byline.__file__))  # the code that turns files into triples


def digest_graph(text_id: str) -> str:
    """The private graph that remembers what a work's graph was ingested from."""
    return f"{GG}private/ingest/kanripo/{text_id}"


def source_digest(store: OxigraphStore, work_dir: Path) -> str:
    """sha256 over every file of the work (relative path and bytes), the reader's own code and the
    confirmed work identities (they rewrite the triples): equal digests, equal triples."""
    from kg.works import confirmed

    h = hashlib.sha256()
    for f in _READER:
        h.update(f.read_bytes())
    h.update(json.dumps(sorted(confirmed(store).items())).encode())
    for f in sorted(x for x in work_dir.rglob("*") if x.is_file() and ".git" not in x.relative_to(work_dir).parts):
        h.update(b"\0" + f.relative_to(work_dir).as_posix().encode() + b"\0")
        h.update(f.read_bytes())
    return h.hexdigest()


def digest_triples(text_id: str, digest: str) -> list[ox.Triple]:
    return [T(N(graph_iri(text_id)), DIGEST, L(digest))]


def _last_change(store: OxigraphStore, graph: str) -> int:
    rows = list(store.query(f"""PREFIX guji: <{GUJI}> SELECT (MAX(?s) AS ?m) WHERE {{
        GRAPH <{GG}changelog> {{ ?c guji:changedGraph <{graph}> ; guji:sequence ?s }} }}"""))
    return int(rows[0]["m"].value) if rows and rows[0]["m"] is not None else 0


def unchanged(store: OxigraphStore, text_id: str, digest: str) -> bool:
    """Was the work's graph written from exactly this digest, and changed by nobody since?"""
    recorded = {q.object.value for q in store.oxigraph.quads_for_pattern(
        N(graph_iri(text_id)), DIGEST, None, N(digest_graph(text_id)))}
    if recorded != {digest}:
        return False
    return _last_change(store, graph_iri(text_id)) <= _last_change(store, digest_graph(text_id))


# -- first ingest: works read in worker processes, bulk loaded behind a staging marker (ADR 0025) --

LOAD_MARKER = f"{GG}private/ingest/kanripo-load"  # hides the graphs of a bulk load until it is published


@dataclass
class ReadWork:
    """A work read (in a worker process) into N-Triples bytes, what the bulk loader takes: terms
    pickled one by one would cost more than building them."""

    text_id: str
    ntriples: bytes
    triples: int
    juans: int
    folios: int
    chars: int
    warnings: list[str]


def read_work_ntriples(work_dir: Path, identities: dict[str, str]) -> ReadWork:
    """Read one work and serialise its graph, confirmed work identities applied (``kg.works.rewrite``)."""
    from kg.works import rewrite

    wg = read_work(work_dir)
    data = "".join(f"{t.subject} {t.predicate} {t.object} .\n" for t in rewrite(wg.triples, identities))
    return ReadWork(wg.text_id, data.encode("utf-8"), len(wg.triples), wg.juan_count, wg.folio_count, wg.char_count,
                    wg.warnings)


def read_works_ntriples(works: list[Path], identities: dict[str, str], *, processes: int) -> Iterator[ReadWork]:
    """Read works in ``processes`` worker processes (the largest first), each yielded as soon as it
    is read (in-process, in order, when one process is asked for or one work given). A broken
    work raises when its turn comes."""
    if processes <= 1 or len(works) <= 1:
        for w in works:
            yield read_work_ntriples(w, identities)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    size = {w: sum(f.stat().st_size for f in w.rglob("*.txt")) for w in works}
    # spawn: the caller may be the server, whose threads a fork would copy mid-step
    with ProcessPoolExecutor(min(processes, len(works)), mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(read_work_ntriples, w, identities) for w in sorted(works, key=lambda w: -size[w])]
        try:
            for f in as_completed(futures):
                yield f.result()
        finally:
            for f in futures:
                f.cancel()


def bulk_ingest(store: OxigraphStore, works: list[Path], digests: dict[str, str], *, agent: str,
                processes: int = 1) -> tuple[list[ReadWork], list[Change]]:
    """Write works whose graphs do not exist yet (a first ingest), fast and all or nothing:

    1. a marker naming every graph of the run is committed: ``store.graphs()`` leaves them out and
       no change-log entry names them, so nothing of them is visible (ADR 0017's staging);
    2. the works are read in worker processes, and each is bulk loaded (Oxigraph's loader: no
       transaction, no diff) while the others are still being read;
    3. one small transaction drops the marker and writes each graph's change-log entry and each
       work's digest (``digests``: text id → digest; ADR 0018).

    A broken work (raised by its reader), a failed load or an interruption removes what was loaded
    (:meth:`OxigraphStore.unstage`); a killed process leaves it hidden, for the next run to remove
    (:func:`clear_interrupted_load`)."""
    if not works:
        return [], []
    from kg.works import confirmed

    identities = confirmed(store)
    run = hashlib.sha256("\0".join(f"{w.name}:{digests[w.name]}" for w in works).encode()).hexdigest()
    store.stage(LOAD_MARKER, [graph_iri(w.name) for w in works], run, agent=agent)
    reads: list[ReadWork] = []
    try:
        for r in read_works_ntriples(works, identities, processes=processes):
            store.bulk_load_staged(None, graph_iri(r.text_id), data=r.ntriples)
            r.ntriples = b""  # loaded: let it go
            reads.append(r)
        changes = store.publish_staged(LOAD_MARKER, agent=agent,
                                       also={digest_graph(w.name): digest_triples(w.name, digests[w.name]) for w in works})
    except BaseException:
        store.unstage(LOAD_MARKER, agent=agent)
        raise
    order = {w.name: i for i, w in enumerate(works)}
    return sorted(reads, key=lambda r: order[r.text_id]), changes


def clear_interrupted_load(store: OxigraphStore, *, agent: str) -> None:
    """A bulk load killed before it was published left hidden triples: remove them (the graphs it
    names did not exist before it)."""
    if store.staging(LOAD_MARKER)[0]:
        store.unstage(LOAD_MARKER, agent=agent)


def ingest_work(store: OxigraphStore, work_dir: Path, *, agent: str = "guji ingest") -> IngestResult:
    """One work, always read and written (no digest: ``guji ingest``, ``api.operations.ingest``,
    is the path that records digests and skips unchanged works)."""
    from kg.works import confirmed, rewrite

    wg = read_work(work_dir)
    graph = graph_iri(wg.text_id)
    change = store.replace_graph(graph, rewrite(wg.triples, confirmed(store)), agent=agent)
    return IngestResult(wg.text_id, graph, change, len(set(wg.triples)), wg.juan_count, wg.folio_count, wg.char_count, wg.warnings)


def iter_ingest(store: OxigraphStore, paths: list[Path], *, agent: str = "guji ingest") -> Iterator[IngestResult]:
    for work_dir in find_works(paths):
        yield ingest_work(store, work_dir, agent=agent)
