"""Reading the Kanripo (mandoku) text format without losing a character.

A Kanripo juan file is org-mode text: header lines (``#+TITLE``, ``#+PROPERTY: JUAN 1`` ...),
comment lines (``# ...``), and the text itself with inline markup:

- ``¶`` ends a line of the printed page;
- ``<pb:KR2a0031_WYG_001-1a>`` starts folio 1 side a of juan 001 of the WYG edition;
- ``<md:KR2b0001_WYG_001-7b>`` is another edition's page break inside this text;
- ``<img:...>`` points to an inline picture;
- ``&KR0056;`` is a character outside Unicode;
- ``(注文/注文)`` is double-column small-character commentary, ``/`` between the columns;
- ``** heading`` at the start of a line is an org heading.

:func:`parse_juan` splits a file into the plain text (markup removed; every other character kept,
code point for code point) and a *layout*: the list of markup items with the code-point offset in
the plain text where each stood, in source order. :func:`render_juan` puts them back together and
gives the source file again byte for byte, which is how the fidelity tests prove nothing was lost.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass, field
from pathlib import Path

from kg.errors import ValidationError

# Kanripo's own characters outside Unicode (&KR0056;) become one code point each in
# Supplementary Private Use Area-B, so offsets count them as the one glyph they are.
# (Area-A is avoided: the Kanripo sources already use a few Area-A code points as text.)
GAIJI_BASE = 0x100000

# layout item kinds
COMMENT = "c"  # a whole '#' line (header or comment), without its newline
NEWLINE = "nl"  # a newline of the source file
LINE_END = "lb"  # ¶: end of a printed line
PAGE = "pb"  # this text's own folio boundary
MILESTONE = "md"  # another edition's folio boundary inside this text
IMAGE = "img"
HEADING = "h"  # org heading stars at the start of a line, e.g. "** "
GAIJI = "g"  # &KRnnnn; stored in the text as one private-use code point
NOTE_OPEN = "("  # double-column commentary opens
NOTE_SPLIT = "/"  # commentary: the second column starts
NOTE_CLOSE = ")"  # commentary closes

_NOTE_MARKS = re.compile(r"[\[\]()/]")
_INLINE = re.compile(r"<(pb|md|img):([^>]*)>|&(KR\d+);|¶")
_HEADING = re.compile(r"\*+ ")
_PAGE_ID = re.compile(r"^(?:(?P<juan>[0-9A-Za-z]+)-)?(?P<page>.*?)(?P<folio>\d+)(?P<side>[a-z])$")


@dataclass(frozen=True, slots=True)
class PageRef:
    """A parsed ``<pb:...>`` / ``<md:...>`` value such as ``KR2a0031_WYG_001-1a``."""

    raw: str
    text_id: str | None
    edition: str
    page: str  # what follows the edition: "001-1a", "01p001a"
    juan: str | None
    folio: int | None
    side: str | None


@dataclass(slots=True)
class Juan:
    """One juan file: plain text plus everything needed to give the source back."""

    text: str
    layout: list[tuple[int, str, str]]  # (offset into text, kind, source string)
    properties: list[tuple[str, str]] = field(default_factory=list)  # #+PROPERTY KEY VALUE, in order
    title: str | None = None
    date: str | None = None

    def property(self, key: str) -> str | None:
        for k, v in self.properties:
            if k == key:
                return v
        return None

    def items(self, kind: str) -> list[tuple[int, str]]:
        return [(o, s) for o, k, s in self.layout if k == kind]


def gaiji_char(local_id: str) -> str:
    """The private-use code point that stands for a Kanripo entity such as ``KR0056``."""
    return chr(GAIJI_BASE + int(local_id[2:]))


def gaiji_id(char: str) -> str | None:
    code = ord(char) - GAIJI_BASE
    return f"KR{code:04d}" if 0 <= code < 0xFFFE else None


def parse_page_ref(raw: str, editions: frozenset[str] = frozenset()) -> PageRef:
    """Split a page-break value into text id, edition and page.

    Edition codes may contain ``-`` and ``_`` is the separator, so known edition codes of the work
    are tried first (longest first); otherwise the edition is what stands before the next ``_``.
    """
    rest = raw
    text_id = None
    m = re.match(r"([A-Z]{2}\d[a-z]\d{4})_", rest)
    if m:
        text_id, rest = m.group(1), rest[m.end():]
    edition = ""
    for code in sorted(editions, key=len, reverse=True):
        if rest.startswith(code + "_"):
            edition, rest = code, rest[len(code) + 1:]
            break
    else:
        if "_" in rest:
            edition, rest = rest.split("_", 1)
        else:
            edition, rest = rest, ""
    pm = _PAGE_ID.match(rest)
    if pm:
        return PageRef(raw, text_id, edition, rest, pm.group("juan"), int(pm.group("folio")), pm.group("side"))
    return PageRef(raw, text_id, edition, rest, None, None, None)


def decode(data: bytes, *, file: str) -> str:
    """UTF-8 or a precise error naming the line and column of the first bad byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        # column in characters (code points) of the readable start of the line, 1-based
        column = len(before[before.rfind(b"\n") + 1:].decode("utf-8", errors="replace")) + 1
        raise ValidationError(
            f"invalid UTF-8: byte 0x{data[exc.start]:02x} cannot be decoded",
            file=file,
            line=line,
            column=column,
        ) from None


def parse_juan(source: str, *, file: str = "<text>") -> Juan:
    """Split one Kanripo juan file into plain text and layout (see module doc)."""
    text: list[str] = []
    layout: list[tuple[int, str, str]] = []
    properties: list[tuple[str, str]] = []
    title = date = None
    pos = 0  # code points emitted so far

    lines = source.split("\n")
    for index, line in enumerate(lines):
        if index:
            layout.append((pos, NEWLINE, "\n"))
        if line.startswith("#"):
            layout.append((pos, COMMENT, line))
            if line.startswith("#+PROPERTY:"):
                parts = line[len("#+PROPERTY:"):].split(None, 1)
                if parts:
                    properties.append((parts[0], parts[1].strip() if len(parts) > 1 else ""))
            elif line.startswith("#+TITLE:"):
                title = line[len("#+TITLE:"):].strip()
            elif line.startswith("#+DATE:"):
                date = line[len("#+DATE:"):].strip()
            continue
        start = 0
        hm = _HEADING.match(line)
        if hm:
            layout.append((pos, HEADING, hm.group(0)))
            start = hm.end()
        for m in _INLINE.finditer(line, start):
            chunk = line[start:m.start()]
            text.append(chunk)
            pos += len(chunk)
            whole = m.group(0)
            if whole == "¶":
                layout.append((pos, LINE_END, whole))
            elif m.group(3):
                layout.append((pos, GAIJI, whole))
                text.append(gaiji_char(m.group(3)))
                pos += 1
            else:
                layout.append((pos, {"pb": PAGE, "md": MILESTONE, "img": IMAGE}[m.group(1)], whole))
            start = m.end()
        chunk = line[start:]
        text.append(chunk)
        pos += len(chunk)

    plain = "".join(text)
    plain, layout = _lift_commentary(plain, layout)
    return Juan(plain, layout, properties, title, date)


def _lift_commentary(text: str, layout: list[tuple[int, str, str]]) -> tuple[str, list[tuple[int, str, str]]]:
    """Move the ``( / )`` of double-column commentary from the text into the layout.

    Only balanced, un-nested pairs outside ``[...]`` (Kanripo's notation for a composed glyph,
    e.g. ``[((木-(企-止)+皕)/大)*毛]``) are commentary; any other parenthesis or slash stays in the
    text as the character it is. Commentary may run across lines and folio breaks.
    """
    opens: dict[int, int] = {}  # index of '(' -> index of its ')'
    splits: set[int] = set()
    bracket = 0
    open_at: int | None = None
    pending_splits: list[int] = []
    for m in _NOTE_MARKS.finditer(text):  # only these characters matter: jump from one to the next
        i, ch = m.start(), m.group()
        if ch == "[":
            bracket += 1
        elif ch == "]" and bracket:
            bracket -= 1
        elif bracket:
            continue
        elif ch == "(":
            open_at, pending_splits = (i, []) if open_at is None else (None, [])  # nested: not commentary
        elif ch == "/" and open_at is not None:
            pending_splits.append(i)
        elif ch == ")" and open_at is not None:
            opens[open_at] = i
            splits.update(pending_splits)
            open_at, pending_splits = None, []
    if not opens:
        return text, layout
    removed = {i: NOTE_OPEN for i in opens} | {j: NOTE_CLOSE for j in opens.values()} | {i: NOTE_SPLIT for i in splits}
    lifted = sorted(removed)

    # the text without the lifted characters; an old offset moves back by the lifted characters before it
    out = [text[a + 1:b] for a, b in zip([-1, *lifted], [*lifted, len(text)])]

    # merge: old layout items and the lifted characters, in source order. A lifted character at
    # old index i comes after layout items recorded at offset <= i (they stood before it).
    merged: list[tuple[int, str, str]] = []
    k = 0
    for offset, kind, src in layout:
        while k < len(lifted) and lifted[k] < offset:
            i = lifted[k]
            merged.append((i - k, removed[i], removed[i]))
            k += 1
        merged.append((offset - bisect_left(lifted, offset), kind, src))
    while k < len(lifted):
        i = lifted[k]
        merged.append((i - k, removed[i], removed[i]))
        k += 1
    return "".join(out), merged


def render_juan(text: str, layout: list[tuple[int, str, str]] | list[list]) -> str:
    """Give back the Kanripo source from plain text and layout (the inverse of parse_juan)."""
    out: list[str] = []
    pos = 0
    for offset, kind, src in layout:
        if offset > pos:
            out.append(text[pos:offset])
            pos = offset
        out.append(src)
        if kind == GAIJI:
            pos += 1  # the private-use character stands for this entity
    out.append(text[pos:])
    return "".join(out)


def read_juan(path: Path) -> Juan:
    return parse_juan(decode(path.read_bytes(), file=str(path)), file=str(path))


def strip_markup(source: str) -> str:
    """The plain text by a different road than parse_juan (regular expressions over the whole
    file); used by tests as an independent oracle for what the text must be."""
    body = "\n".join("" if ln.startswith("#") else ln for ln in source.split("\n"))
    body = re.sub(r"(?m)^\*+ ", "", body)
    body = re.sub(r"<(?:pb|md|img):[^>]*>", "", body)
    body = re.sub(r"&KR(\d+);", lambda m: chr(GAIJI_BASE + int(m.group(1))), body)
    return body.replace("¶", "").replace("\n", "")
