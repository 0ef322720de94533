"""The lineage diagram of a book's copies: the physical book, its microfilm generations and its
digital copies, placed in columns by how many copying steps separate them from the book, with an
arrow for every ``prov:wasDerivedFrom`` (labelled with the derivation method).

Pure layout (no HTTP, no store): the template draws the SVG from the boxes and arrows made here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from api.web.labels import label

BOX_W = 180
BOX_H = 86
COL_GAP = 72
ROW_GAP = 22
PAD = 12


@dataclass
class Box:
    iri: str
    kind: str  # physical | film | digital | hidden (a source the public does not see)
    title: str
    title_en: str
    lines: list[str]
    col: int = 0
    row: int = 0

    @property
    def x(self) -> int:
        return PAD + self.col * (BOX_W + COL_GAP)

    @property
    def y(self) -> int:
        return PAD + self.row * (BOX_H + ROW_GAP)


@dataclass
class Arrow:
    source: Box
    target: Box
    method: str
    method_en: str

    @property
    def path(self) -> str:
        x1, y1 = self.source.x + BOX_W, self.source.y + BOX_H // 2
        x2, y2 = self.target.x, self.target.y + BOX_H // 2
        if self.target.col <= self.source.col:  # a step back (film written from digital files): go around below
            low = max(self.source.y, self.target.y) + BOX_H + ROW_GAP // 2
            x1, y1 = self.source.x + BOX_W // 2, self.source.y + BOX_H
            x2, y2 = self.target.x + BOX_W // 2, self.target.y + BOX_H
            return f"M{x1},{y1} C{x1},{low + 30} {x2},{low + 30} {x2},{y2 + 6}"
        mx = (x1 + x2) // 2
        return f"M{x1},{y1} C{mx},{y1} {mx},{y2} {x2 - 6},{y2}"

    @property
    def label_xy(self) -> tuple[int, int]:
        if self.target.col <= self.source.col:
            return ((self.source.x + self.target.x + BOX_W) // 2, max(self.source.y, self.target.y) + BOX_H + ROW_GAP + 8)
        return ((self.source.x + BOX_W + self.target.x) // 2, (self.source.y + self.target.y + BOX_H) // 2 - 6)


@dataclass
class Lineage:
    boxes: list[Box] = field(default_factory=list)
    arrows: list[Arrow] = field(default_factory=list)
    box_w: int = BOX_W
    box_h: int = BOX_H

    @property
    def width(self) -> int:
        cols = max((b.col for b in self.boxes), default=0) + 1
        return 2 * PAD + cols * BOX_W + (cols - 1) * COL_GAP

    @property
    def height(self) -> int:
        rows = max((b.row for b in self.boxes), default=0) + 1
        back = any(a.target.col <= a.source.col for a in self.arrows)
        return 2 * PAD + rows * BOX_H + (rows - 1) * ROW_GAP + (60 if back else 0)

    def anchor(self, iri: str) -> str:
        """The id of the HTML row describing a copy (the diagram's boxes link to it)."""
        for i, b in enumerate(self.boxes):
            if b.iri == iri:
                return {"physical": "record", "hidden": "copies-heading"}.get(b.kind, f"copy-{i}")
        return ""

    def describe(self) -> str:
        """The diagram in words (the SVG's accessible description)."""
        parts = [f"{a.target.title}（{a.method}）← {a.source.title}" for a in self.arrows]
        return "；".join(parts) or "；".join(b.title for b in self.boxes)


def _frames(reel: dict) -> str:
    ranges = ", ".join(f"{f['start']}–{f['end']}" for f in reel["frames"])
    return f"{reel['reel_id']} 帧 {ranges}" if ranges else reel["reel_id"]


def build(book: dict) -> Lineage:
    boxes: dict[str, Box] = {}
    physical = Box(book["iri"], "physical", "原书", "physical book",
                   [x for x in ((book.get("holding_library") or {}).get("name"), book.get("call_number")) if x])
    boxes[physical.iri] = physical
    for film in book.get("microfilm", []):
        gen = label(film.get("generation"))
        base = {label(r.get("base")).text() for r in film.get("reels", []) if r.get("base")}
        reels = [_frames(r) for r in film.get("reels", [])]
        lines = [reels[0] + (f" 等 {len(reels)} 卷" if len(reels) > 1 else "") if reels else "（无卷号 no reel）"]
        lines.append(" · ".join(x for x in (label(film.get("polarity")).text() if film.get("polarity") else None,
                                             "/".join(sorted(base)) or None, film.get("ratio")) if x))
        lines.append(f"{film['created']} 制作" if film.get("created") else "")
        boxes[film["iri"]] = Box(film["iri"], "film", f"缩微 {gen.text()}", f"microfilm {gen.en or ''}".strip(), lines)
    for d in book.get("digital", []):
        level = label(d.get("level"))
        n_texts = len(d.get("texts", []))
        n_images = sum(1 for f in d.get("files", []) if (f.get("format") or "").startswith("image/"))
        lines = [d.get("label") or "", f"{n_images} 图像 · {n_texts} 卷文本"]
        boxes[d["iri"]] = Box(d["iri"], "digital", f"数字 {level.text()}", f"digital {level.en or ''}".strip(), lines)

    for h in book.get("hidden", []):  # steps the public does not see, kept so the chain reaches the book
        preservation = (h.get("level") or "").endswith("/preservation")
        title, en = ("数字 保存级", "preservation master") if preservation else ("未公开副本", "copy not shown")
        boxes[h["iri"]] = Box(h["iri"], "hidden", title, en, ["不公开 not public"])
    for d in book.get("derivations", []):  # a source the public does not see (a preservation master)
        if d["from"] in boxes and d["to"] not in boxes:
            preservation = "/preservation" in d["to"]
            boxes[d["to"]] = Box(d["to"], "hidden", "数字 保存级" if preservation else "未公开副本",
                                 "preservation master" if preservation else "copy not shown", ["不公开 not public"])
    parent = {d["from"]: d["to"] for d in book.get("derivations", []) if d["from"] in boxes}

    def depth(iri: str, seen: frozenset = frozenset()) -> int:
        src = parent.get(iri)
        if src is None or src not in boxes or iri in seen:
            return 0
        return depth(src, seen | {iri}) + 1

    rows: dict[int, int] = {}
    order = {"physical": 0, "hidden": 1, "film": 2, "digital": 3}
    for box in sorted(boxes.values(), key=lambda b: (depth(b.iri), order[b.kind], b.iri)):
        box.col = depth(box.iri)
        box.row = rows.get(box.col, 0)
        rows[box.col] = box.row + 1
    lineage = Lineage(list(boxes.values()))
    for d in book.get("derivations", []):
        if d["from"] in boxes and d["to"] in boxes:
            m = label(d.get("method"))
            lineage.arrows.append(Arrow(boxes[d["to"]], boxes[d["from"]], m.text(), m.en or ""))
    return lineage
