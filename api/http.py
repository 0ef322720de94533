"""Small HTTP helpers shared by the routes."""

from __future__ import annotations

import binascii
import re
from urllib.parse import parse_qs, quote


def accepted_media(accept: str | None) -> list[str]:
    """The media ranges of an Accept header, most preferred first (q, then order); q=0 means
    "not acceptable" and is left out (RFC 9110 §12.5.1)."""
    ranges = []
    for i, part in enumerate((accept or "").split(",")):
        fields = [f.strip() for f in part.split(";")]
        if not fields[0]:
            continue
        q = 1.0
        for f in fields[1:]:
            if f.startswith("q="):
                try:
                    q = float(f[2:])
                except ValueError:
                    q = 0.0
        if q > 0:
            ranges.append((-q, i, fields[0].lower()))
    return [media for _, _, media in sorted(ranges)]


def attachment(filename: str) -> str:
    """A Content-Disposition value for a download named ``filename``. Header values travel as
    Latin-1 and a name may come from a request (any text): an ASCII ``filename`` for every client,
    and the exact name as ``filename*`` (RFC 6266, RFC 8187) when it differs."""
    plain = re.sub(r"[^A-Za-z0-9._-]", "_", filename)
    if plain == filename:
        return f'attachment; filename="{plain}"'
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(filename, safe='')}"


_PLAIN_ESCAPED = re.compile(r"[\x21-\x7e ]*")  # printable ASCII: what a conforming form encoder sends
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def _unquote_plus(value: str) -> str:
    """``urllib.parse.unquote_plus`` with UTF-8 strict, in C: every ``%XX`` becomes ``=XX`` (and every
    ``=`` ``=3D``) for binascii's quoted-printable decoder. Only for printable ASCII with well-formed
    escapes; anything else takes the standard library's path (``parse_form`` checks)."""
    raw = value.replace("+", " ").encode("ascii")
    return binascii.a2b_qp(raw.replace(b"=", b"=3D").replace(b"%", b"=")).decode("utf-8", "strict")


def parse_form(text: str) -> dict[str, list[str]]:
    """``application/x-www-form-urlencoded`` (or a URL's query) → ``{name: [values]}``, exactly as
    ``parse_qs(text, keep_blank_values=True, encoding="utf-8", errors="strict")`` — a percent-escape
    that does not decode as UTF-8 raises ``UnicodeDecodeError``, never a replacement character.
    The standard library decodes escapes one at a time in Python (~50 µs for a SPARQL query with
    its prefixes, a twentieth of the whole request); this does the common case in C and leaves
    the rest (non-ASCII, control characters, malformed escapes) to the standard library."""
    if not _PLAIN_ESCAPED.fullmatch(text) or _BAD_ESCAPE.search(text):
        return parse_qs(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    out: dict[str, list[str]] = {}
    for pair in text.split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        out.setdefault(_unquote_plus(name), []).append(_unquote_plus(value))
    return out
