"""Checking IRIs that come from outside (query parameters, annotation bodies) before they reach
the store: pyoxigraph refuses a malformed IRI with a ValueError, and a ``javascript:`` link must
never be stored as if it were a resource."""

from __future__ import annotations

import re

from kg.errors import InvalidIriError

SCHEMES = ("http", "https", "urn")
MAX_LENGTH = 4096
# RFC 3987 leaves these out of an IRI; control characters and white space too
_FORBIDDEN = re.compile(r'[\x00-\x20\x7f-\x9f<>"{}|^`\\]')
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")


def iri_problem(value: str, schemes: tuple[str, ...] = SCHEMES) -> str | None:
    """What is wrong with ``value`` as an absolute IRI with one of ``schemes``; None when nothing."""
    if not value:
        return "it is empty"
    if len(value) > MAX_LENGTH:
        return f"it is longer than {MAX_LENGTH} characters"
    bad = _FORBIDDEN.search(value)
    if bad:
        return f"it contains {bad.group()!r} at position {bad.start()}, which an IRI can not hold"
    m = _SCHEME.match(value)
    if not m:
        return "it is not absolute (it needs a scheme such as https:)"
    scheme = m.group(1).lower()
    if scheme not in schemes:
        return f"its scheme {scheme}: is not allowed here (only {', '.join(s + ':' for s in schemes)})"
    rest = value[m.end():]
    if scheme in ("http", "https") and (not rest.startswith("//") or len(rest) < 3 or rest[2] in "/?#"):
        return f"an {scheme}: IRI needs a host ({scheme}://host/...)"
    if scheme == "urn" and not re.match(r"^[A-Za-z0-9][A-Za-z0-9-]{0,31}:.", rest):
        return "a urn: IRI is urn:NAMESPACE:NAME"
    try:  # the store's own parser has the last word (e.g. U+FFF0 is no IRI code point)
        import pyoxigraph

        pyoxigraph.NamedNode(value)
    except ValueError as exc:
        return str(exc)
    return None


def check_iri(value: str, *, field: str = "iri", schemes: tuple[str, ...] = SCHEMES) -> str:
    """``value`` unchanged when it is a usable IRI; else :class:`InvalidIriError` naming ``field``."""
    problem = iri_problem(value, schemes)
    if problem:
        shown = value if len(value) <= 200 else value[:200] + "…"
        raise InvalidIriError(f"{field} is not a valid IRI: {problem}: {shown!r}", field=field)
    return value
