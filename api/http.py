"""Small HTTP helpers shared by the routes."""

from __future__ import annotations


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
