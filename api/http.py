"""Small HTTP helpers shared by the routes."""

from __future__ import annotations

import re
from urllib.parse import quote


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
